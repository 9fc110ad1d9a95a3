// Reference option-A shortcut: subsample, zero channels on both sides.
#include "resnet/ops/shortcut.h"

#include "ops/ref/common.h"

namespace resnet::ops::ref {

void shortcut_a_forward(const Tensor& x, int64_t stride, Tensor& y) {
  const char* op = "ref::shortcut_a_forward";
  is_f64(op, x);
  RESNET_CHECK(y.ndim() == 4) << op << ": y must be [N, O, H', W'], got " << y.shape();
  check_same(op, "y", y, x, shortcut_a_output_shape(x.shape(), y.size(1), stride));
  const int64_t front = (y.size(1) - x.size(1)) / 2;
  for (int64_t n = 0; n < y.size(0); ++n)
    for (int64_t k = 0; k < y.size(1); ++k)
      for (int64_t h = 0; h < y.size(2); ++h)
        for (int64_t w = 0; w < y.size(3); ++w) {
          const int64_t c = k - front;
          // get_flat takes the flat logical (NCHW) index, so any layout works.
          const double v =
              (c >= 0 && c < x.size(1))
                  ? x.get_flat(((n * x.size(1) + c) * x.size(2) + h * stride) * x.size(3) + w * stride)
                  : 0.0;
          y.set_flat(((n * y.size(1) + k) * y.size(2) + h) * y.size(3) + w, v);
        }
}

void shortcut_a_backward(const Tensor& dy, int64_t stride, Tensor& dx) {
  const char* op = "ref::shortcut_a_backward";
  is_f64(op, dx);
  RESNET_CHECK(dy.ndim() == 4) << op << ": dy must be [N, O, H', W'], got " << dy.shape();
  check_same(op, "dy", dy, dx, shortcut_a_output_shape(dx.shape(), dy.size(1), stride));
  const int64_t front = (dy.size(1) - dx.size(1)) / 2;
  for (int64_t n = 0; n < dx.size(0); ++n)
    for (int64_t c = 0; c < dx.size(1); ++c)
      for (int64_t h = 0; h < dx.size(2); ++h)
        for (int64_t w = 0; w < dx.size(3); ++w) {
          const bool sampled = h % stride == 0 && w % stride == 0;
          const double v =
              sampled ? dy.get_flat(((n * dy.size(1) + c + front) * dy.size(2) + h / stride) * dy.size(3) +
                                    w / stride)
                      : 0.0;
          dx.set_flat(((n * dx.size(1) + c) * dx.size(2) + h) * dx.size(3) + w, v);
        }
}

}  // namespace resnet::ops::ref
