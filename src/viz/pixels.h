// Pixel-level helpers shared by the picture functions (overlays, boxes, grids) on planar u8 Images.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "resnet/data/dataset.h"
#include "resnet/viz/colormap.h"

namespace resnet::viz::detail {

// Colour of value v under a fixed range (lo == hi: no spread, everything in the middle; non-finite v:
// the map's neutral colour).
Rgb value_color(double v, Colormap map, ValueRange range);
// CheckError unless the map is at least 1x1 and its values match its shape.
void check_map(const FloatMap& map);
// CheckError unless lo < hi, both finite.
void check_range(const ValueRange& range);

// CheckError unless `image` has 1 or 3 channels, is not empty and its pixels match its shape; `what`
// names the argument in the message.
void check_image(const data::Image& image, std::string_view what = "image");
// A 3-channel copy (grey replicated).
data::Image to_rgb(const data::Image& image);

inline uint8_t blend(uint8_t under, uint8_t over, double alpha) {
  return static_cast<uint8_t>(std::lround((1 - alpha) * under + alpha * over));
}

// Paints colour `c` into the 3-channel `image` through sanitised `text`'s coverage mask, its top-left
// corner at (x, y), clipped to the image and to columns [clip_x0, clip_x1).
void draw_text(data::Image& image, int64_t x, int64_t y, std::string_view text, double px, Rgb c,
               int64_t clip_x0, int64_t clip_x1, bool bold = false);
// Height in rows of a text mask at `px` (what draw_text covers).
int text_height(double px);

// Black or white, whichever reads better on `background`.
Rgb ink_for(Rgb background);

}  // namespace resnet::viz::detail
