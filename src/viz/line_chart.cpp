// Line charts: panels of series against x with axes, ticks, labels and a legend, laid out in pixels here
// and drawn on a cairo canvas.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/chart.h"
#include "viz/axes.h"
#include "viz/canvas.h"
#include "viz/text.h"

namespace resnet::viz {
namespace {

using namespace detail;

struct Fonts {
  double base, tick, label, title, figure_title, legend;
  explicit Fonts(double px)
      : base(px), tick(px * 0.92), label(px), title(px * 1.1), figure_title(px * 1.3), legend(px * 0.9) {}
};

struct PreparedSeries {
  const Series* series;
  int color;
  std::vector<std::vector<Point>> runs;  // data coordinates (log10 y on log axes); runs of finite points
};

std::vector<PreparedSeries> prepare(const Panel& panel) {
  std::vector<PreparedSeries> out;
  int next_color = 0;
  for (const Series& s : panel.series) {
    RESNET_CHECK(s.x.empty() || s.x.size() == s.y.size())
        << "series '" << s.label << "' has " << s.x.size() << " x values but " << s.y.size() << " y values";
    PreparedSeries p{.series = &s, .color = palette_color(s.color < 0 ? next_color++ : s.color), .runs = {}};
    std::vector<Point> run;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double x = s.x.empty() ? static_cast<double>(i) : s.x[i];
      double y = s.y[i];
      const bool ok = std::isfinite(x) && std::isfinite(y) && (!panel.log_y || y > 0);
      if (ok) {
        if (panel.log_y) y = std::log10(y);
        run.push_back({x, y});
      } else if (!run.empty()) {
        p.runs.push_back(std::move(run));
        run.clear();
      }
    }
    if (!run.empty()) p.runs.push_back(std::move(run));
    out.push_back(std::move(p));
  }
  return out;
}

// Liang-Barsky: cuts the segment a-b to the rectangle r; false when none of it lies inside.
bool clip_segment(Point& a, Point& b, const Rect& r) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  double t0 = 0, t1 = 1;
  const std::array<std::pair<double, double>, 4> edges = {
      {{-dx, a.x - r.x0}, {dx, r.x1 - a.x}, {-dy, a.y - r.y0}, {dy, r.y1 - a.y}}};
  for (const auto& [p, q] : edges) {
    if (p == 0) {
      if (q < 0) return false;  // parallel to this edge and outside it
      continue;
    }
    const double t = q / p;
    if (p < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const Point start = a;
  if (t1 < 1) b = {start.x + t1 * dx, start.y + t1 * dy};
  if (t0 > 0) a = {start.x + t0 * dx, start.y + t0 * dy};
  return true;
}

void draw_marker(Canvas& canvas, double x, double y, double line_width) {
  canvas.dot(x, y, std::max(2.8, 1.1 * line_width + 1.5));
}

struct LegendLayout {
  double font = 0, row = 0, sample = 0, gap = 0, pad = 0, column_width = 0;
  int columns = 1, rows = 0;
  bool fits = false;  // within the size limits it was laid out for
  std::vector<std::string> labels{};
  double width() const { return 2 * pad + columns * column_width + (columns - 1) * gap * 2; }
  double height() const { return 2 * pad + rows * row; }
};

std::vector<const PreparedSeries*> legend_entries(const std::vector<PreparedSeries>& prepared) {
  std::vector<const PreparedSeries*> entries;
  for (const PreparedSeries& p : prepared)
    if (!p.series->label.empty()) entries.push_back(&p);
  return entries;
}

// Adds columns while the legend is taller than `target_height` and wider ones still fit in `max_width`;
// shrinks the text (down to about half) while it exceeds max_width x max_height.
LegendLayout layout_legend(const std::vector<const PreparedSeries*>& entries, double font, double max_width,
                           double max_height, double target_height) {
  LegendLayout l;
  for (double shrink = 1.0;; shrink *= 0.9) {
    l.font = font * shrink;
    l.row = 1.5 * l.font;
    l.sample = 2.2 * l.font;
    l.gap = 0.6 * l.font;
    l.pad = 0.5 * l.font;
    double max_text = 0;
    l.labels.clear();
    for (const PreparedSeries* e : entries) {
      l.labels.push_back(
          fit_text(e->series->label, l.font, std::max(60.0, max_width - l.sample - 4 * l.gap)));
      max_text = std::max(max_text, text_width(l.labels.back(), l.font));
    }
    l.column_width = l.sample + l.gap + max_text;
    const int n = static_cast<int>(entries.size());
    for (l.columns = 1;; ++l.columns) {
      l.rows = (n + l.columns - 1) / l.columns;
      const bool short_enough = l.height() <= target_height || l.rows == 1;
      const bool next_fits = l.columns < n && (l.columns + 1) * (l.column_width + 2 * l.gap) <= max_width;
      if (short_enough || !next_fits) break;
    }
    l.fits = l.height() <= max_height && l.width() <= max_width;
    if (l.fits || shrink < 0.55) return l;
  }
}

// Inside the axes, in the spot where the box hides the fewest drawn points: matplotlib's candidates for
// loc="best", in its order of preference.
Rect best_legend_box(const LegendLayout& l, const std::vector<PreparedSeries>& prepared, const Rect& plot,
                     const std::function<Point(Point)>& to_px, double margin) {
  const double w = l.width(), h = l.height();
  const double cx = plot.x0 + (plot.width() - w) / 2, cy = plot.y0 + (plot.height() - h) / 2;
  const double left = plot.x0 + margin, right = plot.x1 - margin - w;
  const double top = plot.y0 + margin, bottom = plot.y1 - margin - h;
  const std::array<Point, 9> corners = {{{right, top},
                                         {left, top},
                                         {left, bottom},
                                         {right, bottom},
                                         {right, cy},
                                         {left, cy},
                                         {cx, bottom},
                                         {cx, top},
                                         {cx, cy}}};
  // Badness: vertices plus samples every few pixels along each segment under the box.
  std::array<long, corners.size()> hidden{};
  const auto count = [&](Point p) {
    for (size_t c = 0; c < corners.size(); ++c)
      if (p.x >= corners[c].x && p.x <= corners[c].x + w && p.y >= corners[c].y && p.y <= corners[c].y + h)
        ++hidden[c];
  };
  for (const PreparedSeries& p : prepared)
    for (const std::vector<Point>& run : p.runs)
      for (size_t i = 0; i < run.size(); ++i) {
        const Point a = to_px(run[i]);
        count(a);
        if (i + 1 == run.size()) break;
        const Point b = to_px(run[i + 1]);
        const int steps = std::min(200, static_cast<int>(std::hypot(b.x - a.x, b.y - a.y) / 4));
        for (int k = 1; k < steps; ++k) {
          const double t = static_cast<double>(k) / steps;
          count({a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)});
        }
      }
  const size_t best = std::min_element(hidden.begin(), hidden.end()) - hidden.begin();
  return {corners[best].x, corners[best].y, corners[best].x + w, corners[best].y + h};
}

void draw_legend(Canvas& canvas, const std::vector<const PreparedSeries*>& entries, const LegendLayout& l,
                 const Rect& box) {
  canvas.color(kLegendBackground);
  canvas.fill_rect(box);
  canvas.color(kLegendEdge);
  canvas.pen(1.0);
  canvas.stroke_rect(box);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Series& s = *entries[i]->series;
    const int column = static_cast<int>(i) / l.rows, row = static_cast<int>(i) % l.rows;
    const double x = box.x0 + l.pad + column * (l.column_width + 2 * l.gap);
    const double y = box.y0 + l.pad + (row + 0.5) * l.row;
    // A series drawn only as isolated dots shows a dot, not a line it never has.
    bool has_line = false;
    for (const std::vector<Point>& run : entries[i]->runs) has_line = has_line || run.size() > 1;
    canvas.color(entries[i]->color);
    if (has_line || entries[i]->runs.empty()) {
      canvas.pen(std::min(s.width, 0.5 * l.row), s.dashed);
      canvas.line(x, y, x + l.sample, y);
      canvas.pen(1.0);
    }
    if (s.markers || (!has_line && !entries[i]->runs.empty()))
      draw_marker(canvas, x + l.sample / 2, y, s.width);
    canvas.text(x + l.sample + l.gap, y, l.labels[i], l.font, 0.0);
  }
}

