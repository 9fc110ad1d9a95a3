// Residual blocks (He et al. 2015, Fig. 2 and 5): out = relu(F(x) + shortcut(x)).
//
// BasicBlock  F = conv3x3(stride) → bn1 → relu → conv3x3 → bn2                 (ResNet-18/34, CIFAR nets)
// Bottleneck  F = conv1x1 → bn1 → relu → conv3x3(stride, groups) → bn2 → relu → conv1x1 (×4) → bn3
//             (ResNet-50/101/152; groups > 1 gives ResNeXt, a wider 3×3 gives Wide ResNet). The stride sits
//             on the 3×3 as torchvision has it ("v1.5"); stride_in_1x1 puts it on the first 1×1 as the
//             paper's Caffe release did.
// Names are torchvision's (conv1, bn1, conv2, bn2, conv3, bn3, downsample). The shortcut when shapes change:
//   A     the paper's parameter-free option (stride-s subsample + zero-padded channels),
//   B     a 1×1 projection conv + BN, registered as downsample.0 / downsample.1,
//   none  no shortcut at all: the *plain* twin used in the degradation experiments.
// Identity shapes always use the identity shortcut (except `none`).
#pragma once

#include <memory>
#include <vector>

#include "resnet/nn/layers.h"

namespace resnet::nn {

enum class ShortcutKind { A, B, none };

// The shared mechanism: a branch of modules run in order, a shortcut, the sum and the final ReLU.
class ResidualBlock : public Module {
 public:
  BatchNorm2d& last_norm() { return *last_norm_; }  // zero-initialised with zero_init_residual

 protected:
  ResidualBlock(std::string type_name, ShortcutKind shortcut);
  // Registers the shortcut for a block mapping in_channels → out_channels at `stride`.
  void add_shortcut(int64_t in_channels, int64_t out_channels, int64_t stride);
  std::vector<Module*> branch_;  // in forward order
  BatchNorm2d* last_norm_ = nullptr;

  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  ShortcutKind shortcut_;
  Module* downsample_ = nullptr;  // null: identity (or no shortcut when plain)
  Tensor sum_, out_, dsum_, dx_;
};

class BasicBlock : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t in_channels, int64_t planes, int64_t stride, ShortcutKind shortcut);
};

class Bottleneck : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 4;
  // Output channels planes · 4; the 3×3 has planes · width_per_group / 64 · groups channels.
  Bottleneck(int64_t in_channels, int64_t planes, int64_t stride, ShortcutKind shortcut, int64_t groups = 1,
             int64_t width_per_group = 64, bool stride_in_1x1 = false);
};

}  // namespace resnet::nn
