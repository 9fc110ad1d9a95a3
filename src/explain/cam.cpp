#include "resnet/explain/cam.h"

#include <algorithm>
#include <cmath>

#include "chunks.h"
#include "resnet/explain/gradients.h"
#include "resnet/explain/layers.h"
#include "resnet/nn/module.h"
#include "resnet/viz/colormap.h"

namespace resnet::explain {
namespace {

// Per-channel weights of one image from its activation A and gradient G ([K, h, w] each, contiguous).
using WeightRule = void (*)(const float* a, const float* g, int64_t channels, int64_t plane, double* w);

void grad_cam_weights(const float*, const float* g, int64_t channels, int64_t plane, double* w) {
  for (int64_t k = 0; k < channels; ++k) {
    double s = 0;
    for (int64_t p = 0; p < plane; ++p) s += g[k * plane + p];
    w[k] = s / static_cast<double>(plane);
  }
}

void grad_cam_plus_plus_weights(const float* a, const float* g, int64_t channels, int64_t plane, double* w) {
  for (int64_t k = 0; k < channels; ++k) {
    double a_sum = 0;
    for (int64_t p = 0; p < plane; ++p) a_sum += a[k * plane + p];
    double s = 0;
    for (int64_t p = 0; p < plane; ++p) {
      const double gv = g[k * plane + p], g2 = gv * gv, denominator = 2.0 * g2 + a_sum * g2 * gv;
      if (denominator != 0 && gv > 0) s += g2 / denominator * gv;
    }
    w[k] = s;
  }
}

// relu(Σ_k w_k A_k), summed in channel order, into cam (h·w floats).
void weighted_sum(const float* a, const double* w, int64_t channels, int64_t plane, float* cam) {
  for (int64_t p = 0; p < plane; ++p) {
    double s = 0;
    for (int64_t k = 0; k < channels; ++k) s += w[k] * a[k * plane + p];
    cam[p] = static_cast<float>(std::max(s, 0.0));
  }
}

CamResult gradient_cam(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                       const CamOptions& options, WeightRule rule) {
  detail::check_input(x);
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  const std::string layer = resolve_layer(model.architecture(), options.layer);
  CamResult r;
  detail::for_chunks(x.size(0), options.chunk, [&](int64_t start, int64_t count) {
    const std::vector<int64_t> t(targets.begin() + start, targets.begin() + start + count);
    const Gradients g = gradients(model, x.narrow(0, start, count), t, layer);
    const int64_t channels = g.activation.size(1), h = g.activation.size(2), w = g.activation.size(3);
    if (!r.cam.defined()) r.cam = Tensor::empty({x.size(0), h, w});
    std::vector<double> weights(static_cast<size_t>(channels));
    for (int64_t i = 0; i < count; ++i) {
      const float* a = g.activation.data<float>() + i * channels * h * w;
      rule(a, g.layer_gradient.data<float>() + i * channels * h * w, channels, h * w, weights.data());
      weighted_sum(a, weights.data(), channels, h * w, r.cam.data<float>() + (start + i) * h * w);
    }
  });
  r.map = upsample_maps(r.cam, x.size(2), x.size(3));
  return r;
}

// The layer's output for x, forward only.
Tensor layer_activation(models::ResNet& model, const Tensor& x, const std::string& layer) {
  nn::Module* m = model.find_module(layer);
  RESNET_CHECK(m != nullptr) << layer;
  Tensor activation;
  const int id = m->add_forward_hook(
      [&](const nn::Module&, const Tensor& y) { activation = y.clone(Layout::contiguous); });
  try {
    model.eval();
    nn::NoGradScope no_grad;
    model.forward(x);
  } catch (...) {
    m->remove_hook(id);
    throw;
  }
  m->remove_hook(id);
  return activation;
}

}  // namespace

Tensor upsample_maps(const Tensor& maps, int64_t height, int64_t width) {
  RESNET_CHECK(maps.ndim() == 3) << maps.str();
  const Tensor m = maps.to(Layout::contiguous);
  const int64_t h = m.size(1), w = m.size(2);
  Tensor out = Tensor::empty({m.size(0), height, width});
  for (int64_t i = 0; i < m.size(0); ++i) {
    viz::FloatMap source{h, w,
                         std::vector<float>(m.data<float>() + i * h * w, m.data<float>() + (i + 1) * h * w)};
    const viz::FloatMap resized = viz::resize_bilinear(source, height, width);
    std::copy(resized.values.begin(), resized.values.end(), out.data<float>() + i * height * width);
  }
  return out;
}

CamResult grad_cam(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                   const CamOptions& options) {
  return gradient_cam(model, x, targets, options, grad_cam_weights);
}

CamResult grad_cam_plus_plus(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                             const CamOptions& options) {
  return gradient_cam(model, x, targets, options, grad_cam_plus_plus_weights);
}

CamResult score_cam(models::ResNet& model, const LogitsFn& logits, const Tensor& x,
                    const std::vector<int64_t>& targets, const CamOptions& options) {
  detail::check_input(x);
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  detail::check_chunk(options.chunk);
  const std::string layer = resolve_layer(model.architecture(), options.layer);
  const int64_t n = x.size(0), height = x.size(2), width = x.size(3), pixels = height * width;
  const int64_t per_image = x.numel() / std::max<int64_t>(n, 1), in_channels = x.size(1);
  CamResult r;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = detail::image_of(x, i);
    const Tensor a = layer_activation(model, xi, layer);  // [1, K, h, w]
    const int64_t channels = a.size(1), h = a.size(2), w = a.size(3);
    if (!r.cam.defined()) r.cam = Tensor::empty({n, h, w});
    // Each channel as a [0, 1] mask of the input's size.
    Tensor masks = upsample_maps(a.view({channels, h, w}), height, width);
    float* mv = masks.data<float>();
    for (int64_t k = 0; k < channels; ++k) {
      float* mk = mv + k * pixels;
      const auto [lo, hi] = std::minmax_element(mk, mk + pixels);
      const float low = *lo, range = *hi - *lo;
      for (int64_t p = 0; p < pixels; ++p) mk[p] = range > 0 ? (mk[p] - low) / range : 0.0f;
    }
    std::vector<double> weights(static_cast<size_t>(channels));
    detail::for_chunks(channels, options.chunk, [&](int64_t start, int64_t count) {
      Tensor batch = Tensor::empty({count, in_channels, height, width});
      float* b = batch.data<float>();
      for (int64_t k = 0; k < count; ++k)
        for (int64_t e = 0; e < per_image; ++e)
          b[k * per_image + e] = xi.data<float>()[e] * mv[(start + k) * pixels + e % pixels];
      const Tensor l = logits(batch).to(Layout::contiguous);
      const int64_t classes = l.size(1);
      for (int64_t k = 0; k < count; ++k) {  // softmax at the target, in double
        const float* row = l.data<float>() + k * classes;
        const double top = *std::max_element(row, row + classes);
        double z = 0;
        for (int64_t c = 0; c < classes; ++c) z += std::exp(row[c] - top);
        weights[start + k] = std::exp(row[targets[i]] - top) / z;
      }
    });
    weighted_sum(a.data<float>(), weights.data(), channels, h * w, r.cam.data<float>() + i * h * w);
  }
  r.map = upsample_maps(r.cam, height, width);
  return r;
}

}  // namespace resnet::explain
