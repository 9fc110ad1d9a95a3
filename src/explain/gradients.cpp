#include "resnet/explain/gradients.h"

#include <utility>

#include "resnet/core/check.h"

namespace resnet::explain {
namespace {

// Parameter gradients are not wanted: switching them off skips every backward-weights pass and leaves the
// model's accumulated gradients as they were. Hooks are removed on the way out, errors included.
class ProbeScope {
 public:
  explicit ProbeScope(models::ResNet& model) {
    for (auto& [name, p] : model.named_parameters()) {
      saved_.emplace_back(p, p->requires_grad);
      p->requires_grad = false;
    }
  }
  ~ProbeScope() {
    for (auto& [p, on] : saved_) p->requires_grad = on;
    for (int id : hooks_) layer_->remove_hook(id);
  }
  ProbeScope(const ProbeScope&) = delete;
  ProbeScope& operator=(const ProbeScope&) = delete;
  void hook(nn::Module* layer, int forward_id, int backward_id) {
    layer_ = layer;
    hooks_ = {forward_id, backward_id};
  }

 private:
  std::vector<std::pair<nn::Parameter*, bool>> saved_;
  nn::Module* layer_ = nullptr;
  std::vector<int> hooks_;
};

}  // namespace

Gradients gradients(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                    const std::string& layer) {
  RESNET_CHECK(x.ndim() == 4 && x.dtype() == DType::f32) << "explain wants f32 [N, C, H, W], got " << x.str();
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  model.eval();
  model.set_input_gradient(true);
  ProbeScope scope(model);
  Gradients g;
  if (!layer.empty()) {
    nn::Module* m = model.find_module(layer);
    RESNET_CHECK(m != nullptr) << "no module '" << layer << "' (resolve_layer checks names)";
    // The module's buffers are reused or released by the next layer and by its backward: copy them out.
    const int f = m->add_forward_hook(
        [&g](const nn::Module&, const Tensor& y) { g.activation = y.clone(Layout::contiguous); });
    const int b = m->add_backward_hook(
        [&g](const nn::Module&, const Tensor& dy) { g.layer_gradient = dy.clone(Layout::contiguous); });
    scope.hook(m, f, b);
  }
  const Tensor& logits = model.forward(x);
  RESNET_CHECK(logits.ndim() == 2 && logits.size(0) == x.size(0)) << logits.str();
  g.logits = logits.clone(Layout::contiguous);
  const int64_t classes = logits.size(1);
  Tensor dy = Tensor::zeros(logits.shape());
  for (size_t i = 0; i < targets.size(); ++i) {
    RESNET_CHECK(targets[i] >= 0 && targets[i] < classes) << "target " << targets[i] << " of " << classes;
    dy.data<float>()[static_cast<int64_t>(i) * classes + targets[i]] = 1.0f;
  }
  const Tensor& dx = model.backward(dy);
  RESNET_CHECK(dx.defined()) << "the model returned no input gradient";
  g.input = dx.clone(Layout::contiguous);
  model.release_input_grad();
  RESNET_CHECK(layer.empty() || (g.activation.defined() && g.layer_gradient.defined()))
      << "layer '" << layer << "' ran no forward or backward";
  return g;
}

}  // namespace resnet::explain
