#include "resnet/viz/grid.h"

#include <algorithm>
#include <cmath>

#include "resnet/core/check.h"
#include "resnet/data/image.h"
#include "viz/pixels.h"
#include "viz/text.h"

namespace resnet::viz {

data::Image make_grid(const std::vector<data::Image>& images, const std::vector<std::string>& captions,
                      const GridOptions& options) {
  const int64_t n = static_cast<int64_t>(images.size());
  RESNET_CHECK(n >= 1) << "a grid of no images";
  RESNET_CHECK(captions.empty() || captions.size() == images.size())
      << captions.size() << " captions for " << n << " images";
  RESNET_CHECK(options.padding >= 0 && options.padding <= 1000) << "grid padding " << options.padding;
  RESNET_CHECK(options.caption_px >= 4 && options.caption_px <= 200) << "caption size " << options.caption_px;
  RESNET_CHECK(options.rows >= 0 && options.cols >= 0) << "grid of " << options.rows << "x" << options.cols;
  int64_t cell_w = 0, cell_h = 0;
  bool grey = options.background.r == options.background.g && options.background.g == options.background.b;
  for (int64_t i = 0; i < n; ++i) {
    detail::check_image(images[i], "grid image " + std::to_string(i));
    cell_w = std::max(cell_w, images[i].width);
    cell_h = std::max(cell_h, images[i].height);
    grey = grey && images[i].channels == 1;
  }
  RESNET_CHECK(options.rows <= (int64_t{1} << 20) && options.cols <= (int64_t{1} << 20))
      << "grid of " << options.rows << "x" << options.cols;
  int64_t rows = options.rows, cols = options.cols;
  if (rows == 0 && cols == 0) cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  if (rows == 0) rows = (n + cols - 1) / cols;
  if (cols == 0) cols = (n + rows - 1) / rows;
  RESNET_CHECK(rows * cols >= n) << "a " << rows << "x" << cols << " grid holds fewer than " << n
                                 << " images";
  const bool any_caption =
      std::any_of(captions.begin(), captions.end(), [](const std::string& s) { return !s.empty(); });
  const int64_t caption_h = any_caption ? static_cast<int64_t>(std::ceil(1.6 * options.caption_px)) : 0;
  const int64_t pad = options.padding;
  const double width = static_cast<double>(cols) * cell_w + static_cast<double>(cols + 1) * pad;
  const double height =
      static_cast<double>(rows) * (cell_h + caption_h) + static_cast<double>(rows + 1) * pad;
  RESNET_CHECK(width * height <= static_cast<double>(data::kMaxImagePixels))
      << "a grid of " << width << "x" << height << " pixels is too large";

  data::Image out;
  out.resize(3, static_cast<int64_t>(height), static_cast<int64_t>(width));
  const Rgb bg = options.background;
  const uint8_t background[3] = {bg.r, bg.g, bg.b};
  for (int64_t ch = 0; ch < 3; ++ch) std::fill_n(out.plane(ch), out.height * out.width, background[ch]);
  const Rgb ink = detail::ink_for(bg);
  for (int64_t i = 0; i < n; ++i) {
    const data::Image& image = images[i];
    const int64_t r = i / cols, c = i % cols;
    const int64_t cell_x = pad + c * (cell_w + pad), cell_y = pad + r * (cell_h + caption_h + pad);
    const int64_t x = cell_x + (cell_w - image.width) / 2, y = cell_y + (cell_h - image.height) / 2;
    for (int64_t ch = 0; ch < 3; ++ch) {
      const uint8_t* src = image.plane(image.channels == 1 ? 0 : ch);
      for (int64_t row = 0; row < image.height; ++row)
        std::copy_n(src + row * image.width, image.width, out.plane(ch) + (y + row) * out.width + x);
    }
    if (!captions.empty() && !captions[i].empty()) {
      const std::string text =
          detail::fit_text(captions[i], options.caption_px, static_cast<double>(cell_w) - 2);
      const double w = detail::text_width(text, options.caption_px);
      const int64_t text_x = cell_x + static_cast<int64_t>(std::floor((cell_w - w) / 2)) - 1;
      const int64_t text_y = cell_y + cell_h + (caption_h - detail::text_height(options.caption_px)) / 2;
      detail::draw_text(out, text_x, text_y, text, options.caption_px, ink, cell_x, cell_x + cell_w);
    }
  }
  if (!grey) return out;
  data::Image single;
  single.resize(1, out.height, out.width);
  std::copy_n(out.plane(0), out.height * out.width, single.plane(0));
  return single;
}

}  // namespace resnet::viz
