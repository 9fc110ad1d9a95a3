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

// The network-wide choice (models::ResNetSpec::shortcut).
enum class ShortcutKind { A, B, none };
// What one block's shortcut is, once the architecture has decided (models/architecture.h).
enum class BlockShortcut { identity, option_a, projection, none };

// The shared mechanism: a branch of modules run in order, a shortcut, the sum and (post-activation blocks)
// the final ReLU. Pre-activation blocks (He et al. 2016) end with the sum, and their projection shortcut
// reads the branch's pre-activated input (the output of branch_[projection_tap_]) instead of x.
class ResidualBlock : public Module {
 public:
  // The BN whose weight zero_init_residual zeroes (null for pre-activation blocks, which end in a conv).
  BatchNorm2d* last_norm() { return last_norm_; }

 protected:
  ResidualBlock(std::string type_name, BlockShortcut shortcut);
  // Registers the shortcut for a block mapping in_channels → out_channels at `stride`; a projection is a
  // 1×1 conv followed by BN when `projection_norm`, a bare 1×1 conv otherwise (pre-activation nets).
  void add_shortcut(int64_t in_channels, int64_t out_channels, int64_t stride, bool projection_norm = true);
  std::vector<Module*> branch_;  // in forward order
  BatchNorm2d* last_norm_ = nullptr;
  bool post_activation_ = true;  // ReLU after the sum
  int projection_tap_ = -1;      // -1: the projection reads x; k: it reads branch_[k]'s output

  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 public:
  void release_input_grad() override;
  void drop_output() override;

 private:
  BlockShortcut shortcut_;
  Module* downsample_ = nullptr;  // null: identity (or no shortcut when plain)
  Tensor sum_, out_, dsum_, dtap_;
};

// Every block takes each conv's output width (models/architecture.h decides them: the design's, or a
// pruned network's own) and its shortcut.
class BasicBlock : public ResidualBlock {
 public:
  BasicBlock(int64_t in_channels, int64_t width1, int64_t out_channels, int64_t stride,
             BlockShortcut shortcut);
};

class Bottleneck : public ResidualBlock {
 public:
  Bottleneck(int64_t in_channels, int64_t width1, int64_t width2, int64_t out_channels, int64_t stride,
             BlockShortcut shortcut, int64_t groups = 1, bool stride_in_1x1 = false);
};

// Pre-activation basic block (He et al. 2016; Wide ResNet's block with dropout > 0):
//   bn1 → relu → conv3x3(stride) → [dropout] → bn2 → relu → conv3x3, plus the shortcut; no ReLU after the
//   sum.
class PreActBlock : public ResidualBlock {
 public:
  PreActBlock(int64_t in_channels, int64_t width1, int64_t out_channels, int64_t stride,
              BlockShortcut shortcut, double dropout = 0.0, uint64_t seed = 0);
};

// Pre-activation bottleneck: bn1 → relu → conv1x1 → bn2 → relu → conv3x3(stride) → bn3 → relu → conv1x1 (×4).
class PreActBottleneck : public ResidualBlock {
 public:
  PreActBottleneck(int64_t in_channels, int64_t width1, int64_t width2, int64_t out_channels, int64_t stride,
                   BlockShortcut shortcut);
};

}  // namespace resnet::nn
