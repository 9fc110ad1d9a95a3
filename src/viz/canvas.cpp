#include "viz/canvas.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <new>
#include <numbers>

#include "resnet/core/check.h"
#include "resnet/io/atomic_file.h"

namespace resnet::viz::detail {
namespace {

struct Rgba {
  double r, g, b, a;
};

Rgba rgba(Rgb c, double a = 1.0) {
  return {c.r / 255.0, c.g / 255.0, c.b / 255.0, a};
}

Rgba role_color(int role) {
  if (role >= kPaletteBase && role < kPaletteBase + kPaletteSize) return rgba(tab10(role - kPaletteBase));
  switch (role) {
    case kText:
      return rgba({34, 34, 34});
    case kFrame:
      return rgba({80, 80, 80});
    case kGrid:
      return rgba({228, 228, 228});
    case kLegendBackground:
      return rgba({255, 255, 255}, 0.88);
    case kLegendEdge:
      return rgba({204, 204, 204});
    case kMuted:
      return rgba({140, 140, 140});
    default:
      return rgba({255, 255, 255});
  }
}

// matplotlib's "Blues" stops.
constexpr std::array<Rgb, 9> kBlues = {{{247, 251, 255},
                                        {222, 235, 247},
                                        {198, 219, 239},
                                        {158, 202, 225},
                                        {107, 174, 214},
                                        {66, 146, 198},
                                        {33, 113, 181},
                                        {8, 81, 156},
                                        {8, 48, 107}}};

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  try {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  } catch (const std::bad_alloc&) {
    return CAIRO_STATUS_NO_MEMORY;
  }
}

}  // namespace

int palette_color(int index) {
  return kPaletteBase + ((index % kPaletteSize) + kPaletteSize) % kPaletteSize;
}

Rgb blues(double fraction) {
  const double t = std::clamp(std::isnan(fraction) ? 0.0 : fraction, 0.0, 1.0) * (kBlues.size() - 1);
  const size_t i = std::min(static_cast<size_t>(t), kBlues.size() - 2);
  const double f = t - i;
  const auto mix = [&](uint8_t a, uint8_t b) { return static_cast<uint8_t>(std::lround(a + f * (b - a))); };
  return {mix(kBlues[i].r, kBlues[i + 1].r), mix(kBlues[i].g, kBlues[i + 1].g),
          mix(kBlues[i].b, kBlues[i + 1].b)};
}

Canvas::Canvas(int width, int height) : width_(width), height_(height) {
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cr_ = cairo_create(surface_);
  if (cairo_status(cr_) == CAIRO_STATUS_NO_MEMORY) {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
    throw std::bad_alloc();
  }
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
  pen(1.0);
  color(kText);
}

Canvas::~Canvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void Canvas::color(int role) {
  const Rgba c = role_color(role);
  cairo_set_source_rgba(cr_, c.r, c.g, c.b, c.a);
}

void Canvas::color(Rgb rgb) {
  cairo_set_source_rgb(cr_, rgb.r / 255.0, rgb.g / 255.0, rgb.b / 255.0);
}

void Canvas::pen(double width_px, bool dashed) {
  cairo_set_line_width(cr_, width_px);
  if (dashed) {
    const std::array<double, 2> dashes = {std::max(4.0, 3.7 * width_px), std::max(2.5, 1.6 * width_px)};
    cairo_set_dash(cr_, dashes.data(), static_cast<int>(dashes.size()), 0);
  } else {
    cairo_set_dash(cr_, nullptr, 0, 0);
  }
}

void Canvas::line(double x0, double y0, double x1, double y1) {
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
}

void Canvas::polyline(const std::vector<Point>& points) {
  if (points.size() < 2) return;
  cairo_move_to(cr_, points[0].x, points[0].y);
  for (size_t i = 1; i < points.size(); ++i) cairo_line_to(cr_, points[i].x, points[i].y);
  cairo_stroke(cr_);
}

void Canvas::fill_rect(const Rect& r) {
  cairo_rectangle(cr_, r.x0, r.y0, r.width(), r.height());
  cairo_fill(cr_);
}

void Canvas::stroke_rect(const Rect& r) {
  cairo_rectangle(cr_, r.x0, r.y0, r.width(), r.height());
  cairo_stroke(cr_);
}

void Canvas::dot(double x, double y, double radius) {
  cairo_new_sub_path(cr_);
  cairo_arc(cr_, x, y, radius, 0, 2 * std::numbers::pi);
  cairo_fill(cr_);
}

void Canvas::fill_vertical_gradient(const Rect& r, const std::vector<Rgb>& stops) {
  if (stops.empty()) return;
  cairo_pattern_t* pattern = cairo_pattern_create_linear(0, r.y1, 0, r.y0);
  for (size_t i = 0; i < stops.size(); ++i) {
    const double at = stops.size() == 1 ? 0.0 : static_cast<double>(i) / (stops.size() - 1);
    cairo_pattern_add_color_stop_rgb(pattern, at, stops[i].r / 255.0, stops[i].g / 255.0, stops[i].b / 255.0);
  }
  cairo_save(cr_);
  cairo_set_source(cr_, pattern);
  cairo_rectangle(cr_, r.x0, r.y0, r.width(), r.height());
  cairo_fill(cr_);
  cairo_restore(cr_);
  cairo_pattern_destroy(pattern);
}

void Canvas::clip(const Rect& r) {
  cairo_save(cr_);
  cairo_rectangle(cr_, r.x0, r.y0, r.width(), r.height());
  cairo_clip(cr_);
}

void Canvas::unclip() {
  cairo_restore(cr_);
}

void Canvas::text(double x, double y, const std::string& text, double px, double just, int color_role,
                  bool bold, double angle) {
  if (text.empty()) return;
  const double width = text_width(text, px, bold);
  cairo_save(cr_);
  color(color_role);
  select_font(cr_, px, bold);
  cairo_translate(cr_, x, y);
  if (angle != 0) cairo_rotate(cr_, -angle * std::numbers::pi / 180);
  // DejaVu Sans' capitals are 0.73 em tall: the baseline sits half of that below the reference point.
  cairo_move_to(cr_, -just * width, 0.365 * px);
  show_text(cr_, text, px, bold);
  cairo_new_path(cr_);
  cairo_restore(cr_);
}

std::string Canvas::error() const {
  const cairo_status_t status = cairo_status(cr_);
  return status == CAIRO_STATUS_SUCCESS ? "" : cairo_status_to_string(status);
}

std::string Canvas::png(const std::string& what) const {
  cairo_surface_flush(surface_);
  std::string bytes;
  const cairo_status_t status = cairo_surface_write_to_png_stream(surface_, append_png, &bytes);
  if (status == CAIRO_STATUS_NO_MEMORY) throw std::bad_alloc();
  static constexpr char kSignature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1A', '\n'};
  if (status != CAIRO_STATUS_SUCCESS || bytes.size() < 8 || bytes.compare(0, 8, kSignature, 8) != 0)
    throw UserError("cairo could not encode '" + what + "' as PNG (" + cairo_status_to_string(status) + ")");
  return bytes;
}

void check_canvas(const Canvas& canvas, const std::string& path) {
  const std::string error = canvas.error();
  if (error == cairo_status_to_string(CAIRO_STATUS_NO_MEMORY)) throw std::bad_alloc();
  if (!error.empty()) throw UserError("cairo failed while drawing '" + path + "': " + error);
}

void write_png_atomically(const std::string& path, const std::string& png) {
  io::write_file_atomically(path, [&](const io::ByteSink& sink) { sink(png.data(), png.size()); });
}

}  // namespace resnet::viz::detail
