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

ResidualBlock::ResidualBlock(std::string type_name, BlockShortcut shortcut)
    : Module(std::move(type_name)), shortcut_(shortcut) {}

void ResidualBlock::add_shortcut(int64_t in_channels, int64_t out_channels, int64_t stride,
                                 bool projection_norm) {
  if (shortcut_ == BlockShortcut::option_a) {
    downsample_ = &register_module("downsample", std::make_unique<ShortcutA>(out_channels, stride));
  } else if (shortcut_ == BlockShortcut::projection) {
    auto projection = std::make_unique<Sequential>();
    projection->add(conv(in_channels, out_channels, 1, stride));
    if (projection_norm) projection->add(std::make_unique<BatchNorm2d>(out_channels));
    downsample_ = &register_module("downsample", std::move(projection));
  }
}

const Tensor& ResidualBlock::forward_impl(const Tensor& x) {
  const Tensor* tap = &x;
  const Tensor& branch = forward_chain(branch_, x, projection_tap_, &tap);
  const Layout layout = activation_layout(branch);
  if (shortcut_ == BlockShortcut::none) {
    if (!post_activation_) return branch;
    ensure(out_, branch.shape(), branch.dtype(), layout);
    ops().relu_forward(branch, out_);  // its backward reads out_, not the branch's output
    branch_.back()->release_output();
    return out_;
  }
  const Tensor& identity = downsample_ ? downsample_->forward(*tap) : x;
  const Tensor* result = nullptr;
  if (!post_activation_) {
    ensure(sum_, branch.shape(), branch.dtype(), layout);
    ops().add_forward(branch, identity, sum_);
    result = &sum_;
  } else {
    ensure(out_, branch.shape(), branch.dtype(), layout);
    ops().add_relu_forward(branch, identity, out_);  // relu(branch + identity) in one pass
    result = &out_;
  }
  // The add keeps neither input for its backward: the branch's last output (a BN's, in post-activation
  // blocks; nobody else holds it) and the shortcut's go back to the pool now, not at the next forward —
  // ResNet-50 at batch 16 holds ~450 MB less between forward and backward.
  branch_.back()->release_output();
  if (downsample_) downsample_->release_output();
  if (!grad_enabled()) Module::drop_output();  // no backward follows: every child's output is spent
  return *result;
}

void ResidualBlock::drop_output() {
  out_ = Tensor(), sum_ = Tensor();
  Module::drop_output();
}

// Every gradient buffer is released as soon as it has been consumed (module.h): the children's, dsum_
// and dtap_; what is returned is dx_, or a branch layer's buffer (grad_owner_), or dtap_.
const Tensor& ResidualBlock::backward_impl(const Tensor& dy) {
  const Tensor* dsum = &dy;
  if (post_activation_) {
    ensure(dsum_, out_.shape(), out_.dtype(), activation_layout(out_));
    ops().relu_backward(dy, out_, dsum_);
    dsum = &dsum_;
  }
  out_ = Tensor(), sum_ = Tensor();  // spent (module.h: one backward per forward)
  // The residual sum passes dsum unchanged to both the branch and the shortcut.
  const Tensor* dshortcut = shortcut_ == BlockShortcut::none ? nullptr
                            : downsample_                    ? &downsample_->backward(*dsum)
                                                             : dsum;
  bool shortcut_grad_live = downsample_ && dshortcut;  // downsample_ holds *dshortcut
  const bool tapped = downsample_ && projection_tap_ >= 0;
  const Tensor* g = dsum;
  Module* owner = nullptr;  // the branch layer whose buffer *g is (null: *g is dsum or dtap_)
  for (int i = static_cast<int>(branch_.size()) - 1; i >= 0; --i) {
    const Tensor& out = branch_[i]->backward(*g);
    if (&out != g) {  // *g has been consumed
      if (owner) owner->release_input_grad();
      if (g == &dtap_) dtap_ = Tensor();
      owner = branch_[i];
    }
    g = &out;
    if (tapped && i == projection_tap_ + 1) {  // g is now the gradient w.r.t. the tap's output
      ensure(dtap_, g->shape(), g->dtype(), activation_layout(*g));
      ops().add_forward(*g, *dshortcut, dtap_);
      if (owner) owner->release_input_grad();
      downsample_->release_input_grad();
      shortcut_grad_live = false;
      owner = nullptr;
      g = &dtap_;
    }
  }
  if (!dshortcut || tapped) {
    if (g != &dsum_) dsum_ = Tensor();
    grad_owner_ = owner;
    return *g;
  }
  ensure(dx_, g->shape(), g->dtype(), activation_layout(*g));
  ops().add_forward(*g, *dshortcut, dx_);
  if (owner) owner->release_input_grad();
  if (shortcut_grad_live) downsample_->release_input_grad();
  dsum_ = Tensor();
  grad_owner_ = nullptr;
  return dx_;
}

