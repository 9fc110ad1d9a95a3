#include "resnet/explain/gradients.h"

#include <utility>

#include "resnet/core/check.h"
#include "resnet/models/input_gradient.h"

namespace resnet::explain {
namespace {

// The layer's hooks come off on the way out, errors included.
class HookScope {
 public:
  HookScope() = default;
  ~HookScope() {
    for (int id : hooks_) layer_->remove_hook(id);
  }
  HookScope(const HookScope&) = delete;
  HookScope& operator=(const HookScope&) = delete;
  void hook(nn::Module* layer, int forward_id, int backward_id) {
    layer_ = layer;
    hooks_ = {forward_id, backward_id};
  }

 private:
  nn::Module* layer_ = nullptr;
  std::vector<int> hooks_;
};

}  // namespace

Gradients gradients(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                    const std::string& layer) {
  RESNET_CHECK(x.ndim() == 4 && x.dtype() == DType::f32) << "explain wants f32 [N, C, H, W], got " << x.str();
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  Gradients g;
  HookScope scope;
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
  const models::InputGradient r = models::input_gradient(model, x, [&targets](const Tensor& logits) {
    const int64_t classes = logits.size(1);
    RESNET_CHECK_EQ(logits.size(0), static_cast<int64_t>(targets.size()));
    Tensor dy = Tensor::zeros(logits.shape());
    for (size_t i = 0; i < targets.size(); ++i) {
      RESNET_CHECK(targets[i] >= 0 && targets[i] < classes) << "target " << targets[i] << " of " << classes;
      dy.data<float>()[static_cast<int64_t>(i) * classes + targets[i]] = 1.0f;
    }
    return dy;
  });
  g.logits = r.logits;
  g.input = r.input;
  RESNET_CHECK(layer.empty() || (g.activation.defined() && g.layer_gradient.defined()))
      << "layer '" << layer << "' ran no forward or backward";
  return g;
}

}  // namespace resnet::explain
