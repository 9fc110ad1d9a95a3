#include "resnet/viz/boxes.h"

#include <algorithm>
#include <cmath>

#include "resnet/core/check.h"
#include "viz/pixels.h"
#include "viz/text.h"

namespace resnet::viz {
namespace {

// Pixel edge of a coordinate: rounded, and kept well inside int64 for boxes far outside the image.
int64_t edge(double v) {
  return std::lround(std::clamp(v, -1e12, 1e12));
}

void fill(data::Image& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1, Rgb c) {
  x0 = std::max<int64_t>(x0, 0), y0 = std::max<int64_t>(y0, 0);
  x1 = std::min(x1, image.width), y1 = std::min(y1, image.height);
  if (x0 >= x1 || y0 >= y1) return;
  const uint8_t ink[3] = {c.r, c.g, c.b};
  for (int64_t ch = 0; ch < 3; ++ch)
    for (int64_t y = y0; y < y1; ++y) std::fill_n(image.plane(ch) + y * image.width + x0, x1 - x0, ink[ch]);
}

}  // namespace

data::Image draw_boxes(const data::Image& image, const std::vector<Box>& boxes, const BoxStyle& style) {
  detail::check_image(image);
  RESNET_CHECK(style.line_width >= 1 && style.line_width <= 1000) << "box line width " << style.line_width;
  RESNET_CHECK(style.font_px >= 4 && style.font_px <= 200) << "box label font size " << style.font_px;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& b = boxes[i];
    RESNET_CHECK(std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1))
        << "box " << i << " has a non-finite coordinate";
    RESNET_CHECK(b.x1 >= b.x0 && b.y1 >= b.y0) << "box " << i << " (" << b.x0 << ", " << b.y0 << ", " << b.x1
                                               << ", " << b.y1 << ") has x1 < x0 or y1 < y0";
    RESNET_CHECK(b.class_id >= 0) << "box " << i << " has class " << b.class_id;
  }
  data::Image out = detail::to_rgb(image);
  const int64_t lw = style.line_width;
  for (const Box& b : boxes) {
    const Rgb c = style.color ? *style.color : class_color(b.class_id);
    const int64_t x0 = edge(b.x0), y0 = edge(b.y0), x1 = edge(b.x1), y1 = edge(b.y1);
    if (x1 <= x0 || y1 <= y0) continue;
    // Outline: the four bands within lw of the edges (they overlap when the box is thinner than 2 lw).
    fill(out, x0, y0, x1, std::min(y1, y0 + lw), c);
    fill(out, x0, std::max(y0, y1 - lw), x1, y1, c);
    fill(out, x0, y0, std::min(x1, x0 + lw), y1, c);
    fill(out, std::max(x0, x1 - lw), y0, x1, y1, c);
    if (b.label.empty()) continue;

    const std::string text = detail::sanitize(b.label);
    const int64_t pad = std::max<int64_t>(1, std::lround(0.25 * style.font_px));
    const int64_t text_w = static_cast<int64_t>(std::ceil(detail::text_width(text, style.font_px))) + 2;
    const int64_t tag_w = text_w + 2 * pad, tag_h = detail::text_height(style.font_px);
    // On the top edge: above the box when the image has room, else inside it.
    const int64_t tag_y = y0 - tag_h >= 0 ? y0 - tag_h : y0;
    int64_t tag_x = x0;
    if (tag_w <= out.width) tag_x = std::clamp<int64_t>(tag_x, 0, out.width - tag_w);
    fill(out, tag_x, tag_y, tag_x + tag_w, tag_y + tag_h, c);
    detail::draw_text(out, tag_x + pad - 1, tag_y, text, style.font_px, detail::ink_for(c), tag_x,
                      tag_x + tag_w);
  }
  return out;
}

}  // namespace resnet::viz
