// Element-wise ops: ReLU, the residual sum, and the two fused.
//
// Shapes:  all tensors of one op share one shape, any rank; dense. The cpu backend needs them in one layout.
// Aliasing: y may be x (in-place ReLU), y may be a or b (in-place add, add_relu), dx may be dy.
// relu_backward takes the forward *output* y: dx = dy where y > 0, else 0 (PyTorch's threshold_backward).
// add_backward writes dy into da and db (either may be null); a module that can route dy without a copy
//          should, this exists so the op has a backward like every other.
// add_relu_forward: y = relu(a + b) in one pass (the end of a post-activation residual block); its
//          backward is relu_backward on y.
// Types:   ref: f32 or f64; cpu: f32 or bf16, every tensor of a call of one type (computed in f32, a bf16
//          output rounded once, nearest-even).
#pragma once

#include "resnet/core/tensor.h"

namespace resnet::ops {

namespace ref {
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx);
void add_forward(const Tensor& a, const Tensor& b, Tensor& y);
void add_backward(const Tensor& dy, Tensor* da, Tensor* db);
void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y);
}  // namespace ref

namespace cpu {
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx);
void add_forward(const Tensor& a, const Tensor& b, Tensor& y);
void add_backward(const Tensor& dy, Tensor* da, Tensor* db);
void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y);
}  // namespace cpu

}  // namespace resnet::ops
