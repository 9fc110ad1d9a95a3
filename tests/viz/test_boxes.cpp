// Detection boxes: outlines on exactly the pixels the contract names (checked against every pixel of the
// image), clipping at the borders, label tags above or inside the box with legible text, and contracts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/boxes.h"

namespace resnet::viz {
namespace {

data::Image grey_image(int64_t height, int64_t width, uint8_t value) {
  data::Image image;
  image.resize(1, height, width);
  std::fill(image.pixels.begin(), image.pixels.end(), value);
  return image;
}

Rgb at(const data::Image& image, int64_t x, int64_t y) {
  const int64_t n = image.height * image.width, i = y * image.width + x;
  return {image.pixels[i], image.pixels[n + i], image.pixels[2 * n + i]};
}

// The outline pixels of the box with integer edges [x0, x1) x [y0, y1) and line width lw.
bool on_outline(int64_t x, int64_t y, int64_t x0, int64_t y0, int64_t x1, int64_t y1, int64_t lw) {
  const bool inside = x >= x0 && x < x1 && y >= y0 && y < y1;
  return inside && (x < x0 + lw || x >= x1 - lw || y < y0 + lw || y >= y1 - lw);
}

TEST(VizBoxesTest, OutlineCoversExactlyTheContractPixels) {
  const data::Image image = grey_image(20, 30, 100);
  // Fractional edges round to the nearest pixel edge: (4.6, 3.4, 14.5, 12.49) -> [5, 15) x [3, 12).
  const data::Image out = draw_boxes(
      image, {Box{.x0 = 4.6, .y0 = 3.4, .x1 = 14.5, .y1 = 12.49, .class_id = 2}}, {.line_width = 2});
  ASSERT_EQ(out.channels, 3);
  ASSERT_EQ(out.height, 20);
  ASSERT_EQ(out.width, 30);
  int painted = 0;
  for (int64_t y = 0; y < 20; ++y)
    for (int64_t x = 0; x < 30; ++x) {
      const bool outline = on_outline(x, y, 5, 3, 15, 12, 2);
      painted += outline;
      EXPECT_EQ(at(out, x, y), outline ? tab10(2) : (Rgb{100, 100, 100}))
          << "pixel (" << x << ", " << y << ")";
    }
  EXPECT_EQ(painted, 10 * 9 - 6 * 5);
}

TEST(VizBoxesTest, BoxesAreClippedAtTheBorders) {
  const data::Image image = grey_image(16, 24, 50);
  const std::vector<Box> boxes = {
      Box{.x0 = -10, .y0 = -10, .x1 = 10, .y1 = 10, .class_id = 0},          // top-left corner sticks out
      Box{.x0 = 18, .y0 = 8, .x1 = 40, .y1 = 30, .class_id = 1},             // bottom-right sticks out
      Box{.x0 = 100, .y0 = 100, .x1 = 200, .y1 = 200, .class_id = 3},        // wholly outside
      Box{.x0 = -1e30, .y0 = -1e30, .x1 = 1e30, .y1 = 1e30, .class_id = 4},  // enormous: edges outside
      Box{.x0 = 5, .y0 = 5, .x1 = 5, .y1 = 9, .class_id = 5},                // empty
  };
  const data::Image out = draw_boxes(image, boxes, {.line_width = 3});
  for (int64_t y = 0; y < 16; ++y)
    for (int64_t x = 0; x < 24; ++x) {
      Rgb expected{50, 50, 50};
      if (on_outline(x, y, -10, -10, 10, 10, 3)) expected = tab10(0);
      if (on_outline(x, y, 18, 8, 40, 30, 3)) expected = tab10(1);  // drawn later: on top
      EXPECT_EQ(at(out, x, y), expected) << "pixel (" << x << ", " << y << ")";
    }
  EXPECT_EQ(at(out, 8, 3), tab10(0));           // the first box's right edge
  EXPECT_EQ(at(out, 3, 3), (Rgb{50, 50, 50}));  // its inside
}

TEST(VizBoxesTest, FixedColourOverridesTheClassColour) {
  const data::Image out =
      draw_boxes(grey_image(10, 10, 0), {Box{.x0 = 0, .y0 = 0, .x1 = 10, .y1 = 10, .class_id = 7}},
                 {.line_width = 1, .color = Rgb{1, 2, 3}});
  EXPECT_EQ(at(out, 0, 0), (Rgb{1, 2, 3}));
  EXPECT_EQ(at(out, 9, 5), (Rgb{1, 2, 3}));
  EXPECT_EQ(at(out, 5, 5), (Rgb{0, 0, 0}));
}

// Rows above (x, y_bottom) that are the tag's colour in column x: the tag's height.
int64_t run_up(const data::Image& image, int64_t x, int64_t y_bottom, Rgb color) {
  int64_t h = 0;
  while (y_bottom - h >= 0 && at(image, x, y_bottom - h) == color) ++h;
  return h;
}

TEST(VizBoxesTest, LabelTagSitsAboveTheBoxWithLegibleText) {
  const data::Image image = grey_image(60, 80, 128);
  const Box box{.x0 = 10, .y0 = 30, .x1 = 50, .y1 = 55, .class_id = 0, .label = "cat 0.93"};
  const data::Image out = draw_boxes(image, {box}, {.line_width = 2, .font_px = 12});
  const Rgb blue = tab10(0);
  // The tag's left padding column is solid class colour from just above the box upwards.
  const int64_t tag_h = run_up(out, 10, 29, blue);
  EXPECT_GE(tag_h, 12);
  EXPECT_LE(tag_h, 20);
  EXPECT_EQ(at(out, 10, 29 - tag_h), (Rgb{128, 128, 128}));  // above the tag: the image
  // White text (tab10 blue is dark) inside the tag, and nothing outside its rows but the box.
  int white = 0, width = 0;
  for (int64_t x = 10; x < 80 && at(out, x, 29) != Rgb{128, 128, 128}; ++x) ++width;
  for (int64_t y = 30 - tag_h; y < 30; ++y)
    for (int64_t x = 10; x < 10 + width; ++x) {
      const Rgb p = at(out, x, y);
      white += p.r > 200 && p.g > 200 && p.b > 200;
      EXPECT_TRUE(p.b >= blue.b && p.r >= blue.r)
          << "tag pixel (" << x << ", " << y << ") is neither ink nor tag";
    }
  EXPECT_GT(white, 20) << "no text in the tag";
  EXPECT_GT(width, 30);  // "cat 0.93" at 12 px is ~45 px wide
  EXPECT_LT(width, 70);
  // The box itself is still drawn.
  EXPECT_EQ(at(out, 10, 54), blue);
  EXPECT_EQ(at(out, 49, 40), blue);
}

TEST(VizBoxesTest, LabelTagGoesInsideAtTheTopAndShiftsLeftAtTheRight) {
  const data::Image image = grey_image(40, 60, 128);
  const Rgb orange = tab10(1);
  const data::Image top =
      draw_boxes(image, {Box{.x0 = 5, .y0 = 0, .x1 = 40, .y1 = 30, .class_id = 1, .label = "dog"}});
  // No room above: the tag starts at row 0 inside the box, black text on orange.
  // Column 7 is inside the box's 2-pixel edge and in the tag's left padding: orange for the tag's height,
  // then the image.
  int64_t tag_h = 0;
  while (tag_h < 40 && at(top, 7, tag_h) == orange) ++tag_h;
  EXPECT_GE(tag_h, 12);
  EXPECT_LE(tag_h, 20);
  EXPECT_EQ(at(top, 7, tag_h), (Rgb{128, 128, 128}));
  int dark = 0;
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 5; x < 40; ++x) dark += at(top, x, y).r < 80;
  EXPECT_GT(dark, 5) << "no text in the tag";

