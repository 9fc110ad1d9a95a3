#include "resnet/nn/layers.h"

namespace resnet::nn {

ShortcutA::ShortcutA(int64_t out_channels, int64_t stride)
    : Module("ShortcutA"), out_channels_(out_channels), stride_(stride) {}

const Tensor& ShortcutA::forward_impl(const Tensor& x) {
  x_shape_ = x.shape();
  x_layout_ = activation_layout(x);
  x_dtype_ = x.dtype();
  ensure(y_, ops::shortcut_a_output_shape(x.shape(), out_channels_, stride_), x_dtype_, x_layout_);
  ops().shortcut_a_forward(x, stride_, y_);
  return y_;
}

const Tensor& ShortcutA::backward_impl(const Tensor& dy) {
  ensure(dx_, x_shape_, x_dtype_, x_layout_);
  ops().shortcut_a_backward(dy, stride_, dx_);
  return dx_;
}

const Tensor& ToLayout::forward_impl(const Tensor& x) {
  x_layout_ = activation_layout(x);
  if (x.ndim() != 4 || x_layout_ == layout_) return x;
  ensure(y_, x.shape(), x.dtype(), layout_);
  y_.copy_from(x);
  return y_;
}

const Tensor& ToLayout::backward_impl(const Tensor& dy) {
  if (!dy.defined() || dy.ndim() != 4 || x_layout_ == layout_) return dy;
  ensure(dx_, dy.shape(), dy.dtype(), x_layout_);
  dx_.copy_from(dy);
  return dx_;
}

}  // namespace resnet::nn
