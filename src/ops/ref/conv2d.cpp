// Reference 2-D convolution: the definition as nested loops, accumulated in double.
#include <vector>

#include "resnet/ops/conv2d.h"

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

// Input coordinate of output position `o` and tap `k` along one axis, or -1 when it falls in the padding.
inline int64_t input_index(int64_t o, int64_t k, int64_t size, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t i = o * stride - pad + k * dil;
  return (i >= 0 && i < size) ? i : -1;
}

template <class T>
void forward(const Tensor& xt, const Tensor& wt, const Tensor* bt, const Conv2dParams& p, const Tensor& yt) {
  const View4<T> x(xt), w(wt), y(yt);
  const int64_t N = xt.size(0), C = xt.size(1), H = xt.size(2), W = xt.size(3);
  const int64_t O = wt.size(0), Cg = wt.size(1), KH = wt.size(2), KW = wt.size(3);
  const int64_t Og = O / p.groups, OH = yt.size(2), OW = yt.size(3);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      const int64_t g = o / Og;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bt ? static_cast<double>(View1<T>(*bt)(o)) : 0.0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t ih = input_index(oh, kh, H, p.stride[0], p.padding[0], p.dilation[0]);
              if (ih < 0) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t iw = input_index(ow, kw, W, p.stride[1], p.padding[1], p.dilation[1]);
                if (iw < 0) continue;
                acc += static_cast<double>(x(n, g * Cg + c, ih, iw)) * static_cast<double>(w(o, c, kh, kw));
              }
            }
          y(n, o, oh, ow) = static_cast<T>(acc);
        }
    }
  (void)C;
}

template <class T>
void backward(const Tensor& dyt, const Tensor& xt, const Tensor& wt, const Conv2dParams& p, Tensor* dxt,
              Tensor* dwt, Tensor* dbt) {
  const View4<T> dy(dyt), x(xt), w(wt);
  const int64_t N = xt.size(0), C = xt.size(1), H = xt.size(2), W = xt.size(3);
  const int64_t O = wt.size(0), Cg = wt.size(1), KH = wt.size(2), KW = wt.size(3);
  const int64_t Og = O / p.groups, OH = dyt.size(2), OW = dyt.size(3);
  if (dxt) {
    // dx[n, c, ih, iw] = Σ over (o in c's group, kh, kw) whose tap lands on (ih, iw) of dy · w.
    const View4<T> dx(*dxt);
    std::vector<double> acc(static_cast<size_t>(N * C * H * W), 0.0);
    auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w_) -> double& {
      return acc[((n * C + c) * H + h) * W + w_];
    };
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) {
        const int64_t g = o / Og;
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const double d = static_cast<double>(dy(n, o, oh, ow));
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t kh = 0; kh < KH; ++kh) {
                const int64_t ih = input_index(oh, kh, H, p.stride[0], p.padding[0], p.dilation[0]);
                if (ih < 0) continue;
                for (int64_t kw = 0; kw < KW; ++kw) {
                  const int64_t iw = input_index(ow, kw, W, p.stride[1], p.padding[1], p.dilation[1]);
                  if (iw < 0) continue;
                  at(n, g * Cg + c, ih, iw) += d * static_cast<double>(w(o, c, kh, kw));
                }
              }
          }
      }
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w_ = 0; w_ < W; ++w_) dx(n, c, h, w_) = static_cast<T>(at(n, c, h, w_));
  }
  if (dwt) {
    const View4<T> dw(*dwt);
    for (int64_t o = 0; o < O; ++o) {
      const int64_t g = o / Og;
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            double acc = 0;
            for (int64_t n = 0; n < N; ++n)
              for (int64_t oh = 0; oh < OH; ++oh) {
                const int64_t ih = input_index(oh, kh, H, p.stride[0], p.padding[0], p.dilation[0]);
                if (ih < 0) continue;
                for (int64_t ow = 0; ow < OW; ++ow) {
                  const int64_t iw = input_index(ow, kw, W, p.stride[1], p.padding[1], p.dilation[1]);
                  if (iw < 0) continue;
                  acc +=
                      static_cast<double>(dy(n, o, oh, ow)) * static_cast<double>(x(n, g * Cg + c, ih, iw));
                }
              }
            dw(o, c, kh, kw) = static_cast<T>(acc);
          }
    }
  }
  if (dbt) {
    const View1<T> db(*dbt);
    for (int64_t o = 0; o < O; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) acc += static_cast<double>(dy(n, o, oh, ow));
      db(o) = static_cast<T>(acc);
    }
  }
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                    Tensor& y) {
  const char* op = "ref::conv2d_forward";
  const Shape ys = conv2d_output_shape(x.shape(), weight.shape(), p);
  check_same(op, "weight", weight, x, weight.shape());
  check_same(op, "y", y, x, ys);
  if (bias) check_same(op, "bias", *bias, x, Shape{weight.size(0)});
  RESNET_REF_DISPATCH(op, x, forward<T>(x, weight, bias, p, y));
}

void conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                     Tensor* dx, Tensor* dweight, Tensor* dbias) {
  const char* op = "ref::conv2d_backward";
  const Shape ys = conv2d_output_shape(x.shape(), weight.shape(), p);
  check_same(op, "dy", dy, x, ys);
  check_same(op, "weight", weight, x, weight.shape());
  if (dx) check_same(op, "dx", *dx, x, x.shape());
  if (dweight) check_same(op, "dweight", *dweight, x, weight.shape());
  if (dbias) check_same(op, "dbias", *dbias, x, Shape{weight.size(0)});
  RESNET_REF_DISPATCH(op, x, backward<T>(dy, x, weight, p, dx, dweight, dbias));
}

}  // namespace resnet::ops::ref
