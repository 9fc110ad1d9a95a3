// Image grids: the size and every tile's offset from the contract's formulas, captions in their bands,
// grey or RGB output, contracts; and pictures written with data::write_png decode to the same pixels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/data/image.h"
#include "resnet/viz/boxes.h"
#include "resnet/viz/grid.h"
#include "resnet/viz/overlay.h"

namespace resnet::viz {
namespace {

namespace fs = std::filesystem;

// Distinct content per image: pixel values seeded by `seed`.
data::Image tile(int64_t channels, int64_t height, int64_t width, int seed) {
  data::Image image;
  image.resize(channels, height, width);
  for (size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<uint8_t>((i * 13 + seed * 59 + 1) % 250);
  return image;
}

uint8_t value(const data::Image& image, int64_t c, int64_t y, int64_t x) {
  return image.plane(image.channels == 1 ? 0 : c)[y * image.width + x];
}

// Every pixel of image i at its offset in `grid`.
void expect_tile_at(const data::Image& grid, const data::Image& image, int64_t x0, int64_t y0, int index) {
  for (int64_t c = 0; c < grid.channels; ++c)
    for (int64_t y = 0; y < image.height; ++y)
      for (int64_t x = 0; x < image.width; ++x)
        ASSERT_EQ(value(grid, c, y0 + y, x0 + x), value(image, c, y, x))
            << "image " << index << " channel " << c << " pixel (" << x << ", " << y << ")";
}

TEST(VizGridTest, SizeAndTileOffsetsFollowTheFormulas) {
  const std::vector<data::Image> images = {tile(1, 4, 6, 0), tile(3, 5, 3, 1), tile(3, 2, 2, 2),
                                           tile(1, 5, 6, 3), tile(3, 1, 1, 4)};
  const int64_t pad = 3, cell_w = 6, cell_h = 5;  // the largest width and height
  const data::Image grid = make_grid(images, {}, {.padding = pad, .background = Rgb{10, 20, 30}});
  // Five images: 3 columns (ceil(sqrt(5))), 2 rows.
  ASSERT_EQ(grid.channels, 3);
  ASSERT_EQ(grid.width, 3 * cell_w + 4 * pad);
  ASSERT_EQ(grid.height, 2 * cell_h + 3 * pad);
  for (int i = 0; i < 5; ++i) {
    const int64_t r = i / 3, c = i % 3;
    const int64_t x = pad + c * (cell_w + pad) + (cell_w - images[i].width) / 2;
    const int64_t y = pad + r * (cell_h + pad) + (cell_h - images[i].height) / 2;
    expect_tile_at(grid, images[i], x, y, i);
  }
  // Padding, the unused sixth cell and the margins of small tiles are background.
  for (auto [x, y] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 0},
                                                {pad + cell_w, pad},
                                                {grid.width - 1, grid.height - 1},
                                                {pad + 2 * (cell_w + pad) + 1, pad + cell_h + pad + 1},
                                                {pad + 2 * (cell_w + pad), pad}})
    EXPECT_EQ((std::vector<uint8_t>{value(grid, 0, y, x), value(grid, 1, y, x), value(grid, 2, y, x)}),
              (std::vector<uint8_t>{10, 20, 30}))
        << "(" << x << ", " << y << ")";
}

TEST(VizGridTest, RowsOrColumnsGivenAndGreyStaysGrey) {
  std::vector<data::Image> images;
  for (int i = 0; i < 7; ++i) images.push_back(tile(1, 3, 4, i));
  const data::Image one_row = make_grid(images, {}, {.rows = 1, .padding = 0});
  EXPECT_EQ(one_row.channels, 1);  // grey images on a white background
  EXPECT_EQ(one_row.height, 3);
  EXPECT_EQ(one_row.width, 28);
  for (int i = 0; i < 7; ++i) expect_tile_at(one_row, images[i], 4 * i, 0, i);
  const data::Image two_cols = make_grid(images, {}, {.cols = 2, .padding = 1});
  EXPECT_EQ(two_cols.width, 2 * 4 + 3);
  EXPECT_EQ(two_cols.height, 4 * 3 + 5);
  expect_tile_at(two_cols, images[5], 1 + 1 * 5, 1 + 2 * 4, 5);
  const data::Image both = make_grid(images, {}, {.rows = 3, .cols = 3, .padding = 0});
  EXPECT_EQ(both.width, 12);
  EXPECT_EQ(both.height, 9);
  EXPECT_EQ(make_grid(images, {}, {.background = Rgb{0, 0, 255}}).channels, 3);
}

TEST(VizGridTest, CaptionsGetABandBelowEachRow) {
  const std::vector<data::Image> images = {tile(3, 20, 40, 0), tile(3, 20, 40, 1), tile(3, 20, 40, 2)};
  const double px = 12;
  const int64_t caption_h = static_cast<int64_t>(std::ceil(1.6 * px)), pad = 2;
  const data::Image grid = make_grid(images, {"cat", "", "a much longer caption than fits"},
                                     {.cols = 3, .padding = pad, .caption_px = px});
  ASSERT_EQ(grid.width, 3 * 40 + 4 * pad);
  ASSERT_EQ(grid.height, 20 + caption_h + 2 * pad);
  for (int i = 0; i < 3; ++i) expect_tile_at(grid, images[i], pad + i * (40 + pad), pad, i);
  // Dark ink in the first and third bands, none in the second (white background).
  const auto ink = [&](int column) {
    int dark = 0;
    for (int64_t y = pad + 20; y < pad + 20 + caption_h; ++y)
      for (int64_t x = pad + column * (40 + pad); x < pad + column * (40 + pad) + 40; ++x)
        dark += value(grid, 0, y, x) < 128;
    return dark;
  };
  EXPECT_GT(ink(0), 10);
  EXPECT_EQ(ink(1), 0);
  EXPECT_GT(ink(2), 10);
  // A caption never spills into the padding between cells.
  for (int64_t y = pad + 20; y < grid.height; ++y)
    EXPECT_EQ(value(grid, 0, y, pad + 2 * 40 + 2 * pad - 1), 255);
}

TEST(VizGridTest, BrokenContractsThrowCheckError) {
  const std::vector<data::Image> images = {tile(1, 2, 2, 0), tile(1, 2, 2, 1), tile(1, 2, 2, 2)};
  EXPECT_THROW(make_grid({}), CheckError);
  EXPECT_THROW(make_grid(images, {"one caption"}), CheckError);
  EXPECT_THROW(make_grid(images, {}, {.rows = 1, .cols = 2}), CheckError);
  EXPECT_THROW(make_grid(images, {}, {.rows = -1}), CheckError);
  EXPECT_THROW(make_grid(images, {}, {.padding = -1}), CheckError);
  EXPECT_THROW(make_grid(images, {}, {.caption_px = 0}), CheckError);
  EXPECT_THROW(make_grid({tile(1, 2, 2, 0), data::Image{}}), CheckError);
  EXPECT_THROW(make_grid(images, {}, {.rows = 1 << 20, .cols = 1, .padding = 1000}), CheckError)
      << "2^28 pixels at most";
}

class VizPngTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "resnet_viz_png_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(VizPngTest, PicturesWrittenAsPngDecodeToTheSamePixels) {
  const data::Image photo = tile(3, 24, 32, 5);
  FloatMap map{.height = 6, .width = 8, .values = {}};
  for (int i = 0; i < 48; ++i) map.values.push_back(static_cast<float>(std::cos(i * 0.3)));
  const data::Image heat = overlay_heatmap(photo, map, {.colormap = Colormap::kBlueWhiteRed, .alpha = 0.5});
  const data::Image boxed =
      draw_boxes(heat, {Box{.x0 = 2, .y0 = 12, .x1 = 20, .y1 = 22, .class_id = 3, .label = "x"}});
  const data::Image grid =
      make_grid({photo, heat, boxed, tile(1, 10, 10, 9)}, {"photo", "heat", "boxes", "grey"});
  for (const auto& [name, image] : std::vector<std::pair<std::string, const data::Image*>>{
           {"heat.png", &heat}, {"boxed.png", &boxed}, {"grid.png", &grid}}) {
    const std::string path = (dir_ / name).string();
    data::write_png(path, *image);
    const data::Image back = data::decode_image(path);
    EXPECT_EQ(back.channels, image->channels) << name;
    EXPECT_EQ(back.height, image->height) << name;
    EXPECT_EQ(back.width, image->width) << name;
    EXPECT_EQ(back.pixels, image->pixels) << name;
  }
  // A grey grid stays a grey PNG.
  const data::Image grey = make_grid({tile(1, 4, 4, 0), tile(1, 4, 4, 1)}, {}, {.padding = 1});
  data::write_png((dir_ / "grey.png").string(), grey);
  const data::Image back = data::decode_image((dir_ / "grey.png").string());
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.pixels, grey.pixels);
}

}  // namespace
}  // namespace resnet::viz
