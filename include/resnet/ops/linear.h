// Fully connected layer: y = x · weightᵀ + bias (PyTorch's Linear), and flatten.
//
// Shapes:  x, dx [N, in]; weight, dweight [out, in]; bias, dbias [out] or null; y, dy [N, out]; all
// contiguous. flatten: x [N, C, H, W] in any dense layout -> y [N, C*H*W] contiguous, in PyTorch's (C, H, W)
// order;
//          flatten_backward maps dy back into dx's shape and layout.
// Backward outputs are overwritten; pass null to skip one.
// Types:   ref: f32 or f64; cpu: f32.
#pragma once

#include "resnet/core/tensor.h"

namespace resnet::ops {

namespace ref {
void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y);
void linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, Tensor* dx, Tensor* dweight,
                     Tensor* dbias);
void flatten_forward(const Tensor& x, Tensor& y);
void flatten_backward(const Tensor& dy, Tensor& dx);
}  // namespace ref

namespace cpu {
void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y);
void linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, Tensor* dx, Tensor* dweight,
                     Tensor* dbias);
void flatten_forward(const Tensor& x, Tensor& y);
void flatten_backward(const Tensor& dy, Tensor& dx);
}  // namespace cpu

}  // namespace resnet::ops
