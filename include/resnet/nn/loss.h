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

// Mixup's and CutMix's loss: each image counts as a λ : (1 − λ) blend of two labels, so
//   loss = λ · CE(logits, targets_a) + (1 − λ) · CE(logits, targets_b),
//   dloss/dlogits = λ · ∂CE_a + (1 − λ) · ∂CE_b.
class MixedCrossEntropyLoss {
 public:
  explicit MixedCrossEntropyLoss(double label_smoothing = 0.0) : a_(label_smoothing), b_(label_smoothing) {}
  void set_backend(ops::Backend backend) { a_.set_backend(backend), b_.set_backend(backend); }

  double forward(const Tensor& logits, const Tensor& targets_a, const Tensor& targets_b, double lambda);
  const Tensor& backward();  // owned by the loss, valid until the next backward

 private:
  CrossEntropyLoss a_, b_;
  double lambda_ = 1.0;
};

}  // namespace resnet::nn