  const data::Image right =
      draw_boxes(image, {Box{.x0 = 52, .y0 = 20, .x1 = 58, .y1 = 30, .class_id = 1, .label = "dog"}});
  // The tag is wider than the box's distance to the border: it ends at the image's right edge.
  EXPECT_NE(at(right, 59, 19), (Rgb{128, 128, 128}));
  EXPECT_NE(at(right, 45, 19), (Rgb{128, 128, 128}));
  // A label wider than the whole image is clipped, not a crash.
  EXPECT_NO_THROW(
      draw_boxes(image, {Box{.x0 = 50, .y0 = 20, .x1 = 58, .y1 = 30, .label = std::string(500, 'w')}}));
  EXPECT_NO_THROW(
      draw_boxes(grey_image(3, 3, 0), {Box{.x0 = -5, .y0 = -5, .x1 = 8, .y1 = 8, .label = "\xff\n"}}));
}

TEST(VizBoxesTest, BrokenContractsThrowCheckError) {
  const data::Image image = grey_image(10, 10, 0);
  EXPECT_THROW(draw_boxes(image, {Box{.x0 = NAN, .x1 = 3, .y1 = 3}}), CheckError);
  EXPECT_THROW(draw_boxes(image, {Box{.x0 = 0, .y0 = 0, .x1 = INFINITY, .y1 = 3}}), CheckError);
  EXPECT_THROW(draw_boxes(image, {Box{.x0 = 5, .y0 = 0, .x1 = 3, .y1 = 3}}), CheckError);
  EXPECT_THROW(draw_boxes(image, {Box{.x0 = 0, .y0 = 5, .x1 = 3, .y1 = 3}}), CheckError);
  EXPECT_THROW(draw_boxes(image, {Box{.x1 = 3, .y1 = 3, .class_id = -1}}), CheckError);
  EXPECT_THROW(draw_boxes(image, {}, {.line_width = 0}), CheckError);
  EXPECT_THROW(draw_boxes(image, {}, {.font_px = 1}), CheckError);
  data::Image two;
  two.resize(2, 4, 4);
  EXPECT_THROW(draw_boxes(two, {}), CheckError);
  // No boxes: the image, as RGB.
  const data::Image out = draw_boxes(grey_image(2, 2, 9), {});
  EXPECT_EQ(out.channels, 3);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(12, 9));
}

}  // namespace
}  // namespace resnet::viz
