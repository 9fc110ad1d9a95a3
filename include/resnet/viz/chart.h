// PNG figures for training runs and studies: line charts (loss/accuracy curves, per-layer statistics, the
// ResNet paper's Figure 6) and confusion matrices, drawn with cairo.
//
// Contract:
//  - Rendering draws on a cairo image surface of its own per call (white background, cairo's "sans" font,
//    matplotlib's tab10 palette), destroyed before returning: calls do not leak state into each other,
//    may be repeated any number of times in one process and may come from several threads at once.
//    Identical calls give identical bytes.
//  - The image is exactly width_px x height_px (the confusion matrix picks its own size from the number
//    of classes).
//  - `path` is replaced atomically (rendered in memory, written to a temporary file beside it, fsync'd,
//    renamed over it): a crash leaves the old file or the new one, never a torn one, and nothing else
//    is left beside it. Failures (directory missing or not writable, disk full, cairo unable to draw or
//    encode) throw UserError naming the path. A machine without fonts still gets readable text: when
//    fontconfig finds no "sans", cairo falls back to its built-in font.
//  - Data is taken as it comes: NaN/inf points are skipped (the line breaks there), on a log axis so are
//    y <= 0; empty series, single points and constant series render without error; an isolated point
//    (no finite neighbour) is drawn as a dot so it stays visible. Data lines are clipped to the axes.
//    Broken contracts (x and y of different non-zero lengths, a non-square confusion matrix, absurd
//    sizes) throw CheckError.
//  - Text is plain: labels print as given (UTF-8; malformed bytes print as U+FFFD, control characters as
//    spaces, anything past 200 code points as an ellipsis). Glyphs the "sans" font lacks (e.g. CJK with
//    only DejaVu installed) print as the font's missing-glyph box: cairo's toy font API has no fallback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resnet::viz {

// Colours are indices into matplotlib's tab10 palette (blue, orange, green, red, purple, brown, pink,
// grey, olive, cyan), taken modulo its size (viz/colormap.h: tab10()).
inline constexpr int kPaletteSize = 10;

struct Series {
  std::string label{};           // legend entry; series with an empty label are left out of the legend
  std::vector<double> x{}, y{};  // x empty: 0, 1, 2, ... for each y
  // Palette index; -1 = the panel's next automatic colour (counting only auto-coloured series, so panels
  // listing their series in the same order colour them alike).
  int color = -1;
  double width = 1.5;  // line width in pixels (the paper's bold test-error lines: ~3)
  bool dashed = false;
  bool markers = false;  // a dot at every point
};

struct Panel {
  std::string title{}, x_label{}, y_label{};
  std::vector<Series> series{};
  bool log_y = false;
  std::optional<double> y_min{}, y_max{};  // fixed y limits; unset = fitted to the data with a margin
  // Inside the axes where it hides the fewest drawn points; beside them when it would cover too much.
  bool legend = true;
};

struct Figure {
  std::string title{};
  std::vector<Panel> panels{};
  int columns = 0;  // panels per row; 0 = all in one row
  int width_px = 1200, height_px = 500;
};

void save_png(const Figure& figure, const std::string& path);

// counts[t][p]: samples of true class t predicted as p. Cells are coloured by the row-normalised fraction
// (each true class's distribution of predictions), the count is written in each cell when there are at
// most 20 classes, axes carry the class names (x rotated) and a colour bar gives the scale.
// class_names may be empty (then "0", "1", ...).
void save_confusion_matrix_png(const std::vector<std::vector<int64_t>>& counts,
                               const std::vector<std::string>& class_names, const std::string& title,
                               const std::string& path);

}  // namespace resnet::viz
