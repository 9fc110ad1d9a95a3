#include "resnet/nn/layers.h"

namespace resnet::nn {

MaxPool2d::MaxPool2d(int64_t kernel, int64_t stride, int64_t padding) : Module("MaxPool2d") {
  params_.kernel = {kernel, kernel};
  params_.stride = {stride, stride};
  params_.padding = {padding, padding};
}

const Tensor& MaxPool2d::forward_impl(const Tensor& x) {
  x_shape_ = x.shape();
  ensure(y_, ops::pool2d_output_shape(x.shape(), params_), x.dtype(), activation_layout(x));
  ops().max_pool2d_forward(x, params_, y_, workspace_);
  return y_;
}

const Tensor& MaxPool2d::backward_impl(const Tensor& dy) {
  ensure(dx_, x_shape_, y_.dtype(), activation_layout(y_));
  ops().max_pool2d_backward(dy, workspace_, params_, dx_);
  y_ = Tensor();  // spent (module.h: one backward per forward)
  return dx_;
}

AvgPool2d::AvgPool2d(int64_t kernel, int64_t stride, int64_t padding, bool count_include_pad)
    : Module("AvgPool2d") {
  params_.kernel = {kernel, kernel};
  params_.stride = {stride, stride};
  params_.padding = {padding, padding};
  params_.count_include_pad = count_include_pad;
}

const Tensor& AvgPool2d::forward_impl(const Tensor& x) {
  x_shape_ = x.shape();
  x_layout_ = activation_layout(x);
  x_dtype_ = x.dtype();
  ensure(y_, ops::pool2d_output_shape(x.shape(), params_), x_dtype_, x_layout_);
  ops().avg_pool2d_forward(x, params_, y_);
  return y_;
}

const Tensor& AvgPool2d::backward_impl(const Tensor& dy) {
  ensure(dx_, x_shape_, x_dtype_, x_layout_);
  ops().avg_pool2d_backward(dy, params_, dx_);
  return dx_;
}

const Tensor& GlobalAvgPool::forward_impl(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 4) << "GlobalAvgPool wants [N, C, H, W], got " << x.shape();
  x_shape_ = x.shape();
  x_layout_ = activation_layout(x);
  x_dtype_ = x.dtype();
  ensure(y_, {x.size(0), x.size(1)});  // f32 whatever x is: the classifier head stays f32
  ops().global_avg_pool_forward(x, y_);
  return y_;
}

const Tensor& GlobalAvgPool::backward_impl(const Tensor& dy) {
  ensure(dx_, x_shape_, x_dtype_, x_layout_);
  ops().global_avg_pool_backward(dy, dx_);
  return dx_;
}

}  // namespace resnet::nn
