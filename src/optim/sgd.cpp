#include "resnet/optim/sgd.h"

namespace resnet::optim {

Sgd::Sgd(std::vector<nn::Parameter*> parameters, const SgdOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  RESNET_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0))
      << "Nesterov momentum needs momentum > 0 and zero dampening";
  if (options_.momentum == 0) return;
  int64_t total = 0;
  for (nn::Parameter* p : parameters_) total += (p->value().numel() + 15) / 16 * 16;
  arena_ = Tensor::zeros({total});
  int64_t offset = 0;
  for (nn::Parameter* p : parameters_) {
    buffers_.push_back(Tensor::from_storage(arena_.storage(), offset * 4, p->value().shape(), DType::f32));
    offset += (p->value().numel() + 15) / 16 * 16;
  }
  initialised_.assign(parameters_.size(), false);
}

void Sgd::step() {
  const float lr = static_cast<float>(options_.lr);
  const float momentum = static_cast<float>(options_.momentum);
  const float dampening = static_cast<float>(options_.dampening);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    nn::Parameter& p = *parameters_[i];
    if (!p.has_grad() || !p.requires_grad) continue;
    const float decay = (options_.decay_norm_and_bias || !p.is_norm_or_bias)
                            ? static_cast<float>(options_.weight_decay)
                            : 0.f;
    float* w = p.value().data<float>();
    const float* g = p.grad().data<float>();
    const int64_t n = p.value().numel();
    if (momentum == 0) {
      for (int64_t j = 0; j < n; ++j) w[j] -= lr * (g[j] + decay * w[j]);
      continue;
    }
    float* b = buffers_[i].data<float>();
    const bool first = !initialised_[i];
    initialised_[i] = true;
    for (int64_t j = 0; j < n; ++j) {
      const float d = g[j] + decay * w[j];
      b[j] = first ? d : momentum * b[j] + (1 - dampening) * d;
      w[j] -= lr * (options_.nesterov ? d + momentum * b[j] : b[j]);
    }
  }
  ++steps_;
}

}  // namespace resnet::optim
