// MemoryPlan (memory_plan.h): a repeated step is served from one arena after a warm-up and a recorded
// step; the arena is no larger than the layout needs; every tensor keeps its bytes to itself (each is
// filled with its own pattern and checked before it is freed); a tensor kept past its planned lifetime is
// never overwritten; a changed step is planned again; and a planned training step computes bit for bit
// what an unplanned one does.
#include "resnet/core/memory_plan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "resnet/core/memory.h"
#include "resnet/core/tensor.h"
#include "small_training_step.h"

using namespace resnet;

namespace {

constexpr int64_t kMiB = 1 << 20;

Tensor filled(int64_t bytes, float value) {
  Tensor t = Tensor::empty({bytes / 4});
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

bool holds(const Tensor& t, float value) {
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (p[i] != value) return false;
  return true;
}

// A forward/backward-shaped step: activations of 12, 9, 6 and 3 MiB kept for the "backward", gradients
// of 2, 2, 4, 6 and 8 MiB taken and freed one after another, a 4 KiB tensor among them: 10 buffers. `scale`
// changes every size (a different workload). Each tensor is checked for its own pattern before release, so a
// shared byte would be caught.
int step_checked(int64_t scale, Tensor* keep = nullptr) {
  int corrupted = 0;
  std::vector<Tensor> acts;
  for (int i = 0; i < 4; ++i) acts.push_back(filled((4 - i) * 3 * scale * kMiB, static_cast<float>(i)));
  Tensor small = filled(4096, 42.0f);
  Tensor grad = filled(2 * scale * kMiB, 100.0f);
  for (int i = 3; i >= 0; --i) {
    Tensor next = filled((4 - i) * 2 * scale * kMiB, static_cast<float>(100 + i));
    corrupted += !holds(grad, static_cast<float>(i == 3 ? 100 : 100 + i + 1));
    corrupted += !holds(acts[static_cast<size_t>(i)], static_cast<float>(i));
    if (keep && i == 1) *keep = acts[1];  // held past its planned lifetime
    acts[static_cast<size_t>(i)] = Tensor();
    grad = std::move(next);
  }
  corrupted += !holds(small, 42.0f) + !holds(grad, 100.0f);
  return corrupted;
}

}  // namespace

TEST(MemoryPlan, RepeatedStepsAreServedFromOneArenaWithoutSystemAllocations) {
  MemoryPlan plan;
  for (int i = 0; i < 2; ++i) {  // warm-up, then the recorded step
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
  }
  MemoryPlanStats s = plan.stats();
  EXPECT_EQ(s.plans, 1);
  EXPECT_EQ(s.planned_buffers, 10u);  // all freed within the step
  // Arena: the layout rounded up to whole 2 MiB pages; the lower bound is what the step has live at once.
  EXPECT_GE(s.arena_bytes, s.peak_live_bytes);
  EXPECT_LE(s.arena_bytes, s.peak_live_bytes * 11 / 10 + (2 << 20));
  const MemoryStats before = memory_stats();
  for (int i = 0; i < 5; ++i) {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0) << "step " << i;
  }
  s = plan.stats();
  EXPECT_EQ(s.replayed_steps, 5);
  EXPECT_EQ(s.arena_hits, 5 * 10);
  EXPECT_EQ(s.held_slot_misses, 0);
  EXPECT_EQ(memory_stats().system_allocations, before.system_allocations);
  EXPECT_EQ(memory_stats().bytes_in_use, before.bytes_in_use) << "arena slots not given back";
}

TEST(MemoryPlan, BlocksFreedOutsideTheArenaGoBackToTheSystemInsteadOfPilingUpAsSpares) {
  // The pool alone keeps one block per size freed: the step's large blocks would leave 52 MiB cached.
  release_cached_memory();
  MemoryPlan plan;
  const MemoryStats before = memory_stats();
  {
    PlannedStep warm_up(plan);
    EXPECT_EQ(step_checked(1), 0);
  }
  const MemoryStats after = memory_stats();
  EXPECT_EQ(after.bytes_cached - before.bytes_cached, 4096) << "only the small block is cached";
  EXPECT_EQ(after.bytes_returned - before.bytes_returned, 52 * kMiB);
}

