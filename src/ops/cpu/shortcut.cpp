// The option-A shortcut (strided identity, zero-padded channels) as plain parallel loops over the
// output (forward) or input (backward), so every element is written exactly once. The loops only move
// elements and write zeros, so f32 and bf16 differ in element size alone (a bf16 zero is all zero bits).
#include <algorithm>

#include "ops/cpu/dnnl_context.h"
#include "resnet/ops/shortcut.h"

namespace resnet::ops::cpu {
namespace {

template <class T>
void forward_loops(const Tensor& x, int64_t stride, Layout layout, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = y.size(1), Ho = y.size(2), Wo = y.size(3), s = stride;
  const int64_t front = (O - C) / 2;
  const T* in = static_cast<const T*>(x.raw());
  T* out = static_cast<T*>(y.raw());

  if (layout == Layout::contiguous) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < O; ++k) {
        T* plane = out + (n * O + k) * Ho * Wo;
        const int64_t c = k - front;
        if (c < 0 || c >= C) {
          std::fill(plane, plane + Ho * Wo, T{0});
          continue;
        }
        const T* src = in + (n * C + c) * H * W;
        for (int64_t h = 0; h < Ho; ++h)
          for (int64_t w = 0; w < Wo; ++w) plane[h * Wo + w] = src[(h * s) * W + w * s];
      }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < Ho; ++h)
      for (int64_t w = 0; w < Wo; ++w) {
        T* pixel = out + ((n * Ho + h) * Wo + w) * O;
        const T* src = in + ((n * H + h * s) * W + w * s) * C;
        std::fill(pixel, pixel + front, T{0});
        std::copy(src, src + C, pixel + front);
        std::fill(pixel + front + C, pixel + O, T{0});
      }
}

template <class T>
void backward_loops(const Tensor& dy, int64_t stride, Layout layout, Tensor& dx) {
  const int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
  const int64_t O = dy.size(1), Ho = dy.size(2), Wo = dy.size(3), s = stride;
  const int64_t front = (O - C) / 2;
  const T* in = static_cast<const T*>(dy.raw());
  T* out = static_cast<T*>(dx.raw());

  if (layout == Layout::contiguous) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        T* plane = out + (n * C + c) * H * W;
        const T* src = in + (n * O + c + front) * Ho * Wo;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            plane[h * W + w] = (h % s == 0 && w % s == 0) ? src[(h / s) * Wo + w / s] : T{0};
      }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        T* pixel = out + ((n * H + h) * W + w) * C;
        if (h % s == 0 && w % s == 0) {
          const T* src = in + ((n * Ho + h / s) * Wo + w / s) * O + front;
          std::copy(src, src + C, pixel);
        } else {
          std::fill(pixel, pixel + C, T{0});
        }
      }
}

}  // namespace

void shortcut_a_forward(const Tensor& x, int64_t stride, Tensor& y) {
  constexpr const char* op = "cpu::shortcut_a_forward";
  check_same_dtype(op, {{&x, "x"}, {&y, "y"}});
  RESNET_CHECK(y.ndim() == 4) << op << ": y must be [N, O, Ho, Wo], got " << y.shape();
  check_shape(y, shortcut_a_output_shape(x.shape(), y.size(1), stride), op, "y");
  const Layout layout = common_layout(op, {&x, &y});
  if (x.dtype() == DType::bf16)
    forward_loops<uint16_t>(x, stride, layout, y);
  else
    forward_loops<float>(x, stride, layout, y);
}

void shortcut_a_backward(const Tensor& dy, int64_t stride, Tensor& dx) {
  constexpr const char* op = "cpu::shortcut_a_backward";
  check_same_dtype(op, {{&dy, "dy"}, {&dx, "dx"}});
  RESNET_CHECK(dy.ndim() == 4) << op << ": dy must be [N, O, Ho, Wo], got " << dy.shape();
  check_shape(dy, shortcut_a_output_shape(dx.shape(), dy.size(1), stride), op, "dy");
  const Layout layout = common_layout(op, {&dx, &dy});
  if (dx.dtype() == DType::bf16)
    backward_loops<uint16_t>(dy, stride, layout, dx);
  else
    backward_loops<float>(dy, stride, layout, dx);
}

}  // namespace resnet::ops::cpu
