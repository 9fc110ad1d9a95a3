#include "resnet/nn/layers.h"

namespace resnet::nn {

const Tensor& ReLU::forward_impl(const Tensor& x) {
  forward_passed_through_ = fused_into_ && fused_into_->last_forward_fused();
  if (forward_passed_through_) return x;  // already rectified by the BN's fused forward
  ensure(y_, x.shape(), x.dtype(), activation_layout(x));
  ops().relu_forward(x, y_);
  return y_;
}

const Tensor& ReLU::backward_impl(const Tensor& dy) {
  if (forward_passed_through_) return dy;  // the BN's fused backward applies the derivative
  ensure(dx_, y_.shape(), y_.dtype(), activation_layout(y_));
  ops().relu_backward(dy, y_, dx_);
  y_ = Tensor();  // spent (module.h: one backward per forward)
  return dx_;
}

int fuse_norm_relu(const std::vector<Module*>& sequence) {
  int fused = 0;
  for (size_t i = 0; i + 1 < sequence.size(); ++i) {
    auto* norm = dynamic_cast<BatchNorm2d*>(sequence[i]);
    auto* relu = dynamic_cast<ReLU*>(sequence[i + 1]);
    if (!norm || !relu) continue;
    norm->set_fused_relu(true);
    relu->set_fused_into(norm);
    ++fused;
  }
  return fused;
}

Dropout::Dropout(double p, uint64_t seed) : Module("Dropout"), p_(p), rng_(seed) {
  RESNET_CHECK(p >= 0 && p < 1) << "dropout probability " << p << " must be in [0, 1)";
}

const Tensor& Dropout::forward_impl(const Tensor& x) {
  forward_was_training_ = is_training();
  if (!forward_was_training_ || p_ == 0) return x;
  const Layout layout = activation_layout(x);
  ensure(y_, x.shape(), x.dtype(), layout);
  ensure(mask_, x.shape(), DType::u8, layout);
  ops().dropout_forward(x, p_, rng_.next_u64(), y_, mask_);
  return y_;
}

const Tensor& Dropout::backward_impl(const Tensor& dy) {
  if (!forward_was_training_ || p_ == 0) return dy;
  ensure(dx_, dy.shape(), dy.dtype(), activation_layout(mask_));
  ops().dropout_backward(dy, mask_, p_, dx_);
  return dx_;
}

}  // namespace resnet::nn
