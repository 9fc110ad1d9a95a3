// Bounded allocation (issue 29): the machine's usable memory, its override, and the refusal message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include "resnet/core/check.h"
#include "resnet/core/memory_budget.h"

namespace resnet {
namespace {

// Sets (or unsets, with nullptr) an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(MemoryBudget, MachineMemoryIsPhysicalOrTheCgroupLimit) {
  ScopedEnv env("RESNET_MEMORY_LIMIT", nullptr);
  const uint64_t bytes = usable_memory_bytes();
  EXPECT_GT(bytes, uint64_t{256} << 20);  // every machine this runs on has more than 256 MiB
  EXPECT_LT(bytes, uint64_t{1} << 50);    // and less than a petabyte
  const std::string source = usable_memory_source();
  EXPECT_TRUE(source == "physical memory" || source == "cgroup memory.max") << source;
}

TEST(MemoryBudget, EnvironmentOverridesTheMachine) {
  {
    ScopedEnv env("RESNET_MEMORY_LIMIT", "123456");
    EXPECT_EQ(usable_memory_bytes(), 123456u);
    EXPECT_EQ(usable_memory_source(), "RESNET_MEMORY_LIMIT");
  }
  {
    ScopedEnv env("RESNET_MEMORY_LIMIT", "2G");
    EXPECT_EQ(usable_memory_bytes(), uint64_t{2} << 30);
  }
  {
    ScopedEnv env("RESNET_MEMORY_LIMIT", "64m");
    EXPECT_EQ(usable_memory_bytes(), uint64_t{64} << 20);
  }
  for (const char* bad : {"lots", "12Q", "-5", "0", "1.5G"}) {
    ScopedEnv env("RESNET_MEMORY_LIMIT", bad);
    try {
      usable_memory_bytes();
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("RESNET_MEMORY_LIMIT='" + std::string(bad) + "'"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(MemoryBudget, RefusesAnEstimateBeyondTheMachineWithTheEstimate) {
  ScopedEnv env("RESNET_MEMORY_LIMIT", "24000000000");
  EXPECT_NO_THROW(check_memory_budget(23e9, "a thing", "make it smaller"));
  try {
    check_memory_budget(80e9, "training resnet20", "lower model.width_multiplier");
    FAIL() << "80 GB on a 24 GB machine was accepted";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(),
                 "training resnet20 needs 80.0 GB, this machine has 24.0 GB (RESNET_MEMORY_LIMIT): lower "
                 "model.width_multiplier");
  }
  // Estimates that overflowed into infinity or NaN are refused, never waved through.
  EXPECT_THROW(check_memory_budget(std::numeric_limits<double>::infinity(), "x", "y"), UserError);
  EXPECT_THROW(check_memory_budget(std::nan(""), "x", "y"), UserError);
  EXPECT_THROW(check_memory_budget(1e300, "x", "y"), UserError);
}

TEST(MemoryBudget, FormatsBytesInDecimalUnits) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(1.5e6), "1.5 MB");
  EXPECT_EQ(format_bytes(80e9), "80.0 GB");
  EXPECT_EQ(format_bytes(250e9), "250 GB");
  EXPECT_EQ(format_bytes(1.08e12), "1.1 TB");
}

}  // namespace
}  // namespace resnet
