#include "resnet/nn/loss.h"

namespace resnet::nn {

CrossEntropyLoss::CrossEntropyLoss(double label_smoothing, Tensor class_weights)
    : label_smoothing_(label_smoothing), class_weights_(std::move(class_weights)) {
  RESNET_CHECK(label_smoothing >= 0 && label_smoothing <= 1) << "label smoothing " << label_smoothing;
}

ops::CrossEntropyParams CrossEntropyLoss::params() const {
  return {.label_smoothing = label_smoothing_,
          .class_weights = class_weights_.defined() ? &class_weights_ : nullptr};
}

double CrossEntropyLoss::forward(const Tensor& logits, const Tensor& targets) {
  logits_ = logits;
  targets_ = targets;
  return ops::op_table(backend_).softmax_cross_entropy_forward(logits, targets, params());
}

const Tensor& CrossEntropyLoss::backward(double dloss) {
  ensure(dlogits_, logits_.shape());
  ops::op_table(backend_).softmax_cross_entropy_backward(logits_, targets_, params(), dloss, dlogits_);
  return dlogits_;
}

double MixedCrossEntropyLoss::forward(const Tensor& logits, const Tensor& targets_a, const Tensor& targets_b,
                                      double lambda) {
  RESNET_CHECK(lambda >= 0 && lambda <= 1) << "mixing weight " << lambda;
  lambda_ = lambda;
  return lambda * a_.forward(logits, targets_a) + (1 - lambda) * b_.forward(logits, targets_b);
}

const Tensor& MixedCrossEntropyLoss::backward() {
  const Tensor& da = a_.backward(lambda_);
  const Tensor& db = b_.backward(1 - lambda_);
  float* a = da.data<float>();
  const float* b = db.data<float>();
  for (int64_t i = 0, n = da.numel(); i < n; ++i) a[i] += b[i];
  return da;
}

}  // namespace resnet::nn
