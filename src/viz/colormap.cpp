#include "resnet/viz/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

#include "resnet/core/check.h"
#include "viz/pixels.h"

namespace resnet::viz {
namespace {

// Stops at t = i / (n - 1). viridis and inferno: the maps' colours at nine evenly spaced points (as
// their authors' 9-colour palettes list them); between stops the maps are close to linear in sRGB.
constexpr std::array<Rgb, 9> kViridis = {{{0x44, 0x01, 0x54},
                                          {0x47, 0x2d, 0x7b},
                                          {0x3b, 0x52, 0x8b},
                                          {0x2c, 0x72, 0x8e},
                                          {0x21, 0x90, 0x8c},
                                          {0x27, 0xad, 0x81},
                                          {0x5d, 0xc8, 0x63},
                                          {0xaa, 0xdc, 0x32},
                                          {0xfd, 0xe7, 0x25}}};
constexpr std::array<Rgb, 9> kInferno = {{{0x00, 0x00, 0x04},
                                          {0x1f, 0x0c, 0x48},
                                          {0x55, 0x0f, 0x6d},
                                          {0x88, 0x22, 0x6a},
                                          {0xba, 0x36, 0x55},
                                          {0xe3, 0x59, 0x32},
                                          {0xf9, 0x8c, 0x0a},
                                          {0xf9, 0xc9, 0x32},
                                          {0xfc, 0xff, 0xa4}}};
// ColorBrewer's 11-class RdBu, reversed: dark blue .. near-white .. dark red.
constexpr std::array<Rgb, 11> kBlueWhiteRed = {{{0x05, 0x30, 0x61},
                                                {0x21, 0x66, 0xac},
                                                {0x43, 0x93, 0xc3},
                                                {0x92, 0xc5, 0xde},
                                                {0xd1, 0xe5, 0xf0},
                                                {0xf7, 0xf7, 0xf7},
                                                {0xfd, 0xdb, 0xc7},
                                                {0xf4, 0xa5, 0x82},
                                                {0xd6, 0x60, 0x4d},
                                                {0xb2, 0x18, 0x2b},
                                                {0x67, 0x00, 0x1f}}};
constexpr std::array<Rgb, 10> kTab10 = {{{31, 119, 180},
                                         {255, 127, 14},
                                         {44, 160, 44},
                                         {214, 39, 40},
                                         {148, 103, 189},
                                         {140, 86, 75},
                                         {227, 119, 194},
                                         {127, 127, 127},
                                         {188, 189, 34},
                                         {23, 190, 207}}};

Rgb interpolate(std::span<const Rgb> stops, double t) {
  const double at = t * static_cast<double>(stops.size() - 1);
  const size_t i = std::min(static_cast<size_t>(at), stops.size() - 2);
  const double f = at - static_cast<double>(i);
  const auto mix = [f](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround(a + f * (static_cast<double>(b) - a)));
  };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b)};
}

Rgb hsv(double h, double s, double v) {
  const double c = v * s, hp = h * 6, x = c * (1 - std::abs(std::fmod(hp, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hp) % 6) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  const auto byte = [m](double u) { return static_cast<uint8_t>(std::lround(255 * (u + m))); };
  return {byte(r), byte(g), byte(b)};
}

}  // namespace

void detail::check_map(const FloatMap& map) {
  RESNET_CHECK(map.height >= 1 && map.width >= 1) << "float map of " << map.height << "x" << map.width;
  RESNET_CHECK(map.height <= (int64_t{1} << 30) / map.width)
      << "float map of " << map.height << "x" << map.width;
  RESNET_CHECK_EQ(map.values.size(), static_cast<size_t>(map.height * map.width)) << "(float map values)";
}

Rgb colormap(Colormap map, double t) {
  t = std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0);
  switch (map) {
    case Colormap::kViridis:
      return interpolate(kViridis, t);
    case Colormap::kInferno:
      return interpolate(kInferno, t);
    case Colormap::kBlueWhiteRed:
      return interpolate(kBlueWhiteRed, t);
    case Colormap::kGray:
      break;
  }
  const auto v = static_cast<uint8_t>(std::lround(255 * t));
  return {v, v, v};
}

bool is_diverging(Colormap map) {
  return map == Colormap::kBlueWhiteRed;
}

std::optional<Colormap> colormap_from_name(std::string_view name) {
  for (Colormap m : {Colormap::kViridis, Colormap::kInferno, Colormap::kGray, Colormap::kBlueWhiteRed})
    if (colormap_name(m) == name) return m;
  return std::nullopt;
}

