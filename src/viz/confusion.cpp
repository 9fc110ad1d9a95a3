// Confusion matrices: row-normalised cells in matplotlib's "Blues", counts in the cells up to 20 classes,
// class names on both axes and a colour bar.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/chart.h"
#include "viz/axes.h"
#include "viz/canvas.h"
#include "viz/text.h"

namespace resnet::viz {
namespace {

using namespace detail;

void draw_confusion(Canvas& canvas, const std::vector<std::vector<int64_t>>& counts,
                    const std::vector<std::string>& names, const std::string& title, const Rect& matrix,
                    double font, double name_font, int stride, double colorbar_x) {
  const int k = static_cast<int>(counts.size());
  const double cell = matrix.width() / k;
  const double tick_len = 0.35 * font;
  std::vector<double> row_total(k, 0);
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p) row_total[t] += static_cast<double>(counts[t][p]);
  const auto fraction = [&](int t, int p) { return row_total[t] > 0 ? counts[t][p] / row_total[t] : 0.0; };

  // Cells: the lightest colour under everything, then only the cells that differ (cheap for 1000 classes).
  // Cells of two pixels or more get whole-pixel edges, so that neighbours meet without antialiased seams;
  // smaller ones (hundreds of classes) are blended into the pixels they share.
  const bool snap = cell >= 2;
  const auto edge = [&](double origin, int i) {
    return snap ? std::round(origin + i * cell) : origin + i * cell;
  };
  canvas.color(blues(0.0));
  canvas.fill_rect(matrix);
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p)
      if (counts[t][p] > 0) {
        canvas.color(blues(fraction(t, p)));
        canvas.fill_rect(
            {edge(matrix.x0, p), edge(matrix.y0, t), edge(matrix.x0, p + 1), edge(matrix.y0, t + 1)});
      }
  if (k <= 20) {
    // Counts in the cells, shrunk to fit the widest one; white on dark cells.
    int64_t largest = 0;
    for (const auto& row : counts)
      for (int64_t c : row) largest = std::max(largest, c);
    const std::string widest = std::to_string(largest);
    const double count_font = std::min(font, 0.8 * cell / std::max(1e-9, text_width(widest, 1.0)));
    for (int t = 0; t < k; ++t)
      for (int p = 0; p < k; ++p)
        canvas.text(matrix.x0 + (p + 0.5) * cell, matrix.y0 + (t + 0.5) * cell, std::to_string(counts[t][p]),
                    count_font, 0.5,
                    counts[t][p] == 0      ? kMuted
                    : fraction(t, p) > 0.5 ? kWhite
                                           : kText);
  }
  canvas.color(kFrame);
  canvas.pen(1.0);
  canvas.stroke_rect(matrix);

  // Class names: rows on the left, columns below at 45 degrees (ending at their tick).
  for (int i = 0; i < k; i += stride) {
    const double c = matrix.x0 + (i + 0.5) * cell, r = matrix.y0 + (i + 0.5) * cell;
    canvas.color(kFrame);
    canvas.line(matrix.x0 - tick_len, r, matrix.x0, r);
    canvas.line(c, matrix.y1, c, matrix.y1 + tick_len);
    canvas.text(matrix.x0 - tick_len - 0.3 * font, r, names[i], name_font, 1.0);
    const double d = tick_len + 0.3 * font + 0.35 * name_font;
    canvas.text(c + 0.15 * name_font, matrix.y1 + d, names[i], name_font, 1.0, kText, false, 45);
  }

  // Colour bar with its scale.
  const Rect bar{colorbar_x, matrix.y0, colorbar_x + 1.3 * font, matrix.y1};
  std::vector<Rgb> stops;
  for (int i = 0; i <= 8; ++i) stops.push_back(blues(i / 8.0));
  canvas.fill_vertical_gradient(bar, stops);
  canvas.color(kFrame);
  canvas.stroke_rect(bar);
  double label_width = 0;
  for (int i = 0; i <= 5; ++i) {
    const double y = bar.y1 - i / 5.0 * bar.height();
    const std::string label = format_fixed(i / 5.0, 1);
    canvas.color(kFrame);
    canvas.line(bar.x1, y, bar.x1 + tick_len, y);
    canvas.text(bar.x1 + tick_len + 0.3 * font, y, label, 0.92 * font, 0.0);
    label_width = std::max(label_width, text_width(label, 0.92 * font));
  }
  canvas.text(bar.x1 + tick_len + 0.3 * font + label_width + 0.9 * font, (bar.y0 + bar.y1) / 2,
              "fraction of true class", font, 0.5, kText, false, -90);

