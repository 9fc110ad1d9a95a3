// Several images tiled into one: samples of a data set, explanations side by side, predictions.
//
// Contract:
//  - `images`: at least one; each planar 8-bit with 1 or 3 channels, pixels matching its shape, not empty.
//    `captions`: empty, or one per image (an empty caption leaves its band blank). CheckError otherwise.
//  - Layout: rows x cols cells, filled row by row. Both 0: cols = ceil(sqrt(N)), rows = ceil(N / cols);
//    one 0: computed from the other; both given: rows * cols >= N (CheckError otherwise). Every cell is
//    cell_w = max width by cell_h = max height, plus, when any caption is non-empty, a caption band of
//    caption_h = ceil(1.6 * caption_px) rows below the image. Cells are separated from each other and
//    from the border by `padding` pixels of `background`:
//        width  = cols * cell_w + (cols + 1) * padding
//        height = rows * (cell_h + caption_h) + (rows + 1) * padding
//    Image i (row r = i / cols, column c = i % cols) is centred in its cell, its top-left corner at
//        x = padding + c * (cell_w + padding) + (cell_w - w_i) / 2
//        y = padding + r * (cell_h + caption_h + padding) + (cell_h - h_i) / 2     (integer division)
//    and its caption is centred in the band below (cut with an ellipsis to cell_w), in black or white,
//    whichever reads better on the background.
//  - The result has 1 channel when every image is grey and the background is grey (r == g == b), else 3
//    (grey images are replicated into R, G and B).
//  - CheckError also for padding outside 0..1000, caption_px outside 4..200, negative rows/cols, and a
//    result of more than data::kMaxImagePixels pixels. No I/O: save the result with data::write_png.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/data/dataset.h"
#include "resnet/viz/colormap.h"

namespace resnet::viz {

struct GridOptions {
  int64_t rows = 0, cols = 0;  // 0: chosen (see above)
  int64_t padding = 2;
  Rgb background{255, 255, 255};
  double caption_px = 12;
};

data::Image make_grid(const std::vector<data::Image>& images, const std::vector<std::string>& captions = {},
                      const GridOptions& options = {});

}  // namespace resnet::viz
