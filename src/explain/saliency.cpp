#include "resnet/explain/saliency.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "chunks.h"
#include "resnet/core/rng.h"
#include "resnet/explain/gradients.h"

namespace resnet::explain {

Tensor saliency(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                const GradientOptions& options) {
  detail::check_input(x);
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  Tensor out = Tensor::empty(x.shape());
  detail::for_chunks(x.size(0), options.chunk, [&](int64_t start, int64_t count) {
    const std::vector<int64_t> t(targets.begin() + start, targets.begin() + start + count);
    out.narrow(0, start, count).copy_from(gradients(model, x.narrow(0, start, count), t).input);
  });
  return out;
}

Tensor gradient_times_input(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                            const GradientOptions& options) {
  Tensor out = saliency(model, x, targets, options);
  const Tensor xc = x.to(Layout::contiguous);
  float* o = out.data<float>();
  const float* in = xc.data<float>();
  for (int64_t e = 0; e < out.numel(); ++e) o[e] *= in[e];
  return out;
}

Tensor smoothgrad(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                  const SmoothGradOptions& options) {
  detail::check_input(x);
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  if (options.samples < 1)
    throw UserError("--samples " + std::to_string(options.samples) + " is not allowed: give at least 1");
  if (!(options.sigma >= 0) || !std::isfinite(options.sigma))
    throw UserError("--sigma " + std::to_string(options.sigma) +
                    " is not allowed: give a noise level >= 0 (a fraction of the image's range, e.g. 0.15)");
  detail::check_chunk(options.chunk);
  Tensor out = Tensor::empty(x.shape());
  const int64_t n = x.size(0), per_image = x.numel() / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = detail::image_of(x, i);
    const float* v = xi.data<float>();
    const auto [lo, hi] = std::minmax_element(v, v + per_image);
    const double sd = options.sigma * static_cast<double>(*hi - *lo);
    std::vector<double> sum(static_cast<size_t>(per_image), 0.0);
    detail::for_chunks(options.samples, options.chunk, [&](int64_t start, int64_t count) {
      Shape shape = x.shape();
      shape[0] = count;
      Tensor batch = Tensor::empty(shape);
      float* b = batch.data<float>();
      for (int64_t s = 0; s < count; ++s) {
        // A Gaussian per (seed, image, sample, element): Box–Muller on two counter-based uniforms.
        const uint64_t stream = mix64(options.seed ^ mix64(static_cast<uint64_t>(i) * 0x100000001ULL +
                                                           static_cast<uint64_t>(start + s)));
        for (int64_t e = 0; e < per_image; ++e) {
          const double u1 = 1.0 - counter_uniform(stream, 2 * static_cast<uint64_t>(e));
          const double u2 = counter_uniform(stream, 2 * static_cast<uint64_t>(e) + 1);
          const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
          b[s * per_image + e] = static_cast<float>(v[e] + sd * z);
        }
      }
      const Gradients g = gradients(model, batch, std::vector<int64_t>(count, targets[i]));
      const float* d = g.input.data<float>();
      for (int64_t s = 0; s < count; ++s)  // sample order: the same sum for any chunk
        for (int64_t e = 0; e < per_image; ++e) sum[e] += d[s * per_image + e];
    });
    float* o = out.data<float>() + i * per_image;
    for (int64_t e = 0; e < per_image; ++e) o[e] = static_cast<float>(sum[e] / options.samples);
  }
  return out;
}

}  // namespace resnet::explain