std::string_view colormap_name(Colormap map) {
  switch (map) {
    case Colormap::kViridis:
      return "viridis";
    case Colormap::kInferno:
      return "inferno";
    case Colormap::kGray:
      return "gray";
    case Colormap::kBlueWhiteRed:
      return "bwr";
  }
  return "?";
}

Rgb tab10(int64_t index) {
  return kTab10[static_cast<size_t>(((index % 10) + 10) % 10)];
}

Rgb class_color(int64_t id) {
  RESNET_CHECK(id >= 0) << "class id " << id;
  if (id < 10) return kTab10[static_cast<size_t>(id)];
  constexpr double kGoldenFraction = 0.6180339887498949;  // the golden angle as a fraction of the circle
  return hsv(std::fmod(static_cast<double>(id) * kGoldenFraction, 1.0), 0.7, 0.9);
}

ValueRange auto_range(const FloatMap& map, Colormap colormap) {
  detail::check_map(map);
  double lo = INFINITY, hi = -INFINITY;
  for (float v : map.values)
    if (std::isfinite(v)) {
      lo = std::min(lo, static_cast<double>(v));
      hi = std::max(hi, static_cast<double>(v));
    }
  if (lo > hi) return {0, 0};  // no finite value
  if (is_diverging(colormap)) {
    const double m = std::max(std::abs(lo), std::abs(hi));
    return {-m, m};
  }
  return {lo, hi};
}

namespace detail {

Rgb value_color(double v, Colormap map, ValueRange range) {
  if (!std::isfinite(v)) return colormap(map, is_diverging(map) ? 0.5 : 0.0);
  if (!(range.hi > range.lo)) return colormap(map, 0.5);
  return colormap(map, (v - range.lo) / (range.hi - range.lo));
}

void check_range(const ValueRange& range) {
  RESNET_CHECK(std::isfinite(range.lo) && std::isfinite(range.hi) && range.lo < range.hi)
      << "colour range [" << range.lo << ", " << range.hi << "]: needs finite lo < hi";
}

}  // namespace detail

data::Image colorize(const FloatMap& map, Colormap colormap, std::optional<ValueRange> range) {
  detail::check_map(map);
  if (range) detail::check_range(*range);
  const ValueRange r = range ? *range : auto_range(map, colormap);
  data::Image out;
  out.resize(3, map.height, map.width);
  const size_t n = map.values.size();
  for (size_t i = 0; i < n; ++i) {
    const Rgb c = detail::value_color(map.values[i], colormap, r);
    out.pixels[i] = c.r;
    out.pixels[n + i] = c.g;
    out.pixels[2 * n + i] = c.b;
  }
  return out;
}

FloatMap resize_bilinear(const FloatMap& map, int64_t height, int64_t width) {
  detail::check_map(map);
  RESNET_CHECK(height >= 1 && width >= 1 && height <= (int64_t{1} << 30) / width)
      << "resize to " << height << "x" << width;
  // Source coordinate, its lower neighbour and weight along one axis.
  struct Tap {
    int64_t i0, i1;
    double w1;
  };
  const auto taps = [](int64_t out, int64_t in) {
    std::vector<Tap> t(static_cast<size_t>(out));
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    for (int64_t o = 0; o < out; ++o) {
      const double s = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const auto i0 = static_cast<int64_t>(std::floor(s));
      t[o] = {i0, std::min(i0 + 1, in - 1), s - static_cast<double>(i0)};
    }
    return t;
  };
  const std::vector<Tap> ty = taps(height, map.height), tx = taps(width, map.width);
  FloatMap out{
      .height = height, .width = width, .values = std::vector<float>(static_cast<size_t>(height * width))};
  const auto at = [&](int64_t y, int64_t x) { return static_cast<double>(map.values[y * map.width + x]); };
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const Tap& a = ty[y];
      const Tap& b = tx[x];
      // Terms with zero weight are left out, so a NaN spreads only where it is weighed.
      double v = 0;
      const auto add = [&](double w, int64_t sy, int64_t sx) {
        if (w != 0) v += w * at(sy, sx);
      };
      add((1 - a.w1) * (1 - b.w1), a.i0, b.i0);
      add((1 - a.w1) * b.w1, a.i0, b.i1);
      add(a.w1 * (1 - b.w1), a.i1, b.i0);
      add(a.w1 * b.w1, a.i1, b.i1);
      out.values[y * width + x] = static_cast<float>(v);
    }
  return out;
}

}  // namespace resnet::viz