void draw_panel(Canvas& canvas, const Panel& panel, const Rect& cell, const Fonts& fonts) {
  const std::vector<PreparedSeries> prepared = prepare(panel);

  // Data ranges.
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  bool have_data = false;
  for (const PreparedSeries& p : prepared)
    for (const std::vector<Point>& run : p.runs)
      for (const Point& pt : run) {
        xlo = std::min(xlo, pt.x);
        xhi = std::max(xhi, pt.x);
        ylo = std::min(ylo, pt.y);
        yhi = std::max(yhi, pt.y);
        have_data = true;
      }
  const auto [x0, x1] = fit_range(xlo, xhi, 0.02, have_data);
  auto [y0, y1] = fit_range(ylo, yhi, 0.05, have_data, panel.log_y);
  const auto limit = [&](std::optional<double> v) -> std::optional<double> {
    if (!v || !std::isfinite(*v) || (panel.log_y && *v <= 0)) return std::nullopt;
    return panel.log_y ? std::log10(*v) : *v;
  };
  const std::optional<double> user_lo = limit(panel.y_min), user_hi = limit(panel.y_max);
  if (user_lo) y0 = *user_lo;
  if (user_hi) y1 = *user_hi;
  if (!(y1 > y0)) {  // fixed limits that contradict each other or the data
    if (user_lo && !user_hi)
      y1 = y0 + std::max(1.0, std::abs(y0) * 0.1);
    else if (user_hi && !user_lo)
      y0 = y1 - std::max(1.0, std::abs(y1) * 0.1);
    else
      std::tie(y0, y1) = fit_range(std::min(y0, y1), std::max(y0, y1), 0, true, panel.log_y);
  }

  // Layout: vertical margins first (they do not depend on tick labels), then the y ticks, whose label
  // widths set the left margin, then the x ticks.
  const double pad = 0.5 * fonts.base, tick_len = 0.35 * fonts.base, tick_gap = 0.3 * fonts.base;
  Rect plot{};
  plot.y0 = cell.y0 + pad + (panel.title.empty() ? 0.4 * fonts.base : 1.9 * fonts.title);
  plot.y1 = cell.y1 - pad - (panel.x_label.empty() ? 0 : 1.7 * fonts.label) - 1.4 * fonts.tick - tick_len;
  plot.y1 = std::max(plot.y1, plot.y0 + 10);
  const Axis y_axis = panel.log_y ? log_axis(y0, y1, plot.height(), 3.2 * fonts.tick)
                                  : linear_axis(y0, y1, plot.height(), 3.2 * fonts.tick);
  const double y_label_width = max_label_width(y_axis, fonts.tick);
  plot.x0 =
      cell.x0 + pad + (panel.y_label.empty() ? 0 : 1.7 * fonts.label) + y_label_width + tick_len + tick_gap;
  plot.x1 = std::max(cell.x1 - pad - 1.2 * fonts.tick, plot.x0 + 10);
  // A legend that would hide much of the data moves to the right of the axes when the cell has room.
  const std::vector<const PreparedSeries*> entries =
      panel.legend ? legend_entries(prepared) : decltype(entries){};
  LegendLayout legend =
      layout_legend(entries, fonts.legend, 0.95 * plot.width(), 0.9 * plot.height(), plot.height() / 3);
  std::optional<Rect> legend_box;
  const double legend_margin = 0.6 * fonts.base;
  if (!entries.empty() &&
      (!legend.fits || legend.width() * legend.height() > 0.25 * plot.width() * plot.height())) {
    const LegendLayout outside =
        layout_legend(entries, fonts.legend, 0.4 * cell.width(), plot.height(), plot.height());
    if (outside.fits && outside.font >= 0.8 * fonts.legend) {
      legend = outside;
      plot.x1 = std::max(cell.x1 - pad - legend.width() - legend_margin, plot.x0 + 10);
      legend_box = Rect{plot.x1 + legend_margin, plot.y0, plot.x1 + legend_margin + legend.width(),
                        plot.y0 + legend.height()};
    }
  }
  Axis x_axis = linear_axis(x0, x1, plot.width(), 5.5 * fonts.tick);
  // Long x labels: fewer ticks until they stop overlapping.
  for (int target_px = 8; max_label_width(x_axis, fonts.tick) * 1.3 * x_axis.ticks.size() > plot.width() &&
                          x_axis.ticks.size() > 2 && target_px < 40;
       target_px += 2)
    x_axis = linear_axis(x0, x1, plot.width(), target_px * fonts.tick);

  const auto px_x = [&](double v) {
    return plot.x0 + (v - x_axis.lo) / (x_axis.hi - x_axis.lo) * plot.width();
  };
  const auto px_y = [&](double v) {
    return plot.y1 - (v - y_axis.lo) / (y_axis.hi - y_axis.lo) * plot.height();
  };
  const auto to_px = [&](Point p) { return Point{px_x(p.x), px_y(p.y)}; };
  // Crisp 1-pixel lines sit on pixel centres.
  const auto snap = [](double v) { return std::floor(v) + 0.5; };

  // Grid behind the data.
  canvas.color(kGrid);
  canvas.pen(1.0);
  for (const Tick& t : x_axis.ticks) canvas.line(snap(px_x(t.value)), plot.y0, snap(px_x(t.value)), plot.y1);
  for (const Tick& t : y_axis.ticks) canvas.line(plot.x0, snap(px_y(t.value)), plot.x1, snap(px_y(t.value)));

  // Data: lines clipped to the axes, dots for markers and for isolated points, which a line would not
  // show. Segments are first cut to a rectangle a little larger than the axes (fixed y limits can put
  // points millions of pixels away, beyond cairo's fixed-point range), then clipped exactly by cairo.
  const double margin = 4 * std::max(fonts.base, 8.0);
  const Rect outer{plot.x0 - margin, plot.y0 - margin, plot.x1 + margin, plot.y1 + margin};
  canvas.clip(plot);
  for (const PreparedSeries& p : prepared) {
    canvas.color(p.color);
    canvas.pen(p.series->width, p.series->dashed);
    for (const std::vector<Point>& run : p.runs) {
      std::vector<Point> path;
      const auto flush = [&] {
        canvas.polyline(path);
        path.clear();
      };
      for (size_t i = 1; i < run.size(); ++i) {
        // (Bounded so that absurd data cannot make infinities: 1e15 px is far enough to keep the slope.)
        const auto bounded = [](Point q) {
          return Point{std::clamp(q.x, -1e15, 1e15), std::clamp(q.y, -1e15, 1e15)};
        };
        const Point a = bounded(to_px(run[i - 1])), b = bounded(to_px(run[i]));
        Point ca = a, cb = b;
        if (!clip_segment(ca, cb, outer)) {
          flush();
          continue;
        }
        if (path.empty() || ca.x != a.x || ca.y != a.y) {
          flush();
          path.push_back(ca);
        }
        path.push_back(cb);
        if (cb.x != b.x || cb.y != b.y) flush();
      }
      flush();
    }
  }
  canvas.unclip();
  canvas.pen(1.0);
  for (const PreparedSeries& p : prepared) {
    canvas.color(p.color);
    for (const std::vector<Point>& run : p.runs) {
      if (!p.series->markers && run.size() > 1) continue;
      for (const Point& pt : run) {
        const Point q = to_px(pt);
        if (q.x >= plot.x0 && q.x <= plot.x1 && q.y >= plot.y0 && q.y <= plot.y1)
          draw_marker(canvas, q.x, q.y, p.series->width);
      }
    }
  }
  if (!have_data)
    canvas.text((plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2, "no data", fonts.label, 0.5, kMuted);

  // Frame, ticks (outward, left and bottom), labels.
  canvas.color(kFrame);
  canvas.pen(1.0);
  const Rect frame{snap(plot.x0), snap(plot.y0), snap(plot.x1), snap(plot.y1)};
  canvas.stroke_rect(frame);
  for (const Tick& t : x_axis.ticks)
    canvas.line(snap(px_x(t.value)), frame.y1, snap(px_x(t.value)), frame.y1 + tick_len);
  for (const Tick& t : y_axis.ticks)
    canvas.line(frame.x0 - tick_len, snap(px_y(t.value)), frame.x0, snap(px_y(t.value)));
  for (double v : x_axis.minor)
    canvas.line(snap(px_x(v)), frame.y1, snap(px_x(v)), frame.y1 + tick_len * 0.55);
  for (double v : y_axis.minor)
    canvas.line(frame.x0 - tick_len * 0.55, snap(px_y(v)), frame.x0, snap(px_y(v)));
  for (const Tick& t : x_axis.ticks)
    canvas.text(px_x(t.value), frame.y1 + tick_len + tick_gap + 0.55 * fonts.tick, t.label, fonts.tick, 0.5);
  for (const Tick& t : y_axis.ticks)
    canvas.text(frame.x0 - tick_len - tick_gap, px_y(t.value), t.label, fonts.tick, 1.0);

  const double mid_x = (plot.x0 + plot.x1) / 2, mid_y = (plot.y0 + plot.y1) / 2;
  if (!panel.x_label.empty())
    canvas.text(mid_x,
                frame.y1 + tick_len + tick_gap + 1.1 * fonts.tick + 0.5 * fonts.label + 0.35 * fonts.label,
                fit_text(panel.x_label, fonts.label, cell.width()), fonts.label, 0.5);
  if (!panel.y_label.empty())
    canvas.text(frame.x0 - tick_len - tick_gap - y_label_width - 0.75 * fonts.label, mid_y,
                fit_text(panel.y_label, fonts.label, plot.height() + 2 * pad), fonts.label, 0.5, kText, false,
                90);
  if (!panel.title.empty())
    canvas.text(mid_x, plot.y0 - 0.85 * fonts.title, fit_text(panel.title, fonts.title, cell.width(), true),
                fonts.title, 0.5, kText, true);

  if (!entries.empty())
    draw_legend(canvas, entries, legend,
                legend_box ? *legend_box : best_legend_box(legend, prepared, plot, to_px, legend_margin));
}

}  // namespace

