// Softmax cross-entropy with PyTorch's semantics (F.cross_entropy, reduction='mean').
//
// Shapes:  logits, dlogits [N, K] contiguous; targets [N] i64 with values in [0, K) (CHECKed);
//          class_weights [K] or null, of the logits' dtype.
// Loss:    with q_i = (1 - ε)·onehot(t_i) + ε/K and weights w (1 when null):
//            loss = [ (1-ε) Σ_i w_{t_i} (-log p_{i,t_i}) + (ε/K) Σ_i Σ_k w_k (-log p_{i,k}) ] / Σ_i w_{t_i}
//          which is PyTorch's formula for label_smoothing with weights.
// Backward: dlogits = dloss · ∂loss/∂logits (overwritten).
// Types:   ref: f32 or f64 (double accumulation); cpu: f32. The loss is returned as double.
#pragma once

#include "resnet/core/tensor.h"

namespace resnet::ops {

struct CrossEntropyParams {
  double label_smoothing = 0.0;
  const Tensor* class_weights = nullptr;
};

namespace ref {
double softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                     const CrossEntropyParams& p);
void softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                                    double dloss, Tensor& dlogits);
}  // namespace ref

namespace cpu {
double softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                     const CrossEntropyParams& p);
void softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                                    double dloss, Tensor& dlogits);
}  // namespace cpu

}  // namespace resnet::ops
