// The inference engine: a trained ResNet compiled into a fixed list of oneDNN primitives for one input
// shape and precision.
//
// What it does to the network (the "inference graph" of He et al.'s nets, eval-mode semantics):
//   - every batch norm that follows a conv is folded into that conv's weights and bias;
//   - the ReLU after it, and at a block's end the residual sum and its ReLU, become oneDNN post-ops of the
//     conv (sum, then eltwise): the last conv of a block accumulates onto the shortcut's buffer in place;
//   - the paper's option-A shortcut (subsample + zero channels) is an exact 1×1 strided conv whose weights
//     are 0/1, so it fuses the same way;
//   - activations stay in the layout oneDNN picks from the stem to the pool; a reorder runs only where a
//     primitive asks for another (at the input edge, typically), and reorders() counts them;
//   - all buffers are planned once (liveness-based reuse), so run() allocates nothing.
// Pre-activation nets keep a standalone BN + ReLU (oneDNN inference batch norm with the ReLU fused) where
// a block's input is normalised, since the unnormalised input is also the shortcut.
//
// Precision: f32, or bf16 (weights and activations bf16, f32 accumulation, f32 logits; needs AVX512-BF16
// for speed, and is emulated — slowly but correctly — elsewhere by oneDNN).
//
// Contract: the engine copies (folds) the model's parameters and running statistics when built; later
// changes to the model are not seen. run(x) takes x [N, C, H, W] f32, NCHW or NHWC, of the shape given at
// construction, and returns the logits [N, classes] f32, owned by the engine and valid until the next run.
// One engine runs one batch at a time (run() is not reentrant).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::infer {

enum class Precision { f32, bf16 };
std::string_view precision_name(Precision p);
// "fp32"/"f32" or "bf16"; throws UserError naming the choices otherwise.
Precision parse_precision(std::string_view name);

class Engine {
 public:
  Engine(models::ResNet& model, const Shape& input, Precision precision = Precision::f32);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Tensor& run(const Tensor& x);

  const Shape& input_shape() const;
  Precision precision() const;
  // One line per primitive: what it computes and the oneDNN implementation chosen.
  std::string describe() const;
  // Runs x `repeats` times step by step and returns each step's median milliseconds, in plan order
  // (describe()'s lines): where an engine's time goes.
  std::vector<double> profile(const Tensor& x, int repeats = 5);
  int64_t reorders() const;
  int64_t primitives() const;
  // Bytes of planned activation buffers, folded weights and scratchpads.
  size_t activation_bytes() const;
  size_t weight_bytes() const;

 private:
  struct Plan;
  std::unique_ptr<Plan> plan_;
};

}  // namespace resnet::infer