void save_png(const Figure& figure, const std::string& path) {
  RESNET_CHECK(figure.width_px >= 64 && figure.width_px <= 16384 && figure.height_px >= 64 &&
               figure.height_px <= 16384)
      << "figure size " << figure.width_px << "x" << figure.height_px << " px (64..16384 each)";
  RESNET_CHECK(figure.columns >= 0) << "columns = " << figure.columns;
  for (const Panel& panel : figure.panels)
    for (const Series& s : panel.series)
      RESNET_CHECK(s.x.empty() || s.x.size() == s.y.size())
          << "series '" << s.label << "' has " << s.x.size() << " x values but " << s.y.size() << " y values";

  const int w = figure.width_px, h = figure.height_px;
  const int n = static_cast<int>(figure.panels.size());
  const int columns = n == 0 ? 1 : figure.columns == 0 ? n : std::min(figure.columns, n);
  const int rows = n == 0 ? 1 : (n + columns - 1) / columns;
  // Text grows slowly with the panel size: ~13 px for a 560x440 panel (the default two-panel figure).
  const double panel_area = static_cast<double>(w) * h / (columns * rows);
  const Fonts fonts(std::clamp(13.0 * std::pow(panel_area / (560.0 * 440.0), 0.25), 11.0, 22.0));
  render(w, h, path, [&](Canvas& canvas) {
    double top = 0;
    if (!figure.title.empty()) {
      top = 2.2 * fonts.figure_title;
      canvas.text(w / 2.0, 0.5 * fonts.base + 0.8 * fonts.figure_title,
                  fit_text(figure.title, fonts.figure_title, w - fonts.base, true), fonts.figure_title, 0.5,
                  kText, true);
    }
    if (n == 0) return;
    const double cell_w = static_cast<double>(w) / columns, cell_h = (h - top) / rows;
    for (int i = 0; i < n; ++i) {
      const int r = i / columns, c = i % columns;
      const Rect cell{c * cell_w, top + r * cell_h, (c + 1) * cell_w, top + (r + 1) * cell_h};
      draw_panel(canvas, figure.panels[i], cell, fonts);
    }
  });
}

}  // namespace resnet::viz
