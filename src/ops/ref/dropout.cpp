// Reference dropout: the mask of element i is counter_uniform(seed, i) >= p (header contract).
#include "resnet/ops/dropout.h"

#include "ops/ref/common.h"
#include "resnet/core/rng.h"

namespace resnet::ops::ref {

void dropout_forward(const Tensor& x, double p, uint64_t seed, Tensor& y, Tensor& mask) {
  const char* op = "ref::dropout_forward";
  is_f64(op, x);
  RESNET_CHECK(p >= 0 && p < 1) << op << ": p = " << p << " outside [0, 1)";
  check_same(op, "y", y, x, x.shape());
  RESNET_CHECK(mask.dtype() == DType::u8 && mask.shape() == x.shape())
      << op << ": mask must be u8 " << x.shape() << ", got " << mask.str();
  const double scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool keep = counter_uniform(seed, static_cast<uint64_t>(i)) >= p;
    mask.set_flat(i, keep ? 1 : 0);
    y.set_flat(i, keep ? x.get_flat(i) * scale : 0.0);
  }
}

void dropout_backward(const Tensor& dy, const Tensor& mask, double p, Tensor& dx) {
  const char* op = "ref::dropout_backward";
  is_f64(op, dy);
  RESNET_CHECK(p >= 0 && p < 1) << op << ": p = " << p << " outside [0, 1)";
  check_same(op, "dx", dx, dy, dy.shape());
  RESNET_CHECK(mask.dtype() == DType::u8 && mask.shape() == dy.shape())
      << op << ": mask must be u8 " << dy.shape() << ", got " << mask.str();
  const double scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < dy.numel(); ++i)
    dx.set_flat(i, mask.get_flat(i) != 0 ? dy.get_flat(i) * scale : 0.0);
}

}  // namespace resnet::ops::ref
