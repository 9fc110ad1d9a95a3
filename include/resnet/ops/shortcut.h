// The paper's option-A shortcut: identity with a stride-s subsample and zero-padded new channels.
//
//   y[n, c + front, h, w] = x[n, c, h*s, w*s]   for c in [0, C)
//   y[n, k, h, w] = 0                           for the other channels,
//   front = (O - C) / 2 (floor), back = O - C - front: the zeros sit equally on both sides of the channel
//   axis, as in the widely used PyTorch CIFAR ResNet (F.pad(x[:, :, ::2, ::2], (0,0,0,0, O/4, O/4))).
// Shapes:  x, dx [N, C, H, W]; y, dy [N, O, ceil(H/s), ceil(W/s)], O >= C. Dense; cpu needs one layout.
// Backward: dx[n, c, h*s, w*s] = dy[n, c + front, h, w], every other element of dx is 0 (overwritten).
// Types:   ref: f32 or f64; cpu: f32 or bf16 (x and y, dy and dx of one type).
#pragma once

#include <cstdint>

#include "resnet/core/tensor.h"

namespace resnet::ops {

Shape shortcut_a_output_shape(const Shape& x, int64_t out_channels, int64_t stride);

namespace ref {
void shortcut_a_forward(const Tensor& x, int64_t stride, Tensor& y);
void shortcut_a_backward(const Tensor& dy, int64_t stride, Tensor& dx);
}  // namespace ref

namespace cpu {
void shortcut_a_forward(const Tensor& x, int64_t stride, Tensor& y);
void shortcut_a_backward(const Tensor& dy, int64_t stride, Tensor& dx);
}  // namespace cpu

}  // namespace resnet::ops
