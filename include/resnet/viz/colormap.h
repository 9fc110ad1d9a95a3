// Colours for pictures: colormaps for scalar maps (heat maps, explanations), the tab10 class palette, and
// turning an H x W float map into an RGB image.
//
// Contract:
//  - colormap(map, t) takes t in [0, 1]: values outside are clamped, NaN counts as 0. The colours are
//    piecewise-linear in sRGB between the stops listed below, rounded to the nearest 8-bit value, so
//    each map hits its stops exactly.
//  - colorize() takes a FloatMap whose values.size() == height * width (row-major), both >= 1, and
//    returns a 3-channel planar Image of the same height and width. The range is the given one (lo < hi,
//    both finite), else fitted to the finite values: [min, max] for sequential maps, [-m, m] with
//    m = max |v| for diverging ones (so 0 is the neutral middle). Values map to t = (v - lo) / (hi - lo),
//    clamped. A map without spread (all values equal, or no finite value) maps every value to t = 0.5,
//    and non-finite values are drawn as the map's neutral colour: t = 0 for sequential maps, t = 0.5 for
//    diverging ones.
//  - Broken contracts (a size mismatch, an empty map, a range with lo >= hi or not finite) throw
//    CheckError. Nothing here does I/O: save the result with data::write_png.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "resnet/data/dataset.h"

namespace resnet::viz {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

enum class Colormap {
  kViridis,       // sequential, perceptually uniform: #440154 (0) .. #21908c (0.5) .. #fde725 (1)
  kInferno,       // sequential, black to pale yellow: #000004 (0) .. #ba3655 (0.5) .. #fcffa4 (1)
  kGray,          // sequential: (v, v, v) with v = round(255 t)
  kBlueWhiteRed,  // diverging, for signed maps: ColorBrewer's 11-class RdBu reversed (matplotlib's
                  // "RdBu_r"): #053061 (0) .. #f7f7f7 (0.5) .. #67001f (1); negative blue, positive red
};

Rgb colormap(Colormap map, double t);
bool is_diverging(Colormap map);
// "viridis", "inferno", "gray", "bwr" (kBlueWhiteRed); std::nullopt for other names.
std::optional<Colormap> colormap_from_name(std::string_view name);
std::string_view colormap_name(Colormap map);

// matplotlib's tab10: blue, orange, green, red, purple, brown, pink, grey, olive, cyan; index modulo 10.
Rgb tab10(int64_t index);
// The colour of class `id` (>= 0; CheckError otherwise) in boxes and masks: tab10 for 0..9, then hues
// spaced by the golden angle (HSV with s = 0.7, v = 0.9) so that neighbouring ids stay apart.
Rgb class_color(int64_t id);

// A row-major H x W scalar map (saliency, attribution, activation).
struct FloatMap {
  int64_t height = 0, width = 0;
  std::vector<float> values{};
};

struct ValueRange {
  double lo = 0, hi = 1;
};

// The range colorize() uses for `map` when none is given (see the contract above).
ValueRange auto_range(const FloatMap& map, Colormap colormap);
data::Image colorize(const FloatMap& map, Colormap colormap = Colormap::kViridis,
                     std::optional<ValueRange> range = std::nullopt);

// Bilinear resize with half-pixel centres (PyTorch's align_corners=False, OpenCV's INTER_LINEAR): output
// pixel (y, x) samples the source at ((y + 0.5) * H / height - 0.5, (x + 0.5) * W / width - 0.5), clamped
// to the source's edge pixels. A non-finite source value spreads only to the outputs that weigh it.
// height, width >= 1 (CheckError otherwise).
FloatMap resize_bilinear(const FloatMap& map, int64_t height, int64_t width);

}  // namespace resnet::viz
