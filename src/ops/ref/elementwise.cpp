// Reference ReLU and residual sum, element by element through the strides (any layout).
#include "resnet/ops/elementwise.h"

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

// Calls f(flat logical index) for every element; element access goes through get_flat/set_flat's
// stride arithmetic, so inputs and outputs may differ in layout and may alias.
template <class F>
void for_each_index(const Tensor& t, F f) {
  for (int64_t i = 0; i < t.numel(); ++i) f(i);
}

}  // namespace

void relu_forward(const Tensor& x, Tensor& y) {
  const char* op = "ref::relu_forward";
  is_f64(op, x);
  check_same(op, "y", y, x, x.shape());
  // PyTorch's relu keeps NaN (NaN is not <= 0), so a NaN activation stays visible downstream.
  for_each_index(x, [&](int64_t i) {
    const double v = x.get_flat(i);
    y.set_flat(i, v <= 0 ? 0.0 : v);
  });
}

void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  const char* op = "ref::relu_backward";
  is_f64(op, y);
  check_same(op, "dy", dy, y, y.shape());
  check_same(op, "dx", dx, y, y.shape());
  // threshold_backward: dx = (y <= 0) ? 0 : dy, which passes dy through where y is NaN, as PyTorch does.
  for_each_index(y, [&](int64_t i) { dx.set_flat(i, y.get_flat(i) <= 0 ? 0.0 : dy.get_flat(i)); });
}

void add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  const char* op = "ref::add_forward";
  is_f64(op, a);
  check_same(op, "b", b, a, a.shape());
  check_same(op, "y", y, a, a.shape());
  // get_flat/set_flat round-trip through double exactly for f32 and f64, so the sum is rounded once.
  for_each_index(a, [&](int64_t i) { y.set_flat(i, a.get_flat(i) + b.get_flat(i)); });
}

void add_backward(const Tensor& dy, Tensor* da, Tensor* db) {
  const char* op = "ref::add_backward";
  is_f64(op, dy);
  for (Tensor* d : {da, db}) {
    if (!d) continue;
    check_same(op, "gradient", *d, dy, dy.shape());
    for_each_index(dy, [&](int64_t i) { d->set_flat(i, dy.get_flat(i)); });
  }
}

void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  const char* op = "ref::add_relu_forward";
  is_f64(op, a);
  check_same(op, "b", b, a, a.shape());
  check_same(op, "y", y, a, a.shape());
  // The sum is rounded to the tensor's type before the ReLU, exactly as add then relu would.
  const bool f64 = a.dtype() == DType::f64;
  for_each_index(a, [&](int64_t i) {
    const double sum = a.get_flat(i) + b.get_flat(i);
    const double v = f64 ? sum : static_cast<double>(static_cast<float>(sum));
    y.set_flat(i, v <= 0 ? 0.0 : v);
  });
}

}  // namespace resnet::ops::ref