TEST(MemoryPlan, ATensorKeptPastItsPlannedLifetimeIsNeverOverwritten) {
  MemoryPlan plan;
  for (int i = 0; i < 3; ++i) {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
  }
  Tensor kept;
  {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1, &kept), 0);
  }
  ASSERT_TRUE(holds(kept, 1.0f));
  for (int i = 0; i < 3; ++i) {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
    EXPECT_TRUE(holds(kept, 1.0f)) << "a later step wrote into the kept tensor's bytes";
  }
  EXPECT_GE(plan.stats().held_slot_misses, 3) << "the kept slot was handed out again";
  kept = Tensor();
  const int64_t misses = plan.stats().held_slot_misses;
  {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
  }
  EXPECT_EQ(plan.stats().held_slot_misses, misses) << "a released slot is not served again";
}

TEST(MemoryPlan, AChangedStepIsPlannedAgain) {
  MemoryPlan plan;
  for (int i = 0; i < 3; ++i) {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
  }
  EXPECT_EQ(plan.stats().plans, 1);
  for (int i = 0; i < 5; ++i) {  // two divergent steps, a recorded one, then replays
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(2), 0);
  }
  const MemoryPlanStats s = plan.stats();
  EXPECT_EQ(s.plans, 2);
  EXPECT_EQ(s.diverged_steps, 2);
  EXPECT_EQ(s.replayed_steps, 1 + 2);
  EXPECT_GE(s.arena_bytes, s.peak_live_bytes);
  EXPECT_GE(s.peak_live_bytes, static_cast<size_t>(2 * 30 * kMiB)) << "the larger step's bound";
}

TEST(MemoryPlan, OnlyTheStepsThreadIsPlanned) {
  MemoryPlan plan;
  for (int i = 0; i < 3; ++i) {
    PlannedStep step(plan);
    EXPECT_EQ(step_checked(1), 0);
    std::thread loader([] { Tensor batch = filled(5 * kMiB, 7.0f); });  // a data loader's buffer
    loader.join();
  }
  const MemoryPlanStats s = plan.stats();
  EXPECT_EQ(s.planned_buffers, 10u);
  EXPECT_EQ(s.replayed_steps, 1);
}

TEST(MemoryPlan, TensorsItServedMayOutliveIt) {
  Tensor kept;
  {
    MemoryPlan plan;
    for (int i = 0; i < 3; ++i) {
      PlannedStep step(plan);
      EXPECT_EQ(step_checked(1, i == 2 ? &kept : nullptr), 0);
    }
  }
  EXPECT_TRUE(holds(kept, 1.0f));
  kept = Tensor();  // frees the slot, then the orphaned plan and its arena
}

TEST(MemoryPlan, APlannedTrainingStepComputesExactlyWhatAnUnplannedOneDoes) {
  const auto train = [](bool planned) {
    resnet::testing::SmallTrainingStep training;
    MemoryPlan plan;
    std::vector<double> losses;
    for (int i = 0; i < 6; ++i) {
      std::optional<PlannedStep> step;
      if (planned) step.emplace(plan);
      losses.push_back(training.run());
    }
    if (planned) {
      const MemoryPlanStats s = plan.stats();
      EXPECT_EQ(s.replayed_steps, 4);
      EXPECT_GT(s.arena_hits, 4 * 50) << "a step takes ~80 buffers from the arena";
      EXPECT_EQ(s.held_slot_misses, 0);
      std::printf("[ memory ] plan: %zu slots, arena %zu bytes, lower bound %zu\n", s.planned_buffers,
                  s.arena_bytes, s.peak_live_bytes);
    }
    std::vector<float> values;
    for (auto& [n, p] : training.model->named_parameters())
      values.insert(values.end(), p->value().data<float>(), p->value().data<float>() + p->value().numel());
    return std::make_pair(losses, values);
  };
  const auto [plain_losses, plain_values] = train(false);
  const auto [planned_losses, planned_values] = train(true);
  EXPECT_EQ(planned_losses, plain_losses);
  ASSERT_EQ(planned_values.size(), plain_values.size());
  EXPECT_EQ(std::memcmp(planned_values.data(), plain_values.data(), plain_values.size() * sizeof(float)), 0)
      << "parameters after 6 planned steps differ from 6 unplanned ones";
}
