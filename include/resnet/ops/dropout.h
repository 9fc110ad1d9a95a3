// Inverted dropout: y = x · mask / (1 - p), mask ~ Bernoulli(1 - p).
//
// The mask of element i (its flat logical, row-major index) is counter_uniform(seed, i) >= p, so it depends
// only on (seed, i): ref and cpu, any layout and any thread count give the same mask. The caller draws a
// fresh seed per call (the Dropout module does so from its Rng).
// Shapes:  x, y, dy, dx, mask: one shape, dense; mask is u8 (1 = kept) in x's layout, allocated by caller.
// p in [0, 1); p == 0 copies x and sets the mask to all ones.
// Aliasing: y may be x, dx may be dy.
// Types:   ref: f32 or f64; cpu: f32 or bf16 (x and y, dy and dx of one type; a bf16 output is rounded
//          once from the f32 product).
#pragma once

#include <cstdint>

#include "resnet/core/tensor.h"

namespace resnet::ops {

namespace ref {
void dropout_forward(const Tensor& x, double p, uint64_t seed, Tensor& y, Tensor& mask);
void dropout_backward(const Tensor& dy, const Tensor& mask, double p, Tensor& dx);
}  // namespace ref

namespace cpu {
void dropout_forward(const Tensor& x, double p, uint64_t seed, Tensor& y, Tensor& mask);
void dropout_backward(const Tensor& dy, const Tensor& mask, double p, Tensor& dx);
}  // namespace cpu

}  // namespace resnet::ops
