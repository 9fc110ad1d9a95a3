#include "resnet/models/input_gradient.h"

#include "resnet/core/check.h"

namespace resnet::models {

FrozenParameters::FrozenParameters(ResNet& model) {
  for (auto& [name, p] : model.named_parameters()) {
    saved_.emplace_back(p, p->requires_grad);
    p->requires_grad = false;
  }
}

FrozenParameters::~FrozenParameters() {
  for (auto& [p, on] : saved_) p->requires_grad = on;
}

InputGradient input_gradient(ResNet& model, const Tensor& x, const LogitsGradientFn& dloss) {
  RESNET_CHECK(x.ndim() == 4 && x.dtype() == DType::f32)
      << "input_gradient wants f32 [N, C, H, W], got " << x.str();
  model.eval();
  model.set_input_gradient(true);
  FrozenParameters frozen(model);
  InputGradient g;
  const Tensor& logits = model.forward(x);
  RESNET_CHECK(logits.ndim() == 2 && logits.size(0) == x.size(0)) << logits.str();
  g.logits = logits.clone(Layout::contiguous);
  const Tensor dy = dloss(g.logits);
  RESNET_CHECK(dy.shape() == g.logits.shape())
      << "dL/dlogits " << dy.str() << " for logits " << g.logits.str();
  const Tensor& dx = model.backward(dy);
  RESNET_CHECK(dx.defined()) << "the model returned no input gradient";
  g.input = dx.clone(Layout::contiguous);
  model.release_input_grad();
  return g;
}

}  // namespace resnet::models
