#include <cmath>

#include "resnet/nn/layers.h"

namespace resnet::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias) : Module("Linear") {
  weight_ = &register_parameter("weight", Tensor::zeros({out_features, in_features}));
  if (bias) {
    bias_ = &register_parameter("bias", Tensor::zeros({out_features}));
    bias_->is_norm_or_bias = true;
  }
}

const Tensor& Linear::forward_impl(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 2 && x.size(1) == weight_->value().size(1))
      << "Linear expects [N, " << weight_->value().size(1) << "], got " << x.shape();
  x_ = x;
  ensure(y_, {x.size(0), weight_->value().size(0)});
  ops().linear_forward(x, weight_->value(), bias_ ? &bias_->value() : nullptr, y_);
  return y_;
}

const Tensor& Linear::backward_impl(const Tensor& dy) {
  ensure(dx_, x_.shape());
  Tensor* dweight = weight_->requires_grad ? &weight_->grad_target() : nullptr;
  Tensor* dbias = bias_ && bias_->requires_grad ? &bias_->grad_target() : nullptr;
  ops().linear_backward(dy, x_, weight_->value(), &dx_, dweight, dbias);
  if (dweight) weight_->accumulate();
  if (dbias) bias_->accumulate();
  return dx_;
}

const Tensor& Flatten::forward_impl(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 4) << "Flatten wants [N, C, H, W], got " << x.shape();
  x_shape_ = x.shape();
  x_layout_ = activation_layout(x);
  ensure(y_, {x.size(0), x.size(1) * x.size(2) * x.size(3)});
  ops().flatten_forward(x, y_);
  return y_;
}

const Tensor& Flatten::backward_impl(const Tensor& dy) {
  ensure(dx_, x_shape_, DType::f32, x_layout_);
  ops().flatten_backward(dy, dx_);
  return dx_;
}

}  // namespace resnet::nn
