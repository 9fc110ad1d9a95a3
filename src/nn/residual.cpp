#include "resnet/nn/residual.h"

namespace resnet::nn {
namespace {

std::unique_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups = 1) {
  return std::make_unique<Conv2d>(Conv2dOptions{.in_channels = in,
                                                .out_channels = out,
                                                .kernel = kernel,
                                                .stride = stride,
                                                .padding = kernel / 2,
                                                .groups = groups});
}

}  // namespace

ResidualBlock::ResidualBlock(std::string type_name, ShortcutKind shortcut)
    : Module(std::move(type_name)), shortcut_(shortcut) {}

void ResidualBlock::add_shortcut(int64_t in_channels, int64_t out_channels, int64_t stride) {
  const bool reshapes = stride != 1 || in_channels != out_channels;
  if (reshapes && shortcut_ == ShortcutKind::A) {
    downsample_ = &register_module("downsample", std::make_unique<ShortcutA>(out_channels, stride));
  } else if (reshapes && shortcut_ == ShortcutKind::B) {
    auto projection = std::make_unique<Sequential>();
    projection->add(conv(in_channels, out_channels, 1, stride));
    projection->add(std::make_unique<BatchNorm2d>(out_channels));
    downsample_ = &register_module("downsample", std::move(projection));
  }
}

const Tensor& ResidualBlock::forward_impl(const Tensor& x) {
  const Tensor* h = &x;
  for (Module* m : branch_) h = &m->forward(*h);
  const Tensor& branch = *h;
  const Layout layout = activation_layout(branch);
  ensure(out_, branch.shape(), DType::f32, layout);
  if (shortcut_ == ShortcutKind::none) {
    ops().relu_forward(branch, out_);
    return out_;
  }
  const Tensor& identity = downsample_ ? downsample_->forward(x) : x;
  ensure(sum_, branch.shape(), DType::f32, layout);
  ops().add_forward(branch, identity, sum_);
  ops().relu_forward(sum_, out_);
  return out_;
}

const Tensor& ResidualBlock::backward_impl(const Tensor& dy) {
  ensure(dsum_, out_.shape(), DType::f32, activation_layout(out_));
  ops().relu_backward(dy, out_, dsum_);
  // The residual sum passes dsum unchanged to both the branch and the shortcut.
  const Tensor* g = &dsum_;
  for (auto it = branch_.rbegin(); it != branch_.rend(); ++it) g = &(*it)->backward(*g);
  const Tensor& dx_branch = *g;
  if (shortcut_ == ShortcutKind::none) return dx_branch;
  const Tensor& dx_shortcut = downsample_ ? downsample_->backward(dsum_) : dsum_;
  ensure(dx_, dx_branch.shape(), DType::f32, activation_layout(dx_branch));
  ops().add_forward(dx_branch, dx_shortcut, dx_);
  return dx_;
}

BasicBlock::BasicBlock(int64_t in_channels, int64_t planes, int64_t stride, ShortcutKind shortcut)
    : ResidualBlock("BasicBlock", shortcut) {
  branch_.push_back(&register_module("conv1", conv(in_channels, planes, 3, stride)));
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(planes)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(planes, planes, 3, 1)));
  last_norm_ = &register_module("bn2", std::make_unique<BatchNorm2d>(planes));
  branch_.push_back(last_norm_);
  add_shortcut(in_channels, planes, stride);
}

Bottleneck::Bottleneck(int64_t in_channels, int64_t planes, int64_t stride, ShortcutKind shortcut,
                       int64_t groups, int64_t width_per_group, bool stride_in_1x1)
    : ResidualBlock("Bottleneck", shortcut) {
  const int64_t width = planes * width_per_group / 64 * groups;
  const int64_t out_channels = planes * kExpansion;
  branch_.push_back(&register_module("conv1", conv(in_channels, width, 1, stride_in_1x1 ? stride : 1)));
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(width)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(width, width, 3, stride_in_1x1 ? 1 : stride, groups)));
  branch_.push_back(&register_module("bn2", std::make_unique<BatchNorm2d>(width)));
  branch_.push_back(&register_module("relu2", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv3", conv(width, out_channels, 1, 1)));
  last_norm_ = &register_module("bn3", std::make_unique<BatchNorm2d>(out_channels));
  branch_.push_back(last_norm_);
  add_shortcut(in_channels, out_channels, stride);
}

}  // namespace resnet::nn
