// Axes of line charts: tick positions and labels (linear and log10), fitted data ranges.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace resnet::viz::detail {

struct Tick {
  double value;       // axis units (log10 of the value on a log axis)
  std::string label;  // sanitised text, possibly with a kSuperscript (10^k)
};

struct Axis {
  double lo = 0, hi = 1;  // axis units
  bool log = false;
  std::vector<Tick> ticks{};  // major (labelled) ticks
  std::vector<double> minor{};
};

// `v` with `decimals` decimals and a real minus sign (U+2212); "-0.0" prints as "0.0".
std::string format_fixed(double v, int decimals);

// About length_px / spacing_px ticks (2..10) at 1, 2, 2.5, 5 x 10^k over [lo, hi], with minor ticks.
Axis linear_axis(double lo, double hi, double length_px, double spacing_px);
// lo/hi in log10 units: decades, or 1-2-5 / every digit when under two decades are in view, or linear
// ticks on the values under a factor of two.
Axis log_axis(double lo, double hi, double length_px, double spacing_px);

// Fitted range [lo, hi] of finite values, with a fractional margin; a single value is padded.
// On a log axis (log10 units) a single value gets half a decade either side. No data: [0, 1].
std::pair<double, double> fit_range(double lo, double hi, double margin, bool have_data, bool log = false);

// The widest tick label at font size `font`.
double max_label_width(const Axis& axis, double font);

}  // namespace resnet::viz::detail
