// Reference fully connected layer and flatten.
#include "resnet/ops/linear.h"

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

template <class T>
void forward(const Tensor& xt, const Tensor& wt, const Tensor* bt, const Tensor& yt) {
  const View2<T> x(xt), w(wt), y(yt);
  for (int64_t n = 0; n < xt.size(0); ++n)
    for (int64_t o = 0; o < wt.size(0); ++o) {
      double acc = bt ? static_cast<double>(View1<T>(*bt)(o)) : 0.0;
      for (int64_t i = 0; i < wt.size(1); ++i)
        acc += static_cast<double>(x(n, i)) * static_cast<double>(w(o, i));
      y(n, o) = static_cast<T>(acc);
    }
}

template <class T>
void backward(const Tensor& dyt, const Tensor& xt, const Tensor& wt, Tensor* dxt, Tensor* dwt, Tensor* dbt) {
  const View2<T> dy(dyt), x(xt), w(wt);
  const int64_t N = xt.size(0), I = wt.size(1), O = wt.size(0);
  if (dxt) {
    const View2<T> dx(*dxt);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < I; ++i) {
        double acc = 0;
        for (int64_t o = 0; o < O; ++o) acc += static_cast<double>(dy(n, o)) * static_cast<double>(w(o, i));
        dx(n, i) = static_cast<T>(acc);
      }
  }
  if (dwt) {
    const View2<T> dw(*dwt);
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < I; ++i) {
        double acc = 0;
        for (int64_t n = 0; n < N; ++n) acc += static_cast<double>(dy(n, o)) * static_cast<double>(x(n, i));
        dw(o, i) = static_cast<T>(acc);
      }
  }
  if (dbt) {
    const View1<T> db(*dbt);
    for (int64_t o = 0; o < O; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) acc += static_cast<double>(dy(n, o));
      db(o) = static_cast<T>(acc);
    }
  }
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  const char* op = "ref::linear_forward";
  RESNET_CHECK(x.ndim() == 2 && weight.ndim() == 2 && x.size(1) == weight.size(1))
      << op << ": x " << x.shape() << " and weight " << weight.shape() << " do not fit [N, in] · [out, in]ᵀ";
  check_same(op, "weight", weight, x, weight.shape());
  if (bias) check_same(op, "bias", *bias, x, Shape{weight.size(0)});
  check_same(op, "y", y, x, Shape{x.size(0), weight.size(0)});
  RESNET_REF_DISPATCH(op, x, forward<T>(x, weight, bias, y));
}

void linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, Tensor* dx, Tensor* dweight,
                     Tensor* dbias) {
  const char* op = "ref::linear_backward";
  RESNET_CHECK(x.ndim() == 2 && weight.ndim() == 2 && x.size(1) == weight.size(1))
      << op << ": x " << x.shape() << " and weight " << weight.shape() << " do not fit [N, in] · [out, in]ᵀ";
  check_same(op, "weight", weight, x, weight.shape());
  check_same(op, "dy", dy, x, Shape{x.size(0), weight.size(0)});
  if (dx) check_same(op, "dx", *dx, x, x.shape());
  if (dweight) check_same(op, "dweight", *dweight, x, weight.shape());
  if (dbias) check_same(op, "dbias", *dbias, x, Shape{weight.size(0)});
  RESNET_REF_DISPATCH(op, x, backward<T>(dy, x, weight, dx, dweight, dbias));
}

void flatten_forward(const Tensor& x, Tensor& y) {
  const char* op = "ref::flatten_forward";
  is_f64(op, x);
  RESNET_CHECK(x.ndim() == 4) << op << ": x must be [N, C, H, W], got " << x.shape();
  check_same(op, "y", y, x, Shape{x.size(0), x.size(1) * x.size(2) * x.size(3)});
  // Flat logical index order is (n, c, h, w): exactly PyTorch's flatten order.
  for (int64_t i = 0; i < x.numel(); ++i) y.set_flat(i, x.get_flat(i));
}

void flatten_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "ref::flatten_backward";
  is_f64(op, dx);
  RESNET_CHECK(dx.ndim() == 4) << op << ": dx must be [N, C, H, W], got " << dx.shape();
  check_same(op, "dy", dy, dx, Shape{dx.size(0), dx.size(1) * dx.size(2) * dx.size(3)});
  for (int64_t i = 0; i < dx.numel(); ++i) dx.set_flat(i, dy.get_flat(i));
}

}  // namespace resnet::ops::ref
