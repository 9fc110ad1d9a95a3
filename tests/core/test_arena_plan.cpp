// plan_arena (arena_plan.h): buffers live at the same time never share a byte, offsets are aligned, and
// the arena stays close to its lower bound, the most bytes live at once.
#include "resnet/core/arena_plan.h"

#include <gtest/gtest.h>

#include "resnet/core/check.h"
#include "resnet/core/rng.h"

using namespace resnet;

namespace {

void expect_no_live_overlap(const std::vector<BufferLifetime>& buffers, const ArenaLayout& layout,
                            size_t alignment) {
  ASSERT_EQ(layout.offsets.size(), buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(layout.offsets[i] % alignment, 0u) << "buffer " << i;
    EXPECT_LE(layout.offsets[i] + buffers[i].bytes, layout.total_bytes) << "buffer " << i;
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const bool live_together = buffers[i].first < buffers[j].last && buffers[j].first < buffers[i].last;
      const bool share_bytes = layout.offsets[i] < layout.offsets[j] + buffers[j].bytes &&
                               layout.offsets[j] < layout.offsets[i] + buffers[i].bytes;
      EXPECT_FALSE(live_together && share_bytes) << "buffers " << i << " and " << j;
    }
  }
}

}  // namespace

TEST(ArenaPlan, BuffersLiveOneAfterAnotherShareTheirBytes) {
  // A freed at event 2, B created at 2: the free comes first, so the two are never live together.
  const std::vector<BufferLifetime> buffers = {{640, 0, 2}, {320, 2, 4}, {128, 4, 5}};
  const ArenaLayout layout = plan_arena(buffers);
  EXPECT_EQ(layout.offsets, (std::vector<size_t>{0, 0, 0}));
  EXPECT_EQ(layout.total_bytes, 640u);
  EXPECT_EQ(peak_live_bytes(buffers), 640u);
}

TEST(ArenaPlan, BuffersLiveTogetherAreStacked) {
  const std::vector<BufferLifetime> buffers = {{64, 0, 10}, {192, 1, 9}, {128, 2, 8}};
  const ArenaLayout layout = plan_arena(buffers);
  expect_no_live_overlap(buffers, layout, 64);
  EXPECT_EQ(layout.total_bytes, 384u);
  EXPECT_EQ(peak_live_bytes(buffers), 384u);
}

TEST(ArenaPlan, ABufferTakesTheGapThatFitsItBest) {
  // Layout after the two large ones: [0, 512) big, [512, 768) mid, both dead by event 4; then at event 4 a
  // 512-byte and a 256-byte buffer live from 4 to 8 (taking the freed bytes), and one of 64 bytes from 5
  // to 6 that is live with both: above them at 768, since no gap lies between.
  const std::vector<BufferLifetime> buffers = {
      {512, 0, 4}, {256, 1, 4}, {512, 4, 8}, {256, 4, 8}, {64, 5, 6}};
  const ArenaLayout layout = plan_arena(buffers);
  expect_no_live_overlap(buffers, layout, 64);
  EXPECT_EQ(layout.total_bytes, 832u);
  EXPECT_EQ(peak_live_bytes(buffers), 832u);

  // Two gaps once A and F die at event 2: [0, 512) where A was and [960, 1088) where F was, between
  // long-lived G and K. H (64 bytes) takes the tighter one, F's.
  const std::vector<BufferLifetime> holed = {{512, 0, 2}, {256, 0, 10}, {192, 0, 10},
                                             {128, 0, 2}, {128, 0, 10}, {64, 3, 10}};
  const ArenaLayout holed_layout = plan_arena(holed);
  expect_no_live_overlap(holed, holed_layout, 64);
  EXPECT_EQ(holed_layout.offsets, (std::vector<size_t>{0, 512, 768, 960, 1088, 960}));
  EXPECT_EQ(holed_layout.total_bytes, 1216u);
  EXPECT_EQ(peak_live_bytes(holed), 1216u);
}

TEST(ArenaPlan, RandomWorkloadsStayCloseToTheLowerBound) {
  Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<BufferLifetime> buffers;
    for (int i = 0; i < 300; ++i) {
      const auto first = static_cast<int64_t>(rng.below(1000));
      const auto length = 1 + static_cast<int64_t>(rng.below(100));
      const size_t bytes = 4096 * (1 + rng.below(64));
      buffers.push_back({bytes, first, first + length});
    }
    const ArenaLayout layout = plan_arena(buffers, 4096);
    expect_no_live_overlap(buffers, layout, 4096);
    const size_t bound = peak_live_bytes(buffers);
    EXPECT_GE(layout.total_bytes, bound);
    // Random lifetimes are harder than a network's nested ones; greedy-by-size stays within ~1.2× on
    // them (measured: 1.00–1.18× over these seeds). 1.3× would mean the best-fit search is broken.
    EXPECT_LE(static_cast<double>(layout.total_bytes), 1.3 * static_cast<double>(bound)) << "trial " << trial;
  }
}

TEST(ArenaPlan, RejectsMisalignedSizesAndEmptyLifetimes) {
  EXPECT_THROW(plan_arena({{100, 0, 1}}, 64), CheckError);
  EXPECT_THROW(plan_arena({{128, 3, 3}}, 64), CheckError);
  EXPECT_THROW(plan_arena({{128, 0, 1}}, 48), CheckError);
}
