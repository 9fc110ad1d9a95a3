#include "resnet/nn/layers.h"

namespace resnet::nn {

Conv2d::Conv2d(const Conv2dOptions& o) : Module("Conv2d"), options_(o) {
  RESNET_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.groups > 0 && o.in_channels % o.groups == 0 &&
               o.out_channels % o.groups == 0)
      << "Conv2d " << o.in_channels << " -> " << o.out_channels << " with groups " << o.groups;
  params_.stride = {o.stride, o.stride};
  params_.padding = {o.padding, o.padding};
  params_.dilation = {o.dilation, o.dilation};
  params_.groups = o.groups;
  weight_ = &register_parameter(
      "weight", Tensor::zeros({o.out_channels, o.in_channels / o.groups, o.kernel, o.kernel}));
  if (o.bias) {
    bias_ = &register_parameter("bias", Tensor::zeros({o.out_channels}));
    bias_->is_norm_or_bias = true;
  }
}

const Tensor& Conv2d::forward_impl(const Tensor& x) {
  x_ = x;
  // Under cpu-bf16 every convolution writes bf16, so the activations between the stem and the pooling
  // head are bf16 end to end (the layers after a convolution keep their input's type).
  const DType y_type = backend() == ops::Backend::cpu_bf16 ? DType::bf16 : x.dtype();
  ensure(y_, ops::conv2d_output_shape(x.shape(), weight_->value().shape(), params_), y_type,
         activation_layout(x));
  ops().conv2d_forward(x, weight_->value(), bias_ ? &bias_->value() : nullptr, params_, y_);
  return y_;
}

const Tensor& Conv2d::backward_impl(const Tensor& dy) {
  if (compute_input_grad) {
    ensure(dx_, x_.shape(), x_.dtype(), activation_layout(x_));
  } else {
    dx_ = Tensor();
  }
  Tensor* dweight = weight_->requires_grad ? &weight_->grad_target() : nullptr;
  Tensor* dbias = bias_ && bias_->requires_grad ? &bias_->grad_target() : nullptr;
  ops().conv2d_backward(dy, x_, weight_->value(), params_, compute_input_grad ? &dx_ : nullptr, dweight,
                        dbias);
  if (dweight) weight_->accumulate();
  if (dbias) bias_->accumulate();
  x_ = Tensor(), y_ = Tensor();  // the forward's state is spent (module.h: one backward per forward)
  return dx_;
}

}  // namespace resnet::nn
