#include "resnet/nn/fold.h"

#include <algorithm>
#include <cmath>

namespace resnet::nn {

FoldedConv fold_batch_norm(Conv2d& conv, BatchNorm2d* norm) {
  const Tensor w = conv.weight().value().clone(Layout::contiguous);
  const int64_t out = w.size(0), per_out = w.numel() / out;
  FoldedConv f;
  f.weight.assign(w.data<float>(), w.data<float>() + w.numel());
  f.bias.assign(static_cast<size_t>(out), 0.f);
  if (conv.bias()) std::copy_n(conv.bias()->value().data<float>(), out, f.bias.begin());
  if (!norm) return f;
  const float* gamma = norm->weight() ? norm->weight()->value().data<float>() : nullptr;
  const float* beta = norm->bias() ? norm->bias()->value().data<float>() : nullptr;
  const float* mean = norm->running_mean().data<float>();
  const float* var = norm->running_var().data<float>();
  for (int64_t o = 0; o < out; ++o) {
    const double scale = (gamma ? gamma[o] : 1.0) / std::sqrt(static_cast<double>(var[o]) + norm->eps());
    for (int64_t i = 0; i < per_out; ++i) {
      float& v = f.weight[static_cast<size_t>(o * per_out + i)];
      v = static_cast<float>(v * scale);
    }
    f.bias[static_cast<size_t>(o)] =
        static_cast<float>((f.bias[o] - mean[o]) * scale + (beta ? beta[o] : 0.0));
  }
  return f;
}

}  // namespace resnet::nn
