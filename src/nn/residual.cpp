#include "resnet/nn/residual.h"

namespace resnet::nn {

BasicBlock::BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, ShortcutKind shortcut)
    : Module("BasicBlock"), plain_(shortcut == ShortcutKind::none) {
  conv1_ = &register_module("conv1", std::make_unique<Conv2d>(Conv2dOptions{.in_channels = in_channels,
                                                                            .out_channels = out_channels,
                                                                            .kernel = 3,
                                                                            .stride = stride,
                                                                            .padding = 1}));
  bn1_ = &register_module("bn1", std::make_unique<BatchNorm2d>(out_channels));
  relu1_ = &register_module("relu1", std::make_unique<ReLU>());
  conv2_ = &register_module("conv2", std::make_unique<Conv2d>(Conv2dOptions{.in_channels = out_channels,
                                                                            .out_channels = out_channels,
                                                                            .kernel = 3,
                                                                            .stride = 1,
                                                                            .padding = 1}));
  bn2_ = &register_module("bn2", std::make_unique<BatchNorm2d>(out_channels));
  const bool reshapes = stride != 1 || in_channels != out_channels;
  if (reshapes && shortcut == ShortcutKind::A) {
    downsample_ = &register_module("downsample", std::make_unique<ShortcutA>(out_channels, stride));
  } else if (reshapes && shortcut == ShortcutKind::B) {
    auto projection = std::make_unique<Sequential>();
    projection->add(std::make_unique<Conv2d>(Conv2dOptions{
        .in_channels = in_channels, .out_channels = out_channels, .kernel = 1, .stride = stride}));
    projection->add(std::make_unique<BatchNorm2d>(out_channels));
    downsample_ = &register_module("downsample", std::move(projection));
  }
}

const Tensor& BasicBlock::forward_impl(const Tensor& x) {
  const Tensor& branch = bn2_->forward(conv2_->forward(relu1_->forward(bn1_->forward(conv1_->forward(x)))));
  const Layout layout = activation_layout(branch);
  ensure(out_, branch.shape(), DType::f32, layout);
  if (plain_) {
    ops().relu_forward(branch, out_);
    return out_;
  }
  const Tensor& identity = downsample_ ? downsample_->forward(x) : x;
  ensure(sum_, branch.shape(), DType::f32, layout);
  ops().add_forward(branch, identity, sum_);
  ops().relu_forward(sum_, out_);
  return out_;
}

const Tensor& BasicBlock::backward_impl(const Tensor& dy) {
  ensure(dsum_, out_.shape(), DType::f32, activation_layout(out_));
  ops().relu_backward(dy, out_, dsum_);
  // The residual sum passes dsum unchanged to both the branch and the shortcut.
  const Tensor& dx_branch =
      conv1_->backward(bn1_->backward(relu1_->backward(conv2_->backward(bn2_->backward(dsum_)))));
  if (plain_) return dx_branch;
  const Tensor& dx_shortcut = downsample_ ? downsample_->backward(dsum_) : dsum_;
  ensure(dx_, dx_branch.shape(), DType::f32, activation_layout(dx_branch));
  ops().add_forward(dx_branch, dx_shortcut, dx_);
  return dx_;
}

}  // namespace resnet::nn
