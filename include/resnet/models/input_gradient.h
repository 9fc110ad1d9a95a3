// The gradient of a loss of the logits w.r.t. a network's input, from the network's own backward: what
// explanations (explain/) and adversarial attacks (robust/) are built on.
//
// Contract
//  - The model runs in eval mode (BN with its running statistics). Its parameters' gradients are not
//    computed: FrozenParameters switches requires_grad off for its lifetime and restores it after, so
//    nothing accumulates in the model and no backward-weights pass runs.
//  - x: [N, C, H, W] f32, the network's input; dloss(logits) returns dL/dlogits [N, classes] f32 (its
//    rows independent: image i's gradient depends on image i alone).
//  - The results are fresh contiguous tensors owned by the caller.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::models {

// requires_grad off on every parameter for the scope's lifetime (restored on the way out, errors too).
class FrozenParameters {
 public:
  explicit FrozenParameters(ResNet& model);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<std::pair<nn::Parameter*, bool>> saved_;
};

struct InputGradient {
  Tensor logits;  // [N, classes]
  Tensor input;   // dL/dx [N, C, H, W]
};

using LogitsGradientFn = std::function<Tensor(const Tensor& logits)>;

InputGradient input_gradient(ResNet& model, const Tensor& x, const LogitsGradientFn& dloss);

}  // namespace resnet::models
