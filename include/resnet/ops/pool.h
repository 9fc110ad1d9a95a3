// Pooling: max, average, global average.
//
// Shapes:  x, dx [N, C, H, W]; y, dy [N, C, Ho, Wo] with Ho = (H + 2*pad - kernel) / stride + 1 (floor, as
//          PyTorch with ceil_mode=false; padding <= kernel/2). Global average pool: y, dy [N, C] contiguous.
// Layouts: dense, contiguous or channels_last; cpu needs x and y (dy and dx) in one layout.
// Max pool: padded positions never win (they are -inf). `workspace` is owned by the op: forward resizes it
//          as it needs and fills it (ref: argmax indices; cpu: oneDNN's workspace), backward reads it.
//          A workspace is only valid for the backward of the same backend and the same forward call.
//          Ties: the first maximum in the window in (kh, kw) order receives the gradient.
// Avg pool: count_include_pad as PyTorch (default true: divide by kH*kW always; false: by the number of
//          in-bounds taps).
// Backward outputs are overwritten.
// Types:   ref: f32 or f64; cpu: f32 or bf16, one type per call — except global average pooling, whose
//          y and dy are f32 whatever x and dx are (the classifier head of a bf16 network stays f32).
#pragma once

#include <array>
#include <cstdint>

#include "resnet/core/tensor.h"

namespace resnet::ops {

struct Pool2dParams {
  std::array<int64_t, 2> kernel{2, 2};
  std::array<int64_t, 2> stride{2, 2};
  std::array<int64_t, 2> padding{0, 0};
  bool count_include_pad = true;  // average pooling only
};

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p);

namespace ref {
void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y, Tensor& workspace);
void max_pool2d_backward(const Tensor& dy, const Tensor& workspace, const Pool2dParams& p, Tensor& dx);
void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y);
void avg_pool2d_backward(const Tensor& dy, const Pool2dParams& p, Tensor& dx);
void global_avg_pool_forward(const Tensor& x, Tensor& y);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);
}  // namespace ref

namespace cpu {
void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y, Tensor& workspace);
void max_pool2d_backward(const Tensor& dy, const Tensor& workspace, const Pool2dParams& p, Tensor& dx);
void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y);
void avg_pool2d_backward(const Tensor& dy, const Pool2dParams& p, Tensor& dx);
void global_avg_pool_forward(const Tensor& x, Tensor& y);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);
}  // namespace cpu

}  // namespace resnet::ops
