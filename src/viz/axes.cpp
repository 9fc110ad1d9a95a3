#include "viz/axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "viz/text.h"

namespace resnet::viz::detail {
namespace {

// Numbers with a real minus sign, as typeset.
std::string typeset_number(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\u2212");
  return s;
}

// The smallest of 1, 2, 2.5, 5 x 10^k that gives at most `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

// Exponents keep the ASCII hyphen: U+2212's side bearings open a visible gap after "10" in superscript.
std::string decade_label(int k) {
  return "10" + std::string(1, kSuperscript) + std::to_string(k);
}

// Decimals that print multiples of `step` exactly (2.5 -> 1, 0.02 -> 2).
int decimals_for(double step) {
  int d = 0;
  while (d < 12 && std::abs(step * std::pow(10, d) - std::round(step * std::pow(10, d))) >
                       1e-6 * step * std::pow(10, d))
    ++d;
  return d;
}

// Labels for values that are multiples of `step`: fixed-point with just enough decimals, or
// mantissa x 10^e when the numbers are very large or very small.
std::vector<std::string> format_ticks(const std::vector<double>& values, double step) {
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::abs(v));
  std::vector<std::string> labels;
  const int decimals = decimals_for(step);
  if (largest >= 1e6 || (largest > 0 && largest < 1e-3)) {
    const int e = static_cast<int>(std::floor(std::log10(largest)));
    const int mantissa_decimals = decimals_for(step / std::pow(10.0, e));
    for (double v : values) {
      if (std::abs(v) < step * 1e-6) {
        labels.push_back("0");
        continue;
      }
      labels.push_back(format_fixed(v / std::pow(10.0, e), mantissa_decimals) + "\u00D7" + decade_label(e));
    }
    return labels;
  }
  for (double v : values) labels.push_back(format_fixed(v, decimals));
  return labels;
}

std::string plain_value_label(double v) {
  // v is m x 10^k with a one-digit m: enough decimals to show it exactly.
  const int k = static_cast<int>(std::floor(std::log10(v) + 1e-9));
  if (k < -4 || k > 5) {
    const double m = std::round(v / std::pow(10.0, k));
    return format_fixed(m, 0) + "\u00D7" + decade_label(k);
  }
  return format_fixed(v, std::max(0, -k));
}

}  // namespace

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos)
    s = decimals > 0 ? "0." + std::string(decimals, '0') : "0";
  return typeset_number(s);
}

Axis linear_axis(double lo, double hi, double length_px, double spacing_px) {
  Axis axis{.lo = lo, .hi = hi};
  const int target = std::clamp(static_cast<int>(length_px / spacing_px), 2, 10);
  const double step = nice_step(hi - lo, target);
  std::vector<double> values;
  // (The size caps only guard against floating-point surprises: a nice step gives about `target` ticks.)
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9 && values.size() < 50; k += 1)
    values.push_back(std::abs(k) < 1e-12 ? 0.0 : k * step);
  const std::vector<std::string> labels = format_ticks(values, step);
  for (size_t i = 0; i < values.size(); ++i) axis.ticks.push_back({values[i], labels[i]});
  // Minor ticks: 4 or 5 per interval, like matplotlib's AutoMinorLocator.
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const int subdivisions = std::abs(mantissa - 2.5) < 1e-6 || std::abs(mantissa - 5) < 1e-6 ? 5 : 4;
  const double minor = step / subdivisions;
  for (double k = std::ceil(lo / minor - 1e-9); k * minor <= hi + minor * 1e-9 && axis.minor.size() < 500;
       k += 1)
    axis.minor.push_back(k * minor);
  return axis;
}

Axis log_axis(double lo, double hi, double length_px, double spacing_px) {
  Axis axis{.lo = lo, .hi = hi, .log = true};
  const int target = std::clamp(static_cast<int>(length_px / spacing_px), 2, 10);
  const int first = static_cast<int>(std::ceil(lo - 1e-9)), last = static_cast<int>(std::floor(hi + 1e-9));
  const int decades = last - first + 1;
  const bool minor_ticks = hi - lo <= 8;
  for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)) && minor_ticks; ++k)
    for (int m = 2; m <= 9; ++m) {
      const double v = k + std::log10(m);
      if (v >= lo && v <= hi) axis.minor.push_back(v);
    }
  if (decades >= 2) {
    const int stride = (decades + target - 1) / target;
    for (int k = first; k <= last; ++k) {
      if ((k - first) % stride == 0)
        axis.ticks.push_back({static_cast<double>(k), decade_label(k)});
      else
        axis.minor.push_back(k);
    }
    return axis;
  }
  // Less than two decades in view: label 1-2-5 (or every digit) so that the axis can still be read.
  for (const std::vector<int>& mantissas :
       {std::vector<int>{1, 2, 5}, std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    axis.ticks.clear();
    for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)); ++k)
      for (int m : mantissas) {
        const double v = k + std::log10(m);
        if (v >= lo - 1e-9 && v <= hi + 1e-9)
          axis.ticks.push_back({v, m == 1 ? decade_label(k) : plain_value_label(m * std::pow(10.0, k))});
      }
    if (axis.ticks.size() >= 2 && axis.ticks.size() <= static_cast<size_t>(target) + 1) return axis;
    if (axis.ticks.size() >= 2) break;
  }
  if (axis.ticks.size() >= 2) return axis;
  // Under a factor of two in view: linear ticks on the values themselves.
  const double vlo = std::pow(10.0, lo), vhi = std::pow(10.0, hi);
  const Axis linear = linear_axis(vlo, vhi, length_px, spacing_px);
  axis.ticks.clear();
  axis.minor.clear();
  for (const Tick& t : linear.ticks)
    if (t.value > 0) axis.ticks.push_back({std::log10(t.value), t.label});
  return axis;
}

std::pair<double, double> fit_range(double lo, double hi, double margin, bool have_data, bool log) {
  if (!have_data) return {0, 1};
  lo = std::max(lo, -1e300);  // keeps hi - lo finite
  hi = std::min(hi, 1e300);
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
    const double pad = log ? 0.5 : lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  const double span = hi - lo;
  return {lo - margin * span, hi + margin * span};
}

double max_label_width(const Axis& axis, double font) {
  double w = 0;
  for (const Tick& t : axis.ticks) w = std::max(w, text_width(t.label, font));
  return w;
}

}  // namespace resnet::viz::detail
