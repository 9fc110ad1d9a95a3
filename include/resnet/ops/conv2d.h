// 2-D convolution (cross-correlation, as PyTorch's Conv2d).
//
// Shapes:  x [N, C, H, W]   weight [O, C/groups, kH, kW] (contiguous)   bias [O] or null   y [N, O, Ho, Wo]
//          Ho = (H + 2*pad_h - dil_h*(kH-1) - 1) / stride_h + 1  (floor), likewise Wo.
// Layouts: x, y, dy, dx dense, contiguous (NCHW) or channels_last (NHWC); the cpu backend needs all four in
//          one layout (the weights gradient reads x with dy), and runs ~9× faster on channels_last at CIFAR
//          widths (NCHW falls back to oneDNN's gemm kernels). Caller allocates every output.
// Backward outputs (dx, dweight, dbias) are overwritten, never accumulated; pass null to skip one.
// Types:   ref: f32 or f64 (all tensors one type, accumulation in double); cpu: f32.
// cpu::*_bf16 (mixed precision, the cpu-bf16 op table): the products are taken in bf16 and accumulated in
//          f32: x, weight and dy are rounded to bf16 (nearest-even) where they are f32, so the result
//          equals the f32 convolution of the rounded inputs up to f32 summation order. x, y, dy, dx may
//          each be f32 or bf16 (dx of x's type); a bf16 y or dx is rounded once. Weights, dweight and
//          dbias are f32. Needs AVX-512 (oneDNN 2.6 has no bf16 convolution below it;
//          ops::bf16_supported()).
#pragma once

#include <array>
#include <cstdint>

#include "resnet/core/tensor.h"

namespace resnet::ops {

struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

// [N, O, Ho, Wo] for the given input and weight shapes; CHECKs the channel/group arithmetic.
Shape conv2d_output_shape(const Shape& x, const Shape& weight, const Conv2dParams& p);

namespace ref {
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                    Tensor& y);
void conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                     Tensor* dx, Tensor* dweight, Tensor* dbias);
}  // namespace ref

namespace cpu {
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                    Tensor& y);
void conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                     Tensor* dx, Tensor* dweight, Tensor* dbias);
void conv2d_forward_bf16(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                         Tensor& y);
void conv2d_backward_bf16(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                          Tensor* dx, Tensor* dweight, Tensor* dbias);
}  // namespace cpu

}  // namespace resnet::ops
