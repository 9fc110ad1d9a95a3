#include "resnet/nn/init.h"

#include <cmath>

#include "resnet/nn/layers.h"
#include "resnet/nn/residual.h"

namespace resnet::nn {

void kaiming_normal_fan_out(const Tensor& weight, Rng& rng) {
  RESNET_CHECK(weight.ndim() == 4 && weight.is_contiguous()) << "conv weight " << weight.str();
  const double fan_out = static_cast<double>(weight.size(0) * weight.size(2) * weight.size(3));
  const double std = std::sqrt(2.0 / fan_out);
  float* w = weight.data<float>();
  for (int64_t i = 0; i < weight.numel(); ++i) w[i] = static_cast<float>(rng.normal(0.0, std));
}

void uniform_(const Tensor& t, double bound, Rng& rng) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform(-bound, bound));
}

void init_torchvision(Module& root, Rng& rng, bool zero_init_residual) {
  for (auto& [name, m] : root.named_modules()) {
    if (auto* conv = dynamic_cast<Conv2d*>(m)) {
      kaiming_normal_fan_out(conv->weight().value(), rng);
      if (conv->bias()) conv->bias()->value().zero();
    } else if (auto* bn = dynamic_cast<BatchNorm2d*>(m)) {
      if (bn->weight()) bn->weight()->value().fill(1.0);
      if (bn->bias()) bn->bias()->value().zero();
      bn->running_mean().zero();
      bn->running_var().fill(1.0);
    } else if (auto* fc = dynamic_cast<Linear*>(m)) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fc->weight().value().size(1)));
      uniform_(fc->weight().value(), bound, rng);
      if (fc->bias()) uniform_(fc->bias()->value(), bound, rng);
    }
  }
  if (zero_init_residual)
    for (auto& [name, m] : root.named_modules())
      if (auto* block = dynamic_cast<ResidualBlock*>(m); block && block->last_norm())
        block->last_norm()->weight()->value().zero();
}

}  // namespace resnet::nn
