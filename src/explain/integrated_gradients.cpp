#include "resnet/explain/integrated_gradients.h"

#include <cmath>
#include <numbers>

#include "chunks.h"
#include "resnet/core/rng.h"
#include "resnet/explain/gradients.h"

namespace resnet::explain {

Rule parse_rule(std::string_view name) {
  if (name == "riemann") return Rule::riemann;
  if (name == "gauss-legendre") return Rule::gauss_legendre;
  throw UserError("--rule '" + std::string(name) + "' is not a rule: use riemann or gauss-legendre");
}

std::string_view rule_name(Rule rule) {
  return rule == Rule::riemann ? "riemann" : "gauss-legendre";
}

void quadrature(Rule rule, int64_t n, std::vector<double>& nodes, std::vector<double>& weights) {
  RESNET_CHECK(n >= 1) << n << " points";
  nodes.assign(static_cast<size_t>(n), 0.0);
  weights.assign(static_cast<size_t>(n), 0.0);
  if (rule == Rule::riemann) {
    for (int64_t k = 0; k < n; ++k) nodes[k] = (static_cast<double>(k) + 0.5) / n, weights[k] = 1.0 / n;
    return;
  }
  // Roots of the Legendre polynomial P_n by Newton's method from Tricomi's estimate, largest root first,
  // mapped from [-1, 1] to [0, 1] (so the nodes ascend).
  for (int64_t i = 0; i < n; ++i) {
    double z = std::cos(std::numbers::pi * (static_cast<double>(i) + 0.75) / (static_cast<double>(n) + 0.5));
    double derivative = 1;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p = 1, previous = 0;  // P_j(z), P_{j-1}(z)
      for (int64_t j = 1; j <= n; ++j) {
        const double next = ((2.0 * j - 1.0) * z * p - (j - 1.0) * previous) / j;
        previous = p, p = next;
      }
      derivative = n * (z * p - previous) / (z * z - 1.0);
      const double step = p / derivative;
      z -= step;
      if (std::abs(step) < 1e-16) break;
    }
    nodes[i] = (1.0 - z) / 2.0;
    weights[i] = 1.0 / ((1.0 - z * z) * derivative * derivative);  // 2 / (…) on [-1, 1], halved
  }
}

namespace {

float channel_value(const std::vector<float>& values, int64_t c) {
  RESNET_CHECK(values.size() == 1 || c < static_cast<int64_t>(values.size()))
      << values.size() << " values for channel " << c;
  return values.size() == 1 ? values[0] : values[c];
}

// Calls f(element, channel) for every element of a contiguous [N, C, H, W] x.
template <class F>
void for_elements(const Shape& s, F&& f) {
  const int64_t plane = s[2] * s[3];
  for (int64_t e = 0; e < s.numel(); ++e) f(e, (e / plane) % s[1]);
}

}  // namespace

Tensor black_baseline(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
  Tensor out = Tensor::empty(x.shape());
  float* o = out.data<float>();
  for_elements(x.shape(),
               [&](int64_t e, int64_t c) { o[e] = (0.0f - channel_value(mean, c)) / channel_value(std, c); });
  return out;
}

Tensor noise_baseline(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std,
                      uint64_t seed) {
  Tensor out = Tensor::empty(x.shape());
  float* o = out.data<float>();
  for_elements(x.shape(), [&](int64_t e, int64_t c) {
    const auto pixel = static_cast<float>(counter_uniform(seed, static_cast<uint64_t>(e)));
    o[e] = (pixel - channel_value(mean, c)) / channel_value(std, c);
  });
  return out;
}

Tensor blur_baseline(const Tensor& x, double sigma) {
  RESNET_CHECK(x.ndim() == 4) << x.str();
  Tensor out = x.clone(Layout::contiguous);
  if (!(sigma > 0)) return out;
  const auto radius = static_cast<int64_t>(std::ceil(3.0 * sigma));
  std::vector<double> kernel(static_cast<size_t>(2 * radius + 1));
  double total = 0;
  for (int64_t d = -radius; d <= radius; ++d)
    total += kernel[d + radius] = std::exp(-0.5 * static_cast<double>(d * d) / (sigma * sigma));
  for (double& k : kernel) k /= total;
  const int64_t h = x.size(2), w = x.size(3);
  std::vector<double> row(static_cast<size_t>(h * w));
  for (int64_t plane = 0; plane < x.size(0) * x.size(1); ++plane) {
    float* p = out.data<float>() + plane * h * w;
    for (int64_t y = 0; y < h; ++y)  // along x into `row`, then along y back into p
      for (int64_t xx = 0; xx < w; ++xx) {
        double s = 0;
        for (int64_t d = -radius; d <= radius; ++d)
          s += kernel[d + radius] * p[y * w + std::clamp<int64_t>(xx + d, 0, w - 1)];
        row[y * w + xx] = s;
      }
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx) {
        double s = 0;
        for (int64_t d = -radius; d <= radius; ++d)
          s += kernel[d + radius] * row[std::clamp<int64_t>(y + d, 0, h - 1) * w + xx];
        p[y * w + xx] = static_cast<float>(s);
      }
  }
  return out;
}

Tensor integrated_gradients(models::ResNet& model, const Tensor& x, const Tensor& baseline,
                            const std::vector<int64_t>& targets, const IntegratedGradientsOptions& options) {
  detail::check_input(x);
  RESNET_CHECK(baseline.shape() == x.shape()) << "baseline " << baseline.str() << " for input " << x.str();
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  if (options.steps < 1)
    throw UserError("--steps " + std::to_string(options.steps) +
                    " is not allowed: give at least 1 (32–64 is usual)");
  detail::check_chunk(options.chunk);
  std::vector<double> alpha, weight;
  quadrature(options.rule, options.steps, alpha, weight);
  Tensor out = Tensor::empty(x.shape());
  const int64_t n = x.size(0), per_image = x.numel() / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = detail::image_of(x, i), bi = detail::image_of(baseline, i);
    const float *xv = xi.data<float>(), *bv = bi.data<float>();
    std::vector<double> sum(static_cast<size_t>(per_image), 0.0);
    detail::for_chunks(options.steps, options.chunk, [&](int64_t start, int64_t count) {
      Shape shape = x.shape();
      shape[0] = count;
      Tensor batch = Tensor::empty(shape);
      float* b = batch.data<float>();
      for (int64_t k = 0; k < count; ++k)
        for (int64_t e = 0; e < per_image; ++e)
          b[k * per_image + e] =
              static_cast<float>(bv[e] + alpha[start + k] * (static_cast<double>(xv[e]) - bv[e]));
      const Gradients g = gradients(model, batch, std::vector<int64_t>(count, targets[i]));
      const float* d = g.input.data<float>();
      for (int64_t k = 0; k < count; ++k)  // step order: the same sum for any chunk
        for (int64_t e = 0; e < per_image; ++e) sum[e] += weight[start + k] * d[k * per_image + e];
    });
    float* o = out.data<float>() + i * per_image;
    for (int64_t e = 0; e < per_image; ++e)
      o[e] = static_cast<float>((static_cast<double>(xv[e]) - bv[e]) * sum[e]);
  }
  return out;
}

}  // namespace resnet::explain
