// Residual blocks (He et al. 2015, Fig. 2): out = relu(F(x) + shortcut(x)).
//
// BasicBlock: F = conv3x3(stride) → bn1 → relu → conv3x3 → bn2, torchvision's names (conv1, bn1, conv2, bn2,
// downsample). The shortcut when shapes change is chosen by ShortcutKind:
//   A        the paper's parameter-free option (stride-s subsample + zero-padded channels),
//   B        a 1×1 projection conv + BN, registered as downsample.0 / downsample.1,
//   none     no shortcut at all: the *plain* twin used in the degradation experiments.
// Identity shapes always use the identity shortcut (except `none`).
#pragma once

#include <memory>

#include "resnet/nn/layers.h"

namespace resnet::nn {

enum class ShortcutKind { A, B, none };

class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, ShortcutKind shortcut);
  BatchNorm2d& last_norm() { return *bn2_; }  // zero-initialised with zero_init_residual

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  Conv2d* conv1_;
  BatchNorm2d* bn1_;
  ReLU* relu1_;
  Conv2d* conv2_;
  BatchNorm2d* bn2_;
  Module* downsample_ = nullptr;  // null: identity (or no shortcut when plain)
  bool plain_;
  Tensor sum_, out_, dsum_, dx_;
};

}  // namespace resnet::nn
