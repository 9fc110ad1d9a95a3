// Detection boxes drawn on an image, with optional labels on filled tags.
//
// Contract:
//  - `image`: planar 8-bit, 1 or 3 channels, pixels matching its shape, not empty (CheckError otherwise).
//    The result is a new 3-channel image of the same size (grey is replicated into R, G and B first).
//  - A box covers the pixel columns [lround(x0), lround(x1)) and rows [lround(y0), lround(y1)) (x1, y1
//    exclusive, as in (left, top, right, bottom) detection boxes). Its outline is the pixels of that
//    rectangle within line_width of its edge, painted opaquely in the box's colour: style.color if set,
//    else class_color(class_id). Boxes are drawn in order (later ones on top) and clipped at the image's
//    borders; boxes partly or wholly outside the image are fine.
//  - A non-empty label is written (cairo's "sans", style.font_px) in white or black, whichever reads
//    better, on a tag filled with the box's colour: the tag sits on the box's top edge, above it when
//    there is room in the image, else just inside it; it is shifted left to stay in the image when it
//    fits, else clipped. Labels are sanitised like chart text (UTF-8 repaired, control characters as
//    spaces, cut after 200 code points).
//  - Broken contracts throw CheckError: non-finite coordinates, x1 < x0 or y1 < y0, a negative class_id,
//    line_width outside 1..1000, font_px outside 4..200. No I/O: save the result with data::write_png.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "resnet/data/dataset.h"
#include "resnet/viz/colormap.h"

namespace resnet::viz {

struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixels: left, top, right, bottom
  int64_t class_id = 0;
  std::string label{};  // empty: no tag (e.g. "cat 0.93")
};

struct BoxStyle {
  int line_width = 2;
  double font_px = 12;
  std::optional<Rgb> color{};  // one colour for every box instead of class_color(class_id)
};

data::Image draw_boxes(const data::Image& image, const std::vector<Box>& boxes, const BoxStyle& style = {});

}  // namespace resnet::viz
