#include "resnet/optim/grad_clip.h"

#include <cmath>

namespace resnet::optim {

double clip_grad_norm(nn::Module& model, double max_norm) {
  double sq = 0;
  auto params = model.named_parameters();
  for (auto& [name, p] : params) {
    if (!p->has_grad()) continue;
    const float* g = p->grad().data<float>();
    for (int64_t i = 0, n = p->grad().numel(); i < n; ++i) sq += static_cast<double>(g[i]) * g[i];
  }
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (auto& [name, p] : params) {
      if (!p->has_grad()) continue;
      float* g = p->grad().data<float>();
      for (int64_t i = 0, n = p->grad().numel(); i < n; ++i) g[i] *= scale;
    }
  }
  return norm;
}

}  // namespace resnet::optim
