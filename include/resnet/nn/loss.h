// Softmax cross-entropy as a loss object: forward returns the mean loss, backward the gradient w.r.t. the
// logits (buffer owned by the loss, reused across steps). Semantics in ops/cross_entropy.h.
#pragma once

#include "resnet/ops/backend.h"

namespace resnet::nn {

class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(double label_smoothing = 0.0, Tensor class_weights = {});
  void set_backend(ops::Backend backend) { backend_ = backend; }

  // logits [N, K] f32, targets [N] i64. Keeps both for backward.
  double forward(const Tensor& logits, const Tensor& targets);
  const Tensor& backward(double dloss = 1.0);

 private:
  ops::CrossEntropyParams params() const;
  double label_smoothing_;
  Tensor class_weights_;
  ops::Backend backend_ = ops::Backend::cpu;
  Tensor logits_, targets_, dlogits_;
};

}  // namespace resnet::nn
