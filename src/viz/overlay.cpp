#include "resnet/viz/overlay.h"

#include "resnet/core/check.h"
#include "viz/pixels.h"

namespace resnet::viz {
namespace {

void check_alpha(double alpha) {
  RESNET_CHECK(alpha >= 0 && alpha <= 1) << "alpha " << alpha << " (0..1 expected)";
}

}  // namespace

data::Image overlay_heatmap(const data::Image& image, const FloatMap& map, const HeatmapStyle& style) {
  detail::check_image(image);
  detail::check_map(map);
  check_alpha(style.alpha);
  if (style.range) detail::check_range(*style.range);
  const ValueRange range = style.range ? *style.range : auto_range(map, style.colormap);
  const FloatMap resized = map.height == image.height && map.width == image.width
                               ? FloatMap{}
                               : resize_bilinear(map, image.height, image.width);
  const std::vector<float>& values = resized.values.empty() ? map.values : resized.values;
  data::Image out = detail::to_rgb(image);
  const size_t n = static_cast<size_t>(image.height * image.width);
  for (size_t i = 0; i < n; ++i) {
    const Rgb c = detail::value_color(values[i], style.colormap, range);
    out.pixels[i] = detail::blend(out.pixels[i], c.r, style.alpha);
    out.pixels[n + i] = detail::blend(out.pixels[n + i], c.g, style.alpha);
    out.pixels[2 * n + i] = detail::blend(out.pixels[2 * n + i], c.b, style.alpha);
  }
  return out;
}

data::Image overlay_mask(const data::Image& image, const ClassMap& mask, double alpha,
                         const std::vector<Rgb>& palette) {
  detail::check_image(image);
  check_alpha(alpha);
  RESNET_CHECK(mask.height == image.height && mask.width == image.width)
      << "mask of " << mask.height << "x" << mask.width << " for an image of " << image.height << "x"
      << image.width;
  const size_t n = static_cast<size_t>(image.height * image.width);
  RESNET_CHECK_EQ(mask.classes.size(), n) << "(mask classes)";
  data::Image out = detail::to_rgb(image);
  // class_color() computed once per class (for the ids a lookup table can hold).
  constexpr int32_t kCached = 4096;
  std::vector<Rgb> cache;
  std::vector<bool> cached;
  const auto color_of = [&](int32_t c) {
    if (!palette.empty()) return palette[static_cast<size_t>(c)];
    if (c >= kCached) return class_color(c);
    if (cache.empty()) {
      cache.resize(kCached);
      cached.resize(kCached, false);
    }
    if (!cached[c]) {
      cache[c] = class_color(c);
      cached[c] = true;
    }
    return cache[c];
  };
  for (size_t i = 0; i < n; ++i) {
    const int32_t c = mask.classes[i];
    if (c == kIgnoreClass || c == kIgnoreLabel) continue;
    RESNET_CHECK(c >= 0) << "class " << c << " at pixel " << i << " (classes are >= 0, or -1/255 to ignore)";
    RESNET_CHECK(palette.empty() || static_cast<size_t>(c) < palette.size())
        << "class " << c << " at pixel " << i << " has no colour in a palette of " << palette.size();
    const Rgb color = color_of(c);
    out.pixels[i] = detail::blend(out.pixels[i], color.r, alpha);
    out.pixels[n + i] = detail::blend(out.pixels[n + i], color.g, alpha);
    out.pixels[2 * n + i] = detail::blend(out.pixels[2 * n + i], color.b, alpha);
  }
  return out;
}

}  // namespace resnet::viz
