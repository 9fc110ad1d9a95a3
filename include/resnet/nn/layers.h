// The layers a residual network is made of. Each wraps one op family: forward and backward side by side,
// buffers reused across steps (see module.h for the contracts shared by all modules).
// Activations keep the layout of the module's input; ToLayout changes it at the network's edge.
#pragma once

#include <cstdint>
#include <vector>

#include "resnet/core/rng.h"
#include "resnet/nn/module.h"
#include "resnet/ops/backend.h"

namespace resnet::nn {

struct Conv2dOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel = 3, stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = false;
};

// weight [out, in/groups, k, k], bias [out] (optional). Parameters start at zero: call an initialiser.
// The output is bf16 under the cpu-bf16 op table (whatever x is), x's type otherwise; every other layer
// here returns its input's type, except GlobalAvgPool (always f32: the head of a bf16 network is f32).
class Conv2d : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  explicit Conv2d(const Conv2dOptions& options);
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }
  const Conv2dOptions& options() const { return options_; }
  const ops::Conv2dParams& params() const { return params_; }
  // False: backward computes only parameter gradients and returns an undefined tensor. For a network's
  // first layer when nobody needs the gradient w.r.t. the image (the stem's backward-data pass is most of
  // its cost: 3 input channels run at ~16 % of peak).
  bool compute_input_grad = true;
  void release_output() override { y_ = Tensor(); }  // backward reads x and the weights only

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;
  void drop_saved_state() override { x_ = Tensor(); }

 private:
  Conv2dOptions options_;
  ops::Conv2dParams params_;
  Parameter* weight_;
  Parameter* bias_ = nullptr;
  Tensor x_, y_;
};

// weight, bias [C] (absent when affine = false); buffers running_mean, running_var [C] and
// num_batches_tracked (i64 scalar) as torchvision names them.
class BatchNorm2d : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1, bool affine = true);
  Parameter* weight() { return weight_; }
  Parameter* bias() { return bias_; }
  Tensor& running_mean() { return *running_mean_; }
  Tensor& running_var() { return *running_var_; }
  double eps() const { return params_.eps; }
  // Training forwards also apply the ReLU that follows (one pass instead of two; see fuse_norm_relu).
  // Forward hooks on this module then see the rectified output.
  void set_fused_relu(bool on) { fused_relu_ = on; }
  bool fused_relu() const { return fused_relu_; }
  // Whether the last forward applied the ReLU.
  bool last_forward_fused() const { return forward_fused_; }
  // Backward reads x, the batch statistics and the ReLU mask, never y.
  void release_output() override { y_ = Tensor(); }

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;
  void drop_saved_state() override { x_ = Tensor(), relu_mask_ = Tensor(); }

 private:
  ops::BatchNormParams params_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  Tensor* running_mean_;
  Tensor* running_var_;
  Tensor* num_batches_tracked_;
  bool forward_was_training_ = true;
  bool fused_relu_ = false;
  bool forward_fused_ = false;
  Tensor x_, y_, save_mean_, save_var_, relu_mask_;
};

class ReLU : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  ReLU() : Module("ReLU") {}
  // The BN right before this ReLU, when the two are fused: whenever that BN's forward applied the ReLU,
  // this module passes its input (and, backward, its gradient) through untouched.
  void set_fused_into(const BatchNorm2d* norm) { fused_into_ = norm; }

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  const BatchNorm2d* fused_into_ = nullptr;
  bool forward_passed_through_ = false;
  Tensor y_;
};

// Fuses every BatchNorm2d immediately followed by a ReLU in `sequence` (modules in forward order): in
// training the BN applies the ReLU in its own pass (and its backward the ReLU's derivative), saving a read
// and a write of the activation each way. Inference runs the two as before. Returns the pairs fused.
int fuse_norm_relu(const std::vector<Module*>& sequence);

class MaxPool2d : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0);

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;
  void drop_saved_state() override { workspace_ = Tensor(); }

 private:
  ops::Pool2dParams params_;
  Shape x_shape_;
  Tensor y_, workspace_;
};

class AvgPool2d : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  AvgPool2d(int64_t kernel, int64_t stride, int64_t padding = 0, bool count_include_pad = true);

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  ops::Pool2dParams params_;
  Shape x_shape_;
  Layout x_layout_ = Layout::contiguous;
  DType x_dtype_ = DType::f32;
  Tensor y_;
};

// [N, C, H, W] -> [N, C]: torchvision's AdaptiveAvgPool2d(1) followed by flatten.
class GlobalAvgPool : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  GlobalAvgPool() : Module("GlobalAvgPool") {}

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  Shape x_shape_;
  Layout x_layout_ = Layout::contiguous;
  DType x_dtype_ = DType::f32;
  Tensor y_;
};

// [N, C, H, W] (any layout) -> [N, C*H*W] in PyTorch's order.
class Flatten : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  Flatten() : Module("Flatten") {}

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  Shape x_shape_;
  Layout x_layout_ = Layout::contiguous;
  Tensor y_;
};

// weight [out, in], bias [out].
class Linear : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;
  void drop_saved_state() override { x_ = Tensor(); }

 private:
  Parameter* weight_;
  Parameter* bias_ = nullptr;
  Tensor x_, y_;
};

// Inverted dropout in training mode, identity in eval mode. Each forward draws a fresh mask seed from
// the module's Rng (seeded at construction), so a run is reproducible from the seed.
class Dropout : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  explicit Dropout(double p, uint64_t seed = 0);
  Rng& rng() { return rng_; }

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;
  void drop_saved_state() override { mask_ = Tensor(); }

 private:
  double p_;
  Rng rng_;
  bool forward_was_training_ = true;
  Tensor y_, mask_;
};

// The paper's option-A shortcut (ops/shortcut.h): subsample by `stride`, zero-pad channels to `out_channels`.
class ShortcutA : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  ShortcutA(int64_t out_channels, int64_t stride);
  void release_output() override { y_ = Tensor(); }  // backward needs only the input's shape

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  int64_t out_channels_, stride_;
  Shape x_shape_;
  Layout x_layout_ = Layout::contiguous;
  DType x_dtype_ = DType::f32;
  Tensor y_;
};

// Converts activations to `layout` (forward) and gradients back to the input's layout (backward).
class ToLayout : public Module {
 public:
  void drop_output() override { y_ = Tensor(); }
  explicit ToLayout(Layout layout) : Module("ToLayout"), layout_(layout) {}

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  Layout layout_;
  Layout x_layout_ = Layout::contiguous;
  Tensor y_;
};

}  // namespace resnet::nn
