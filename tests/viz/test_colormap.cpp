// Colormaps against their published colours, luminance that rises along the sequential maps, colorize()
// with automatic and given ranges, and bilinear resizing against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <tuple>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/colormap.h"

namespace resnet::viz {
namespace {

Rgb hex(uint32_t v) {
  return {static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// Each channel within `tolerance` of the expected colour.
::testing::AssertionResult near(Rgb actual, Rgb expected, int tolerance) {
  const auto off = [&](uint8_t a, uint8_t e) { return std::abs(int(a) - int(e)) > tolerance; };
  if (off(actual.r, expected.r) || off(actual.g, expected.g) || off(actual.b, expected.b))
    return ::testing::AssertionFailure()
           << "got (" << int(actual.r) << ", " << int(actual.g) << ", " << int(actual.b) << "), expected ("
           << int(expected.r) << ", " << int(expected.g) << ", " << int(expected.b) << ") +- " << tolerance;
  return ::testing::AssertionSuccess();
}

// Relative luminance (sRGB linearised, Rec. 709 weights).
double luminance(Rgb c) {
  const auto linear = [](uint8_t v) {
    const double u = v / 255.0;
    return u <= 0.04045 ? u / 12.92 : std::pow((u + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

TEST(VizColormapTest, EndpointsAndMidpointsMatchThePublishedColours) {
  EXPECT_EQ(colormap(Colormap::kViridis, 0), hex(0x440154));
  EXPECT_TRUE(near(colormap(Colormap::kViridis, 1), hex(0xfde725), 1));
  EXPECT_TRUE(near(colormap(Colormap::kViridis, 0.5), hex(0x21918c), 2));  // matplotlib's viridis(0.5)
  EXPECT_TRUE(near(colormap(Colormap::kViridis, 0.25), hex(0x3b528b), 2));
  EXPECT_TRUE(near(colormap(Colormap::kInferno, 0), hex(0x000004), 1));
  EXPECT_TRUE(near(colormap(Colormap::kInferno, 1), hex(0xfcffa4), 1));
  EXPECT_TRUE(near(colormap(Colormap::kInferno, 0.5), hex(0xbc3754), 3));  // matplotlib's inferno(0.5)
  EXPECT_EQ(colormap(Colormap::kBlueWhiteRed, 0), hex(0x053061));
  EXPECT_EQ(colormap(Colormap::kBlueWhiteRed, 0.5), hex(0xf7f7f7));
  EXPECT_EQ(colormap(Colormap::kBlueWhiteRed, 1), hex(0x67001f));
  // The diverging map is blue below the middle and red above it.
  const Rgb low = colormap(Colormap::kBlueWhiteRed, 0.2), high = colormap(Colormap::kBlueWhiteRed, 0.8);
  EXPECT_GT(low.b, low.r);
  EXPECT_GT(high.r, high.b);
  EXPECT_TRUE(is_diverging(Colormap::kBlueWhiteRed));
  EXPECT_FALSE(is_diverging(Colormap::kViridis));
}

TEST(VizColormapTest, GrayIsLinear) {
  for (int i = 0; i <= 255; ++i) {
    const Rgb c = colormap(Colormap::kGray, i / 255.0);
    EXPECT_EQ(c, (Rgb{uint8_t(i), uint8_t(i), uint8_t(i)})) << i;
  }
  EXPECT_EQ(colormap(Colormap::kGray, 0.5), (Rgb{128, 128, 128}));
}

TEST(VizColormapTest, OutOfRangeIsClampedAndNanIsTheLowEnd) {
  for (Colormap m : {Colormap::kViridis, Colormap::kInferno, Colormap::kGray, Colormap::kBlueWhiteRed}) {
    EXPECT_EQ(colormap(m, -3), colormap(m, 0));
    EXPECT_EQ(colormap(m, 7), colormap(m, 1));
    EXPECT_EQ(colormap(m, INFINITY), colormap(m, 1));
    EXPECT_EQ(colormap(m, NAN), colormap(m, 0));
  }
}

TEST(VizColormapTest, SequentialMapsHaveRisingLuminance) {
  // At the 256 levels of an 8-bit lookup table, never falling by more than the rounding of one channel to
  // 8 bits can cost (a channel that falls by one level while the rising ones stay: < 0.001 here), and
  // clearly rising from one eighth of the range to the next.
  for (Colormap m : {Colormap::kViridis, Colormap::kInferno, Colormap::kGray}) {
    double previous = -1;
    for (int i = 0; i <= 255; ++i) {
      const double l = luminance(colormap(m, i / 255.0));
      ASSERT_GE(l, previous - 0.001) << colormap_name(m) << " at t = " << i << "/255";
      previous = l;
    }
    for (int i = 0; i < 8; ++i)
      EXPECT_GT(luminance(colormap(m, (i + 1) / 8.0)), luminance(colormap(m, i / 8.0)) + 0.01)
          << colormap_name(m) << " from " << i << "/8";
    EXPECT_GT(luminance(colormap(m, 1)) - luminance(colormap(m, 0)), 0.7) << colormap_name(m);
  }
}

TEST(VizColormapTest, NamesRoundTrip) {
  for (Colormap m : {Colormap::kViridis, Colormap::kInferno, Colormap::kGray, Colormap::kBlueWhiteRed})
    EXPECT_EQ(colormap_from_name(colormap_name(m)), m);
  EXPECT_EQ(colormap_from_name("viridis"), Colormap::kViridis);
  EXPECT_EQ(colormap_from_name("bwr"), Colormap::kBlueWhiteRed);
  EXPECT_EQ(colormap_from_name("jet"), std::nullopt);
  EXPECT_EQ(colormap_from_name(""), std::nullopt);
}

TEST(VizColormapTest, Tab10AndClassColours) {
  EXPECT_EQ(tab10(0), (Rgb{31, 119, 180}));
  EXPECT_EQ(tab10(3), (Rgb{214, 39, 40}));
  EXPECT_EQ(tab10(9), (Rgb{23, 190, 207}));
  EXPECT_EQ(tab10(10), tab10(0));
  EXPECT_EQ(tab10(-1), tab10(9));
  std::set<std::tuple<int, int, int>> seen;
  for (int64_t id = 0; id < 40; ++id) {
    const Rgb c = class_color(id);
    if (id < 10) {
      EXPECT_EQ(c, tab10(id));
    }
    EXPECT_TRUE(seen.insert({c.r, c.g, c.b}).second) << "class " << id << " repeats a colour";
  }
  EXPECT_THROW(class_color(-1), CheckError);
}

TEST(VizColormapTest, ColorizeWithTheAutomaticRange) {
  const FloatMap map{.height = 2, .width = 3, .values = {2, 4, 6, NAN, 3, 5}};
  const ValueRange range = auto_range(map, Colormap::kViridis);
  EXPECT_EQ(range.lo, 2);
  EXPECT_EQ(range.hi, 6);
  const data::Image image = colorize(map, Colormap::kViridis);
  ASSERT_EQ(image.channels, 3);
  ASSERT_EQ(image.height, 2);
  ASSERT_EQ(image.width, 3);
  ASSERT_EQ(image.pixels.size(), 18u);
  for (size_t i = 0; i < 6; ++i) {
    const double v = map.values[i];
    const Rgb expected =
        std::isnan(v) ? colormap(Colormap::kViridis, 0) : colormap(Colormap::kViridis, (v - 2) / 4);
    EXPECT_EQ((Rgb{image.pixels[i], image.pixels[6 + i], image.pixels[12 + i]}), expected) << "pixel " << i;
  }
  EXPECT_EQ(image.pixels[0], 0x44);  // the minimum is the map's first colour
  EXPECT_EQ(image.pixels[2], colormap(Colormap::kViridis, 1).r);
}

TEST(VizColormapTest, ColorizeDivergingIsSymmetricAboutZero) {
  const FloatMap map{.height = 1, .width = 4, .values = {-1, 0, 2, INFINITY}};
  const ValueRange range = auto_range(map, Colormap::kBlueWhiteRed);
  EXPECT_EQ(range.lo, -2);
  EXPECT_EQ(range.hi, 2);
  const data::Image image = colorize(map, Colormap::kBlueWhiteRed);
  const auto pixel = [&](int i) { return Rgb{image.pixels[i], image.pixels[4 + i], image.pixels[8 + i]}; };
  EXPECT_EQ(pixel(0), colormap(Colormap::kBlueWhiteRed, 0.25));
  EXPECT_EQ(pixel(1), hex(0xf7f7f7));  // zero is the neutral middle
  EXPECT_EQ(pixel(2), hex(0x67001f));
  EXPECT_EQ(pixel(3), hex(0xf7f7f7));  // non-finite: neutral
}

TEST(VizColormapTest, ColorizeWithAGivenRangeClampsAndAFlatMapIsTheMiddle) {
  const FloatMap map{.height = 1, .width = 3, .values = {-5, 0.5, 9}};
  const data::Image image = colorize(map, Colormap::kGray, ValueRange{0, 1});
  EXPECT_EQ(image.pixels[0], 0);
  EXPECT_EQ(image.pixels[1], 128);
  EXPECT_EQ(image.pixels[2], 255);
  const data::Image flat =
      colorize(FloatMap{.height = 2, .width = 2, .values = {3, 3, 3, 3}}, Colormap::kGray);
  for (uint8_t v : flat.pixels) EXPECT_EQ(v, 128);
  const data::Image none = colorize(FloatMap{.height = 1, .width = 2, .values = {NAN, NAN}}, Colormap::kGray);
  for (uint8_t v : none.pixels) EXPECT_EQ(v, 0);
}

TEST(VizColormapTest, ColorizeBrokenContractsThrowCheckError) {
  EXPECT_THROW(colorize(FloatMap{.height = 2, .width = 2, .values = {1, 2, 3}}), CheckError);
  EXPECT_THROW(colorize(FloatMap{}), CheckError);
  const FloatMap ok{.height = 1, .width = 2, .values = {1, 2}};
  EXPECT_THROW(colorize(ok, Colormap::kViridis, ValueRange{1, 1}), CheckError);
  EXPECT_THROW(colorize(ok, Colormap::kViridis, ValueRange{2, 1}), CheckError);
  EXPECT_THROW(colorize(ok, Colormap::kViridis, ValueRange{0, NAN}), CheckError);
  EXPECT_THROW(resize_bilinear(ok, 0, 3), CheckError);
}

TEST(VizColormapTest, BilinearUpsamplingUsesHalfPixelCentres) {
  // A linear function v = 2 * y + x is reproduced exactly by bilinear interpolation, at the source
  // coordinates (o + 0.5) / 2 - 0.5 clamped to [0, 1]: 0, 0.25, 0.75, 1.
  const FloatMap map{.height = 2, .width = 2, .values = {0, 1, 2, 3}};
  const FloatMap up = resize_bilinear(map, 4, 4);
  ASSERT_EQ(up.height, 4);
  ASSERT_EQ(up.width, 4);
  const double s[4] = {0, 0.25, 0.75, 1};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(up.values[y * 4 + x], 2 * s[y] + s[x]) << y << "," << x;
}

TEST(VizColormapTest, BilinearDownsamplingAndIdentity) {
  // 4x4 -> 2x2 samples at 0.5 and 2.5: the mean of each 2x2 block.
  FloatMap map{.height = 4, .width = 4, .values = {}};
  for (int i = 0; i < 16; ++i) map.values.push_back(static_cast<float>(i * i % 7));
  const FloatMap down = resize_bilinear(map, 2, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) {
      const auto at = [&](int yy, int xx) { return map.values[yy * 4 + xx]; };
      const double mean =
          (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4.0;
      EXPECT_FLOAT_EQ(down.values[y * 2 + x], mean);
    }
  EXPECT_EQ(resize_bilinear(map, 4, 4).values, map.values);
  // A NaN reaches only the outputs that weigh it.
  const FloatMap gap = resize_bilinear(FloatMap{.height = 1, .width = 3, .values = {0, NAN, 2}}, 1, 3);
  EXPECT_EQ(gap.values[0], 0);
  EXPECT_TRUE(std::isnan(gap.values[1]));
  EXPECT_EQ(gap.values[2], 2);
}

}  // namespace
}  // namespace resnet::viz
