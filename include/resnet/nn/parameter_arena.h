// All parameters of a network in one contiguous block (values) plus one for their gradients, each
// parameter a named view into both (llm.c's layout). An optimiser step is then a flat loop over one
// buffer and a checkpoint a few large writes. Slices start on 64-byte boundaries.
#pragma once

#include <string>
#include <vector>

#include "resnet/nn/module.h"

namespace resnet::nn {

class ParameterArena {
 public:
  struct Entry {
    std::string name;
    Parameter* parameter;
    int64_t offset;  // in floats from the arena start
    int64_t numel;
  };

  // Moves every parameter of `root` (current values kept) into the arena. `root` must outlive the arena.
  explicit ParameterArena(Module& root);

  const std::vector<Entry>& entries() const { return entries_; }
  const Tensor& values() const { return values_; }  // [total] f32, padding between slices is zero
  const Tensor& grads() const { return grads_; }
  int64_t total() const { return values_.numel(); }

 private:
  std::vector<Entry> entries_;
  Tensor values_, grads_;
};

}  // namespace resnet::nn
