#include <gtest/gtest.h>

#include "resnet/core/tensor.h"

using namespace resnet;

TEST(Tensor, ChannelsLastStridesAndCopy) {
  Tensor a = Tensor::empty({2, 3, 4, 5});
  for (int64_t i = 0; i < a.numel(); ++i) a.set_flat(i, i);
  Tensor b = a.clone(Layout::channels_last);
  EXPECT_TRUE(b.is_channels_last());
  EXPECT_FALSE(b.is_contiguous());
  EXPECT_EQ(b.stride(1), 1);
  EXPECT_EQ(b.stride(3), 3);
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(b.get_flat(i), i);
  EXPECT_EQ(b.at<float>({1, 2, 3, 4}), a.at<float>({1, 2, 3, 4}));
  Tensor c = b.to(Layout::contiguous);
  EXPECT_EQ(std::memcmp(c.raw(), a.raw(), a.nbytes()), 0);
}
