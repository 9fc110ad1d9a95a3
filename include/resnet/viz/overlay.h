// Maps drawn over images: heat maps (saliency, class activation maps) and segmentation masks.
//
// Contract (both functions):
//  - `image` is a planar 8-bit data::Image with 1 (grey) or 3 (RGB) channels whose pixel count matches
//    its shape; the result is a new 3-channel image of the same height and width (grey is replicated into
//    R, G and B first). `image` itself is not changed.
//  - Blending, per pixel and channel, with `under` the (RGB) image value and `over` the map's colour:
//        out = lround((1 - alpha) * under + alpha * over)     (in double precision)
//    so alpha = 0 gives the image back and alpha = 1 the map's colours.
//  - Broken contracts throw CheckError: alpha outside [0, 1] or NaN, an image that is not 1 or 3 channels
//    or whose pixels do not match its shape, an empty image, a mask of another size than the image, a
//    class id below -1, a class with no colour in a given palette. Nothing here does I/O: save the
//    result with data::write_png.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "resnet/data/dataset.h"
#include "resnet/viz/colormap.h"

namespace resnet::viz {

struct HeatmapStyle {
  Colormap colormap = Colormap::kInferno;
  std::optional<ValueRange> range{};  // unset: auto_range() of the map as given (before any resize)
  double alpha = 0.5;
};

// The range is fixed first (style.range, else auto_range() of the map as given); when the map's size
// differs from the image's, its values are then resized to the image with resize_bilinear() (so resizing
// does not change the scale); each value is coloured as colorize() does and blended over the image.
// The map may be of any size >= 1 x 1.
data::Image overlay_heatmap(const data::Image& image, const FloatMap& map, const HeatmapStyle& style = {});

// A per-pixel class map of the image's size, row-major. Pixels whose class is kIgnoreClass (-1) or
// kIgnoreLabel (255, the VOC/Cityscapes "void" label) keep the image's own colour.
struct ClassMap {
  int64_t height = 0, width = 0;
  std::vector<int32_t> classes{};
};
inline constexpr int32_t kIgnoreClass = -1;
inline constexpr int32_t kIgnoreLabel = 255;

// Each class c is blended in palette[c] when a palette is given (then every class that occurs needs an
// entry), else in class_color(c).
data::Image overlay_mask(const data::Image& image, const ClassMap& mask, double alpha = 0.5,
                         const std::vector<Rgb>& palette = {});

}  // namespace resnet::viz
