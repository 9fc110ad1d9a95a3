#include "resnet/robust/corruptions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "resnet/core/check.h"
#include "resnet/core/rng.h"
#include "resnet/data/image.h"

namespace resnet::robust {
namespace {

// One image's planes: [C][H][W] floats in [0, 1].
struct Planes {
  float* v;
  int64_t c, h, w;
  float& at(int64_t ch, int64_t y, int64_t x) const { return v[(ch * h + y) * w + x]; }
  int64_t size() const { return c * h * w; }
};

float clamped(const Planes& p, int64_t ch, int64_t y, int64_t x) {
  return p.at(ch, std::clamp<int64_t>(y, 0, p.h - 1), std::clamp<int64_t>(x, 0, p.w - 1));
}

// Bilinear sample at (y, x), edges clamped.
float bilinear(const Planes& p, int64_t ch, double y, double x) {
  const double fy = std::floor(y), fx = std::floor(x), ay = y - fy, ax = x - fx;
  const auto y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
  return static_cast<float>(
      (1 - ay) * ((1 - ax) * clamped(p, ch, y0, x0) + ax * clamped(p, ch, y0, x0 + 1)) +
      ay * ((1 - ax) * clamped(p, ch, y0 + 1, x0) + ax * clamped(p, ch, y0 + 1, x0 + 1)));
}

// A normalised k×k kernel (k odd) applied to every channel, edges clamped.
void convolve(const Planes& p, const std::vector<double>& kernel, int64_t k) {
  const std::vector<float> src(p.v, p.v + p.size());
  const Planes in{const_cast<float*>(src.data()), p.c, p.h, p.w};
  const int64_t r = k / 2;
  for (int64_t ch = 0; ch < p.c; ++ch)
    for (int64_t y = 0; y < p.h; ++y)
      for (int64_t x = 0; x < p.w; ++x) {
        double s = 0;
        for (int64_t dy = -r; dy <= r; ++dy)
          for (int64_t dx = -r; dx <= r; ++dx)
            s += kernel[static_cast<size_t>((dy + r) * k + dx + r)] * clamped(in, ch, y + dy, x + dx);
        p.at(ch, y, x) = static_cast<float>(s);
      }
}

std::vector<double> normalised(std::vector<double> k) {
  double total = 0;
  for (double v : k) total += v;
  for (double& v : k) v /= total;
  return k;
}

// A disk of `radius` (pixels within it, CIFAR-10-C's aliased disk) smoothed by a 3×3 Gaussian of σ = alias.
void defocus(const Planes& p, double radius, double alias) {
  const int64_t r = static_cast<int64_t>(std::ceil(radius)), k = 2 * r + 3;
  std::vector<double> kernel(static_cast<size_t>(k * k), 0.0);
  for (int64_t y = -r; y <= r; ++y)
    for (int64_t x = -r; x <= r; ++x) {
      if (static_cast<double>(y * y + x * x) > radius * radius) continue;
      for (int64_t gy = -1; gy <= 1; ++gy)
        for (int64_t gx = -1; gx <= 1; ++gx)
          kernel[static_cast<size_t>((y + gy + r + 1) * k + x + gx + r + 1)] +=
              std::exp(-static_cast<double>(gy * gy + gx * gx) / (2 * alias * alias));
    }
  convolve(p, normalised(kernel), k);
}

void motion(const Planes& p, int64_t length, double sigma, double angle) {
  const int64_t r = length, k = 2 * r + 1;
  std::vector<double> kernel(static_cast<size_t>(k * k), 0.0);
  // Samples along a ray from the pixel (one side, as a moving camera smears), bilinearly splatted.
  for (int64_t t = 0; t < length; ++t) {
    const double y = t * std::sin(angle), x = t * std::cos(angle),
                 weight = std::exp(-0.5 * t * t / (sigma * sigma));
    const double fy = std::floor(y), fx = std::floor(x), ay = y - fy, ax = x - fx;
    for (auto [oy, ox, wgt] : {std::tuple{0, 0, (1 - ay) * (1 - ax)}, std::tuple{0, 1, (1 - ay) * ax},
                               std::tuple{1, 0, ay * (1 - ax)}, std::tuple{1, 1, ay * ax}}) {
      const int64_t yy = static_cast<int64_t>(fy) + oy + r, xx = static_cast<int64_t>(fx) + ox + r;
      if (yy >= 0 && yy < k && xx >= 0 && xx < k) kernel[static_cast<size_t>(yy * k + xx)] += weight * wgt;
    }
  }
  convolve(p, normalised(kernel), k);
}

void zoom_blur(const Planes& p, double top) {
  const std::vector<float> src(p.v, p.v + p.size());
  const Planes in{const_cast<float*>(src.data()), p.c, p.h, p.w};
  std::vector<double> total(src.begin(), src.end());
  int count = 1;
  const double cy = (p.h - 1) / 2.0, cx = (p.w - 1) / 2.0;
  for (double z = 1.01; z <= top + 1e-9; z += 0.01, ++count)
    for (int64_t ch = 0; ch < p.c; ++ch)
      for (int64_t y = 0; y < p.h; ++y)
        for (int64_t x = 0; x < p.w; ++x)
          total[static_cast<size_t>((ch * p.h + y) * p.w + x)] +=
              bilinear(in, ch, cy + (y - cy) / z, cx + (x - cx) / z);
  for (int64_t e = 0; e < p.size(); ++e) p.v[e] = static_cast<float>(total[static_cast<size_t>(e)] / count);
}

void elastic(const Planes& p, double largest, Rng& rng) {
  // Two fields of uniform noise, blurred with σ = 3 px, scaled so the largest displacement is `largest`.
  std::array<std::vector<float>, 2> field;
  const int64_t r = 9, k = 2 * r + 1;
  std::vector<double> gauss(static_cast<size_t>(k * k));
  for (int64_t y = -r; y <= r; ++y)
    for (int64_t x = -r; x <= r; ++x)
      gauss[static_cast<size_t>((y + r) * k + x + r)] = std::exp(-(y * y + x * x) / 18.0);
  gauss = normalised(gauss);
  double peak = 1e-12;
  for (auto& f : field) {
    f.resize(static_cast<size_t>(p.h * p.w));
    for (float& v : f) v = static_cast<float>(rng.uniform(-1, 1));
    convolve({f.data(), 1, p.h, p.w}, gauss, k);
    for (float v : f) peak = std::max(peak, static_cast<double>(std::abs(v)));
  }
  const std::vector<float> src(p.v, p.v + p.size());
  const Planes in{const_cast<float*>(src.data()), p.c, p.h, p.w};
  const double scale = largest / peak;
  for (int64_t ch = 0; ch < p.c; ++ch)
    for (int64_t y = 0; y < p.h; ++y)
      for (int64_t x = 0; x < p.w; ++x) {
        const size_t i = static_cast<size_t>(y * p.w + x);
        p.at(ch, y, x) = bilinear(in, ch, y + scale * field[0][i], x + scale * field[1][i]);
      }
}

void pixelate(const Planes& p, double factor) {
  const int64_t h = std::max<int64_t>(1, std::lround(p.h * factor)),
                w = std::max<int64_t>(1, std::lround(p.w * factor));
  std::vector<double> small(static_cast<size_t>(p.c * h * w), 0.0), area(small.size(), 0.0);
  // Box downsampling: each source pixel adds its overlap with each small cell (separable coverage).
  auto overlap = [](double a0, double a1, double b0, double b1) {
    return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
  };
  const double sy = static_cast<double>(h) / p.h, sx = static_cast<double>(w) / p.w;
  for (int64_t ch = 0; ch < p.c; ++ch)
    for (int64_t y = 0; y < p.h; ++y)
      for (int64_t x = 0; x < p.w; ++x)
        for (int64_t Y = static_cast<int64_t>(y * sy);
             Y < std::min(h, static_cast<int64_t>((y + 1) * sy) + 1); ++Y)
          for (int64_t X = static_cast<int64_t>(x * sx);
               X < std::min(w, static_cast<int64_t>((x + 1) * sx) + 1); ++X) {
            const double a =
                overlap(y * sy, (y + 1) * sy, Y, Y + 1) * overlap(x * sx, (x + 1) * sx, X, X + 1);
            small[static_cast<size_t>((ch * h + Y) * w + X)] += a * p.at(ch, y, x);
            area[static_cast<size_t>((ch * h + Y) * w + X)] += a;
          }
  for (int64_t ch = 0; ch < p.c; ++ch)
    for (int64_t y = 0; y < p.h; ++y)
      for (int64_t x = 0; x < p.w; ++x) {
        const size_t i =
            static_cast<size_t>((ch * h + std::min(h - 1, y * h / p.h)) * w + std::min(w - 1, x * w / p.w));
        p.at(ch, y, x) = static_cast<float>(area[i] > 0 ? small[i] / area[i] : 0.0);
      }
}

void jpeg(const Planes& p, int quality) {
  RESNET_CHECK(p.c == 1 || p.c == 3) << "JPEG needs 1 or 3 channels, got " << p.c;
  data::Image image{p.c, p.h, p.w, std::vector<uint8_t>(static_cast<size_t>(p.size()))};
  for (int64_t e = 0; e < p.size(); ++e)
    image.pixels[static_cast<size_t>(e)] =
        static_cast<uint8_t>(std::lround(255 * std::clamp(p.v[e], 0.0f, 1.0f)));
  data::Image back;
  data::decode_image_bytes(data::encode_jpeg(image, quality), "a JPEG round trip", back, p.c);
  for (int64_t e = 0; e < p.size(); ++e) p.v[e] = back.pixels[static_cast<size_t>(e)] / 255.0f;
}

// Poisson(mean): Knuth's product method below 30, the rounded normal approximation above (its error in
// the pixel's mean and variance is below 1/λ there).
double poisson(double mean, Rng& rng) {
  if (mean <= 0) return 0;
  if (mean >= 30) return std::max(0.0, std::round(rng.normal(mean, std::sqrt(mean))));
  const double limit = std::exp(-mean);
  double product = rng.uniform();
  int k = 0;
  while (product > limit) product *= rng.uniform(), ++k;
  return k;
}

void apply(const Planes& p, Corruption c, int s, Rng& rng) {
  const size_t i = static_cast<size_t>(s - 1);
  switch (c) {
    case Corruption::gaussian_noise: {
      const double sigma = std::array{.04, .06, .08, .09, .10}[i];
      for (int64_t e = 0; e < p.size(); ++e) p.v[e] = static_cast<float>(p.v[e] + rng.normal(0, sigma));
      break;
    }
    case Corruption::shot_noise: {
      const double lambda = std::array{500.0, 250.0, 100.0, 75.0, 50.0}[i];
      for (int64_t e = 0; e < p.size(); ++e)
        p.v[e] = static_cast<float>(poisson(std::max(0.0f, p.v[e]) * lambda, rng) / lambda);
      break;
    }
    case Corruption::impulse_noise: {
      const double amount = std::array{.01, .02, .03, .05, .07}[i];
      for (int64_t e = 0; e < p.size(); ++e)
        if (rng.uniform() < amount) p.v[e] = rng.uniform() < 0.5 ? 0.0f : 1.0f;
      break;
    }
    case Corruption::defocus_blur:
      defocus(p, std::array{.3, .4, .5, 1.0, 1.5}[i], std::array{.4, .5, .6, .2, .1}[i]);
      break;
    case Corruption::motion_blur:
      motion(p, std::array{3, 4, 5, 6, 7}[i], std::array{1.0, 1.5, 2.0, 2.5, 3.0}[i],
             rng.uniform(-M_PI / 4, M_PI / 4));
      break;
    case Corruption::zoom_blur:
      zoom_blur(p, std::array{1.06, 1.11, 1.16, 1.21, 1.26}[i]);
      break;
    case Corruption::brightness: {
      const float b = std::array{.05f, .1f, .15f, .2f, .3f}[i];
      for (int64_t e = 0; e < p.size(); ++e) p.v[e] += b;
      break;
    }
    case Corruption::contrast: {
      const double f = std::array{.75, .5, .4, .3, .15}[i];
      for (int64_t ch = 0; ch < p.c; ++ch) {
        float* plane = p.v + ch * p.h * p.w;
        double mean = 0;
        for (int64_t e = 0; e < p.h * p.w; ++e) mean += plane[e];
        mean /= static_cast<double>(p.h * p.w);
        for (int64_t e = 0; e < p.h * p.w; ++e) plane[e] = static_cast<float>((plane[e] - mean) * f + mean);
      }
      break;
    }
    case Corruption::elastic:
      elastic(p, std::array{.5, .75, 1.0, 1.5, 2.0}[i], rng);
      break;
    case Corruption::pixelate:
      pixelate(p, std::array{.95, .9, .85, .75, .65}[i]);
      break;
    case Corruption::jpeg:
      jpeg(p, std::array{80, 65, 58, 50, 40}[i]);
      break;
  }
  for (int64_t e = 0; e < p.size(); ++e) p.v[e] = std::clamp(p.v[e], 0.0f, 1.0f);
}

}  // namespace

const std::vector<Corruption>& all_corruptions() {
  static const std::vector<Corruption> all{
      Corruption::gaussian_noise, Corruption::shot_noise, Corruption::impulse_noise, Corruption::defocus_blur,
      Corruption::motion_blur,    Corruption::zoom_blur,  Corruption::brightness,    Corruption::contrast,
      Corruption::elastic,        Corruption::pixelate,   Corruption::jpeg};
  return all;
}

std::string_view corruption_name(Corruption c) {
  static constexpr std::array<std::string_view, 11> names{
      "gaussian-noise", "shot-noise", "impulse-noise", "defocus-blur", "motion-blur", "zoom-blur",
      "brightness",     "contrast",   "elastic",       "pixelate",     "jpeg"};
  return names[static_cast<size_t>(c)];
}

Corruption parse_corruption(std::string_view name) {
  std::string list;
  for (Corruption c : all_corruptions()) {
    if (name == corruption_name(c)) return c;
    list += (list.empty() ? "" : ", ") + std::string(corruption_name(c));
  }
  throw UserError("unknown corruption '" + std::string(name) + "': give all or some of " + list);
}

Tensor corrupt(const Tensor& x01, Corruption c, int severity, uint64_t seed, int64_t first_index) {
  RESNET_CHECK(x01.ndim() == 4 && x01.dtype() == DType::f32) << x01.str();
  RESNET_CHECK(severity >= 1 && severity <= kSeverities) << "severity " << severity;
  Tensor out = x01.clone(Layout::contiguous);
  const int64_t n = out.size(0), per = out.numel() / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(mix64(seed ^ mix64(static_cast<uint64_t>(first_index + i) * 64 + static_cast<uint64_t>(c) * 8 +
                               static_cast<uint64_t>(severity))));
    apply({out.data<float>() + i * per, out.size(1), out.size(2), out.size(3)}, c, severity, rng);
  }
  return out;
}

}  // namespace resnet::robust
