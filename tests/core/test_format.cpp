#include "resnet/core/format.h"

#include <gtest/gtest.h>

namespace resnet {
namespace {

TEST(FormatCount, ThreeSignificantDigitsAndASuffix) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(950), "950");
  EXPECT_EQ(format_count(1000), "1k");
  EXPECT_EQ(format_count(11689512), "11.7M");  // resnet18's parameters
  EXPECT_EQ(format_count(1.8186e9), "1.82G");  // resnet18's MACs at 224²
  EXPECT_EQ(format_count(2.5e13), "25T");
}

}  // namespace
}  // namespace resnet
