// Gradients of one logit per image, from the network's own backward (no autograd tape, no hooks that an
// in-place op could break): w.r.t. the input and, when asked, w.r.t. a layer's output. The base of every
// gradient method in explain/ (saliency, SmoothGrad, integrated gradients, Grad-CAM).
//
// Contract
//  - The model runs in eval mode (BN with its running statistics); its parameters' gradients are not
//    computed (requires_grad is off during the call and restored after), so nothing accumulates in it.
//  - x: [N, C, H, W] f32, any dense layout, the network's input (already normalised); targets: N class
//    indices in [0, classes) (CheckError otherwise: callers check user input with check_targets first).
//  - Each image's gradient is that of its own target logit: the backward starts from a one-hot dy.
//  - Results are fresh contiguous (NCHW) tensors owned by the caller.
//  - layer: "" for none, else a name resolve_layer() accepted; its output [N, K, h, w] and the gradient of
//    the targets' logits w.r.t. it are returned too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::explain {

struct Gradients {
  Tensor logits;          // [N, classes]
  Tensor input;           // d logit_target / d x: [N, C, H, W]
  Tensor activation;      // the layer's output [N, K, h, w] (layer given only)
  Tensor layer_gradient;  // d logit_target / d activation [N, K, h, w] (layer given only)
};

Gradients gradients(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                    const std::string& layer = "");

}  // namespace resnet::explain
