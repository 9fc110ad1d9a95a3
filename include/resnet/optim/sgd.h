// Stochastic gradient descent with momentum, PyTorch's torch.optim.SGD update:
//   g = grad + weight_decay · p                       (decay skipped on BN/bias params if
//   decay_norm_and_bias=false) b = g on the first step, else momentum · b + (1 - dampening) · g p -= lr ·
//   (nesterov ? g + momentum · b : b)
// Parameters without a gradient this step (has_grad() false) are left untouched, as PyTorch skips grad=None.
// Momentum buffers live in one block allocated at construction: step() allocates nothing.
#pragma once

#include <vector>

#include "resnet/nn/module.h"

namespace resnet::optim {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool decay_norm_and_bias = true;
};

class Sgd {
 public:
  Sgd(std::vector<nn::Parameter*> parameters, const SgdOptions& options);
  void step();
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  const SgdOptions& options() const { return options_; }
  int64_t steps() const { return steps_; }

  // Momentum state, for checkpoints: one buffer per parameter (same order as given), and whether each
  // has been initialised by a first step.
  const std::vector<Tensor>& momentum_buffers() const { return buffers_; }
  std::vector<bool>& buffer_initialised() { return initialised_; }
  const std::vector<bool>& buffer_initialised() const { return initialised_; }
  void set_steps(int64_t steps) { steps_ = steps; }  // restoring a checkpoint

 private:
  std::vector<nn::Parameter*> parameters_;
  SgdOptions options_;
  Tensor arena_;
  std::vector<Tensor> buffers_;
  std::vector<bool> initialised_;
  int64_t steps_ = 0;
};

}  // namespace resnet::optim
