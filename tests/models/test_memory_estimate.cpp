// Bounded allocation (issue 29): a network's memory estimated from its spec, and networks beyond the
// machine refused before a parameter is allocated.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "resnet/core/check.h"
#include "resnet/models/memory_estimate.h"
#include "resnet/models/registry.h"

namespace resnet::models {
namespace {

double counted(ResNet& model, bool buffers) {
  double n = 0;
  if (buffers) {
    for (auto& [name, b] : model.named_buffers())
      if (b->dtype() == DType::f32) n += static_cast<double>(b->numel());
  } else {
    for (auto& [name, p] : model.named_parameters()) n += static_cast<double>(p->value().numel());
  }
  return n;
}

// The estimate walks the spec as the ResNet constructor builds it: its parameter and BN statistic counts
// are exact for every block and shortcut kind.
TEST(MemoryEstimate, CountsEveryParameterOfTheZoo) {
  for (const char* name :
       {"resnet20", "resnet56", "plain20", "resnet18", "plain18", "resnet50", "resnext50_32x4d",
        "wide_resnet50_2", "preact_resnet18", "preact_resnet164", "wrn_16_4"}) {
    auto model = create_model(name);
    const MemoryEstimate e = estimate_memory(model->spec(), 32, 32);
    EXPECT_EQ(e.parameters, counted(*model, false)) << name;
    EXPECT_EQ(e.buffers, counted(*model, true)) << name;
  }
  ModelOptions wide{.num_classes = 7, .in_channels = 1, .width_multiplier = 2.5};
  auto model = create_model("resnet20", wide);
  EXPECT_EQ(estimate_memory(model_spec("resnet20", wide), 28, 28).parameters, counted(*model, false));
}

TEST(MemoryEstimate, TrainingEstimateIsConservativeButNotAbsurd) {
  // The step arena of resnet20 on 128 CIFAR images peaks near 230 MB (README); the estimate must not be
  // below that, nor wildly above it.
  const double bytes = training_bytes(model_spec("resnet20", {}), 128, 3, 32, 32, false, 4);
  EXPECT_GT(bytes, 230e6);
  EXPECT_LT(bytes, 1e9);
  // Doubling the batch roughly doubles it; evaluation needs far less than training.
  EXPECT_GT(training_bytes(model_spec("resnet20", {}), 256, 3, 32, 32, false, 4), 1.8 * bytes);
  EXPECT_LT(inference_bytes(model_spec("resnet20", {}), 128, 3, 32, 32), bytes / 4);
}

class MemoryLimit : public ::testing::Test {
 protected:
  void SetUp() override { setenv("RESNET_MEMORY_LIMIT", "100M", 1); }
  void TearDown() override { unsetenv("RESNET_MEMORY_LIMIT"); }
};

// resnet20 at width 8 has 17 M parameters (69 MB) and fits a 100 MiB machine; at width 10 it has 27 M
// (107 MB) and is refused by the constructor, naming the widths and what to change.
TEST_F(MemoryLimit, ANetworkBeyondTheMachineIsRefusedBeforeItIsBuilt) {
  EXPECT_NO_THROW(create_model("resnet20", {.width_multiplier = 8}));
  try {
    create_model("resnet20", {.width_multiplier = 10});
    FAIL() << "a 107 MB network was built on a 100 MiB machine";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("stage widths [160, 320, 640]"), std::string::npos) << what;
    EXPECT_NE(what.find("(26.8M parameters) needs 107 MB, this machine has 105 MB (RESNET_MEMORY_LIMIT)"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("model.width_multiplier"), std::string::npos) << what;
  }
}

TEST_F(MemoryLimit, TrainingAndInferenceChecksGiveTheEstimate) {
  const ResNetSpec spec = model_spec("resnet20", {.in_channels = 1});
  EXPECT_NO_THROW(check_training_fits(spec, 32, 1, 28, 28, false, 4, "training resnet20"));
  try {
    check_training_fits(spec, 4096, 1, 28, 28, false, 4, "training resnet20");
    FAIL();
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("training resnet20 (269k parameters"), std::string::npos) << what;
    EXPECT_NE(what.find("on batches of 4096 1×28×28 images needs"), std::string::npos) << what;
    EXPECT_NE(what.find("optim.batch_size"), std::string::npos) << what;
  }
  EXPECT_THROW(check_inference_fits(spec, 100000, 1, 28, 28, "evaluating", "lower --batch-size"), UserError);
}

// Without any override: a width multiplier of 1000 (the report) is refused with an estimate in
// terabytes on any machine, and saturated multipliers do not overflow into a small network.
TEST(MemoryEstimate, AbsurdWidthsAreRefusedOnAnyMachine) {
  for (double width : {1000.0, 1e9, 1e300}) {
    try {
      create_model("resnet20", {.width_multiplier = width});
      FAIL() << "width " << width << " was built";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("needs"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace resnet::models
