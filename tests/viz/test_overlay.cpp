// Heat maps and masks over images: every pixel against the blending formula computed here, resizing of a
// smaller map, grey images made RGB, ignored classes left alone, and broken contracts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/overlay.h"

namespace resnet::viz {
namespace {

data::Image test_image(int64_t channels, int64_t height, int64_t width) {
  data::Image image;
  image.resize(channels, height, width);
  for (size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return image;
}

uint8_t expected_blend(uint8_t under, uint8_t over, double alpha) {
  return static_cast<uint8_t>(std::lround((1 - alpha) * under + alpha * over));
}

Rgb pixel(const data::Image& image, int64_t i) {
  const int64_t n = image.height * image.width;
  return {image.pixels[i], image.pixels[n + i], image.pixels[2 * n + i]};
}

TEST(VizOverlayTest, HeatmapBlendsEveryPixelByTheFormula) {
  const data::Image image = test_image(3, 4, 5);
  FloatMap map{.height = 4, .width = 5, .values = {}};
  for (int i = 0; i < 20; ++i) map.values.push_back(std::sin(0.7 * i) * 3 + 1);
  double lo = INFINITY, hi = -INFINITY;
  for (float v : map.values) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  const double alpha = 0.3;
  const data::Image out = overlay_heatmap(image, map, {.colormap = Colormap::kViridis, .alpha = alpha});
  ASSERT_EQ(out.channels, 3);
  ASSERT_EQ(out.height, 4);
  ASSERT_EQ(out.width, 5);
  for (int64_t i = 0; i < 20; ++i) {
    const Rgb c = colormap(Colormap::kViridis, (map.values[i] - lo) / (hi - lo));
    const Rgb under = pixel(image, i);
    const Rgb expected{expected_blend(under.r, c.r, alpha), expected_blend(under.g, c.g, alpha),
                       expected_blend(under.b, c.b, alpha)};
    EXPECT_EQ(pixel(out, i), expected) << "pixel " << i;
  }
}

TEST(VizOverlayTest, HeatmapAlphaZeroIsTheImageAndOneIsTheMap) {
  const data::Image image = test_image(3, 3, 3);
  const FloatMap map{.height = 3, .width = 3, .values = {-4, -2, 0, 1, 2, 3, 4, 5, 6}};
  EXPECT_EQ(overlay_heatmap(image, map, {.alpha = 0}).pixels, image.pixels);
  const HeatmapStyle opaque{.colormap = Colormap::kBlueWhiteRed, .range = ValueRange{-4, 4}, .alpha = 1};
  EXPECT_EQ(overlay_heatmap(image, map, opaque).pixels,
            colorize(map, Colormap::kBlueWhiteRed, ValueRange{-4, 4}).pixels);
}

TEST(VizOverlayTest, HeatmapOnAGreyImageIsRgb) {
  const data::Image grey = test_image(1, 2, 3);
  const FloatMap map{.height = 2, .width = 3, .values = {0, 1, 2, 3, 4, 5}};
  const data::Image out = overlay_heatmap(grey, map, {.colormap = Colormap::kGray, .alpha = 0.25});
  ASSERT_EQ(out.channels, 3);
  for (int64_t i = 0; i < 6; ++i) {
    const uint8_t g = colormap(Colormap::kGray, map.values[i] / 5.0).r;
    const uint8_t v = expected_blend(grey.pixels[i], g, 0.25);
    EXPECT_EQ(pixel(out, i), (Rgb{v, v, v})) << i;
  }
}

TEST(VizOverlayTest, SmallerHeatmapIsResizedBilinearlyKeepingItsRange) {
  // A 2x2 map over a 4x4 image: the values at half-pixel centres are 2 * s[y] + s[x] with s = 0, 0.25,
  // 0.75, 1; the range stays the map's own [0, 3].
  const data::Image image = test_image(3, 4, 4);
  const FloatMap map{.height = 2, .width = 2, .values = {0, 1, 2, 3}};
  const data::Image out = overlay_heatmap(image, map, {.colormap = Colormap::kInferno, .alpha = 0.6});
  const double s[4] = {0, 0.25, 0.75, 1};
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) {
      const Rgb c = colormap(Colormap::kInferno, (2 * s[y] + s[x]) / 3);
      const Rgb under = pixel(image, y * 4 + x);
      EXPECT_EQ(pixel(out, y * 4 + x),
                (Rgb{expected_blend(under.r, c.r, 0.6), expected_blend(under.g, c.g, 0.6),
                     expected_blend(under.b, c.b, 0.6)}))
          << y << "," << x;
    }
}

TEST(VizOverlayTest, HeatmapBrokenContractsThrowCheckError) {
  const data::Image image = test_image(3, 2, 2);
  const FloatMap map{.height = 2, .width = 2, .values = {0, 1, 2, 3}};
  EXPECT_THROW(overlay_heatmap(image, map, {.alpha = 1.5}), CheckError);
  EXPECT_THROW(overlay_heatmap(image, map, {.alpha = -0.1}), CheckError);
  EXPECT_THROW(overlay_heatmap(image, map, {.alpha = NAN}), CheckError);
  EXPECT_THROW(overlay_heatmap(image, map, {.range = ValueRange{1, 0}}), CheckError);
  EXPECT_THROW(overlay_heatmap(image, FloatMap{.height = 2, .width = 2, .values = {1}}), CheckError);
  EXPECT_THROW(overlay_heatmap(test_image(2, 2, 2), map), CheckError);
  data::Image short_pixels = image;
  short_pixels.pixels.pop_back();
  EXPECT_THROW(overlay_heatmap(short_pixels, map), CheckError);
  EXPECT_THROW(overlay_heatmap(data::Image{}, map), CheckError);
}

TEST(VizOverlayTest, MaskBlendsClassColoursAndSkipsIgnoredPixels) {
  const data::Image image = test_image(3, 3, 4);
  const ClassMap mask{
      .height = 3, .width = 4, .classes = {0, 1, -1, 255, 2, 2, 12, 0, kIgnoreClass, 3, 1, kIgnoreLabel}};
  const double alpha = 0.4;
  const data::Image out = overlay_mask(image, mask, alpha);
  ASSERT_EQ(out.channels, 3);
  for (int64_t i = 0; i < 12; ++i) {
    const int32_t c = mask.classes[i];
    const Rgb under = pixel(image, i);
    if (c == -1 || c == 255) {
      EXPECT_EQ(pixel(out, i), under) << "ignored pixel " << i << " changed";
      continue;
    }
    const Rgb k = class_color(c);
    EXPECT_EQ(pixel(out, i), (Rgb{expected_blend(under.r, k.r, alpha), expected_blend(under.g, k.g, alpha),
                                  expected_blend(under.b, k.b, alpha)}))
        << "pixel " << i << " class " << c;
  }
  EXPECT_EQ(class_color(1), (Rgb{255, 127, 14}));  // tab10's orange
}

TEST(VizOverlayTest, MaskWithAPaletteOnAGreyImage) {
  const data::Image grey = test_image(1, 2, 2);
  const std::vector<Rgb> palette = {{255, 0, 0}, {0, 0, 255}};
  const data::Image out =
      overlay_mask(grey, ClassMap{.height = 2, .width = 2, .classes = {0, 1, 255, 1}}, 1.0, palette);
  ASSERT_EQ(out.channels, 3);
  EXPECT_EQ(pixel(out, 0), (Rgb{255, 0, 0}));
  EXPECT_EQ(pixel(out, 1), (Rgb{0, 0, 255}));
  EXPECT_EQ(pixel(out, 2), (Rgb{grey.pixels[2], grey.pixels[2], grey.pixels[2]}));
  EXPECT_EQ(pixel(out, 3), (Rgb{0, 0, 255}));
}

TEST(VizOverlayTest, MaskBrokenContractsThrowCheckError) {
  const data::Image image = test_image(3, 2, 2);
  EXPECT_THROW(overlay_mask(image, ClassMap{.height = 2, .width = 3, .classes = {0, 0, 0, 0, 0, 0}}),
               CheckError);
  EXPECT_THROW(overlay_mask(image, ClassMap{.height = 2, .width = 2, .classes = {0, 0, 0}}), CheckError);
  EXPECT_THROW(overlay_mask(image, ClassMap{.height = 2, .width = 2, .classes = {0, -2, 0, 0}}), CheckError);
  EXPECT_THROW(
      overlay_mask(image, ClassMap{.height = 2, .width = 2, .classes = {0, 2, 0, 0}}, 0.5, {{1, 2, 3}}),
      CheckError);
  EXPECT_THROW(overlay_mask(image, ClassMap{.height = 2, .width = 2, .classes = {0, 0, 0, 0}}, 2.0),
               CheckError);
}

}  // namespace
}  // namespace resnet::viz
