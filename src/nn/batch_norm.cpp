#include "resnet/nn/layers.h"

namespace resnet::nn {

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum, bool affine) : Module("BatchNorm2d") {
  params_.eps = eps;
  params_.momentum = momentum;
  if (affine) {
    weight_ = &register_parameter("weight", Tensor::full({channels}, 1.0));
    bias_ = &register_parameter("bias", Tensor::zeros({channels}));
    weight_->is_norm_or_bias = bias_->is_norm_or_bias = true;
  }
  running_mean_ = &register_buffer("running_mean", Tensor::zeros({channels}));
  running_var_ = &register_buffer("running_var", Tensor::full({channels}, 1.0));
  num_batches_tracked_ = &register_buffer("num_batches_tracked", Tensor::zeros(Shape{}, DType::i64));
}

const Tensor& BatchNorm2d::forward_impl(const Tensor& x) {
  x_ = x;
  ensure(y_, x.shape(), x.dtype(), activation_layout(x));
  const Tensor* w = weight_ ? &weight_->value() : nullptr;
  const Tensor* b = bias_ ? &bias_->value() : nullptr;
  forward_was_training_ = is_training();
  forward_fused_ = forward_was_training_ && fused_relu_;
  if (forward_was_training_) {
    const Shape stat{x.size(1)};
    ensure(save_mean_, stat);
    ensure(save_var_, stat);
    if (forward_fused_) {
      ops().batch_norm_relu_forward_training(x, w, b, *running_mean_, *running_var_, params_, y_, save_mean_,
                                             save_var_, relu_mask_);
    } else {
      ops().batch_norm_forward_training(x, w, b, *running_mean_, *running_var_, params_, y_, save_mean_,
                                        save_var_);
    }
    ++num_batches_tracked_->data<int64_t>()[0];
  } else {
    ops().batch_norm_forward_inference(x, w, b, *running_mean_, *running_var_, params_, y_);
  }
  return y_;
}

const Tensor& BatchNorm2d::backward_impl(const Tensor& dy) {
  ensure(dx_, x_.shape(), x_.dtype(), activation_layout(x_));
  const Tensor* w = weight_ ? &weight_->value() : nullptr;
  Tensor* dweight = weight_ && weight_->requires_grad ? &weight_->grad_target() : nullptr;
  Tensor* dbias = bias_ && bias_->requires_grad ? &bias_->grad_target() : nullptr;
  if (forward_fused_) {
    ops().batch_norm_relu_backward_training(dy, x_, w, save_mean_, save_var_, relu_mask_, params_, &dx_,
                                            dweight, dbias);
  } else if (forward_was_training_) {
    ops().batch_norm_backward_training(dy, x_, w, save_mean_, save_var_, params_, &dx_, dweight, dbias);
  } else {
    ops().batch_norm_backward_inference(dy, x_, w, *running_mean_, *running_var_, params_, &dx_, dweight,
                                        dbias);
  }
  if (dweight) weight_->accumulate();
  if (dbias) bias_->accumulate();
  x_ = Tensor(), y_ = Tensor(), relu_mask_ = Tensor();  // spent (module.h: one backward per forward)
  return dx_;
}

}  // namespace resnet::nn
