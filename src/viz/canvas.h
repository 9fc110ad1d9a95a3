// The drawing surface of charts: a cairo RGB image surface of exactly width x height pixels, white, with
// coordinates in pixels from the top-left corner (y down), and the PNG it encodes to.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "resnet/viz/chart.h"
#include "resnet/viz/colormap.h"
#include "viz/text.h"

namespace resnet::viz::detail {

struct Point {
  double x, y;
};

struct Rect {
  double x0, y0, x1, y1;  // pixels, y down
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
};

// Colour roles; palette colours are palette_color(i).
enum Color : int {
  kPaletteBase = 0,  // .. kPaletteBase + 9: tab10
  kText = 10,
  kFrame,
  kGrid,
  kLegendBackground,
  kLegendEdge,
  kMuted,
  kWhite,
  kColorCount
};
int palette_color(int index);

// matplotlib's "Blues" at `fraction` in [0, 1] (the confusion matrix).
Rgb blues(double fraction);

class Canvas {
 public:
  Canvas(int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  void color(int role);
  void color(Rgb rgb);
  // Line width in pixels; dashed: matplotlib's dash pattern scaled by the width.
  void pen(double width_px, bool dashed = false);

  void line(double x0, double y0, double x1, double y1);
  void polyline(const std::vector<Point>& points);
  void fill_rect(const Rect& r);
  void stroke_rect(const Rect& r);
  void dot(double x, double y, double radius);
  // Fills `r` with a vertical gradient through `stops` (bottom = stops.front(), top = stops.back()).
  void fill_vertical_gradient(const Rect& r, const std::vector<Rgb>& stops);

  // Drawing is limited to `r` until unclip().
  void clip(const Rect& r);
  void unclip();

  // Sanitised text (see viz/text.h) whose reference point (x, y) is `just` (0 left .. 1 right) along the
  // baseline and at the middle of capitals (half the cap height above the baseline). angle in degrees,
  // counter-clockwise.
  void text(double x, double y, const std::string& text, double px, double just, int color_role = kText,
            bool bold = false, double angle = 0);

  int width() const { return width_; }
  int height() const { return height_; }

  // cairo's complaint if any drawing call failed ("" if none).
  std::string error() const;
  // The image as PNG bytes; throws UserError (naming `what`) when encoding fails.
  std::string png(const std::string& what) const;

 private:
  int width_, height_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

// Renders with `draw` on a fresh canvas and writes the PNG atomically to `path`; errors are UserErrors
// naming the path.
template <class Draw>
void render(int width, int height, const std::string& path, Draw&& draw);

void write_png_atomically(const std::string& path, const std::string& png);
void check_canvas(const Canvas& canvas, const std::string& path);

template <class Draw>
void render(int width, int height, const std::string& path, Draw&& draw) {
  require_font(path);
  std::string png;
  {
    Canvas canvas(width, height);
    draw(canvas);
    check_canvas(canvas, path);
    png = canvas.png(path);
  }
  write_png_atomically(path, png);
}

}  // namespace resnet::viz::detail