  // The title is centred over the matrix and may use the image's width either side of that centre.
  const double centre = (matrix.x0 + matrix.x1) / 2;
  const double title_room = 2 * std::min(centre, canvas.width() - centre) - font;
  canvas.text(centre, matrix.y0 - 1.15 * font, fit_text(title, 1.15 * font, title_room, true), 1.15 * font,
              0.5, kText, true);
}

}  // namespace

void save_confusion_matrix_png(const std::vector<std::vector<int64_t>>& counts,
                               const std::vector<std::string>& class_names, const std::string& title,
                               const std::string& path) {
  const int k = static_cast<int>(counts.size());
  RESNET_CHECK(k >= 1 && k <= 10000) << "confusion matrix with " << k << " classes";
  for (int t = 0; t < k; ++t) {
    RESNET_CHECK_EQ(counts[t].size(), counts.size()) << "(row " << t << " of the confusion matrix)";
    for (int64_t c : counts[t]) RESNET_CHECK(c >= 0) << "negative count " << c << " in row " << t;
  }
  RESNET_CHECK(class_names.empty() || class_names.size() == counts.size())
      << class_names.size() << " class names for " << k << " classes";

  const double font = 13;
  // The matrix grows with the class count: roomy cells with counts up to 20 classes, then a heat map.
  const double side = k <= 20 ? std::clamp(k * 56.0, 300.0, 900.0) : std::clamp(k * 10.0, 700.0, 1600.0);
  const double cell = side / k;
  const double name_font = std::clamp(cell / 1.35, 10.0, font);
  // With many classes, label every 2nd, 5th, 10th, ... class, with room between the labels.
  const double spacing = (k <= 20 ? 1.45 : 2.2) * name_font;
  int stride = 1;
  for (int decade = 1; stride * cell < spacing; decade *= 10)
    for (int m : {1, 2, 5})
      if (stride * cell < spacing) stride = m * decade;
  std::vector<std::string> names;
  double name_width = 0, first_name_width = 0;
  for (int i = 0; i < k; ++i) {
    names.push_back(fit_text(class_names.empty() ? std::to_string(i) : class_names[i], name_font, 12 * font));
    if (i % stride == 0) name_width = std::max(name_width, text_width(names.back(), name_font));
    if (i == 0) first_name_width = text_width(names.back(), name_font);
  }
  const double pad = 0.8 * font, tick = 0.35 * font + 0.3 * font;
  const double diag = std::sqrt(0.5);
  const double left =
      std::max(pad + 1.7 * font + name_width + tick, pad + first_name_width * diag - cell / 2);
  const double top = pad + 2.2 * font;
  const double bottom = tick + (name_width + name_font) * diag + 1.9 * font + pad;
  const double colorbar_gap = 1.0 * font;
  const double right = colorbar_gap + 1.3 * font + tick + text_width("0.0", 0.92 * font) + 2.2 * font + pad;
  const int w = static_cast<int>(std::ceil(left + side + right)),
            h = static_cast<int>(std::ceil(top + side + bottom));
  const Rect matrix{std::round(left) + 0.5, std::round(top) + 0.5, std::round(left) + 0.5 + side,
                    std::round(top) + 0.5 + side};
  render(w, h, path, [&](Canvas& canvas) {
    draw_confusion(canvas, counts, names, title, matrix, font, name_font, stride, matrix.x1 + colorbar_gap);
    canvas.text((matrix.x0 + matrix.x1) / 2, h - pad - 0.6 * font, "Predicted class", font, 0.5);
    canvas.text(pad + 0.6 * font, (matrix.y0 + matrix.y1) / 2, "True class", font, 0.5, kText, false, 90);
  });
}

}  // namespace resnet::viz