void ResidualBlock::release_input_grad() {
  dtap_ = Tensor();
  Module::release_input_grad();
}

BasicBlock::BasicBlock(int64_t in_channels, int64_t width1, int64_t out_channels, int64_t stride,
                       BlockShortcut shortcut)
    : ResidualBlock("BasicBlock", shortcut) {
  branch_.push_back(&register_module("conv1", conv(in_channels, width1, 3, stride)));
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(width1)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(width1, out_channels, 3, 1)));
  last_norm_ = &register_module("bn2", std::make_unique<BatchNorm2d>(out_channels));
  branch_.push_back(last_norm_);
  add_shortcut(in_channels, out_channels, stride);
  fuse_norm_relu(branch_);
}

Bottleneck::Bottleneck(int64_t in_channels, int64_t width1, int64_t width2, int64_t out_channels,
                       int64_t stride, BlockShortcut shortcut, int64_t groups, bool stride_in_1x1)
    : ResidualBlock("Bottleneck", shortcut) {
  branch_.push_back(&register_module("conv1", conv(in_channels, width1, 1, stride_in_1x1 ? stride : 1)));
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(width1)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(width1, width2, 3, stride_in_1x1 ? 1 : stride, groups)));
  branch_.push_back(&register_module("bn2", std::make_unique<BatchNorm2d>(width2)));
  branch_.push_back(&register_module("relu2", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv3", conv(width2, out_channels, 1, 1)));
  last_norm_ = &register_module("bn3", std::make_unique<BatchNorm2d>(out_channels));
  branch_.push_back(last_norm_);
  add_shortcut(in_channels, out_channels, stride);
  fuse_norm_relu(branch_);
}

PreActBlock::PreActBlock(int64_t in_channels, int64_t width1, int64_t out_channels, int64_t stride,
                         BlockShortcut shortcut, double dropout, uint64_t seed)
    : ResidualBlock("PreActBlock", shortcut) {
  post_activation_ = false;
  projection_tap_ = 1;  // relu1's output
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(in_channels)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv1", conv(in_channels, width1, 3, stride)));
  if (dropout > 0) branch_.push_back(&register_module("dropout", std::make_unique<Dropout>(dropout, seed)));
  branch_.push_back(&register_module("bn2", std::make_unique<BatchNorm2d>(width1)));
  branch_.push_back(&register_module("relu2", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(width1, out_channels, 3, 1)));
  add_shortcut(in_channels, out_channels, stride, /*projection_norm=*/false);
  fuse_norm_relu(branch_);
}

PreActBottleneck::PreActBottleneck(int64_t in_channels, int64_t width1, int64_t width2, int64_t out_channels,
                                   int64_t stride, BlockShortcut shortcut)
    : ResidualBlock("PreActBottleneck", shortcut) {
  post_activation_ = false;
  projection_tap_ = 1;
  branch_.push_back(&register_module("bn1", std::make_unique<BatchNorm2d>(in_channels)));
  branch_.push_back(&register_module("relu1", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv1", conv(in_channels, width1, 1, 1)));
  branch_.push_back(&register_module("bn2", std::make_unique<BatchNorm2d>(width1)));
  branch_.push_back(&register_module("relu2", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv2", conv(width1, width2, 3, stride)));
  branch_.push_back(&register_module("bn3", std::make_unique<BatchNorm2d>(width2)));
  branch_.push_back(&register_module("relu3", std::make_unique<ReLU>()));
  branch_.push_back(&register_module("conv3", conv(width2, out_channels, 1, 1)));
  add_shortcut(in_channels, out_channels, stride, /*projection_norm=*/false);
  fuse_norm_relu(branch_);
}

}  // namespace resnet::nn
