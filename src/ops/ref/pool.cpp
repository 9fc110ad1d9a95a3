// Reference pooling: windows walked tap by tap, padding handled explicitly.
#include "resnet/ops/pool.h"

#include <cmath>
#include <limits>
#include <vector>

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

template <class T>
void max_forward(const Tensor& xt, const Pool2dParams& p, const Tensor& yt, const Tensor& ws) {
  const View4<T> x(xt), y(yt);
  int64_t* argmax = ws.data<int64_t>();  // flat logical (NCHW) index of the winning input element
  const int64_t N = xt.size(0), C = xt.size(1), H = xt.size(2), W = xt.size(3), OH = yt.size(2),
                OW = yt.size(3);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double best = -std::numeric_limits<double>::infinity();
          int64_t best_index = -1;
          for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
            for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
              const int64_t ih = oh * p.stride[0] - p.padding[0] + kh,
                            iw = ow * p.stride[1] - p.padding[1] + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const double v = x(n, c, ih, iw);
              // Strictly greater keeps the first maximum on ties; NaN wins, as in PyTorch's kernel.
              if (best_index < 0 || v > best || std::isnan(v))
                best = v, best_index = ((n * C + c) * H + ih) * W + iw;
            }
          RESNET_CHECK(best_index >= 0)
              << "ref::max_pool2d_forward: window (" << oh << ", " << ow << ") lies entirely in the padding";
          y(n, c, oh, ow) = static_cast<T>(best);
          argmax[((n * C + c) * OH + oh) * OW + ow] = best_index;
        }
}

template <class T>
void max_backward(const Tensor& dyt, const Tensor& ws, const Tensor& dxt) {
  const View4<T> dy(dyt), dx(dxt);
  const int64_t* argmax = ws.data<int64_t>();
  const int64_t N = dxt.size(0), C = dxt.size(1), H = dxt.size(2), W = dxt.size(3);
  const int64_t OH = dyt.size(2), OW = dyt.size(3);
  std::vector<double> acc(static_cast<size_t>(dxt.numel()), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t i = argmax[((n * C + c) * OH + oh) * OW + ow];
          // A winner outside this (n, c) plane means the workspace came from another forward call.
          RESNET_CHECK(i >= (n * C + c) * H * W && i < (n * C + c + 1) * H * W)
              << "ref::max_pool2d_backward: workspace index " << i << " does not belong to dx "
              << dxt.shape();
          acc[i] += dy(n, c, oh, ow);
        }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) dx(n, c, h, w) = static_cast<T>(acc[((n * C + c) * H + h) * W + w]);
}

// Number of taps an average divides by at output (oh, ow).
int64_t divisor(const Pool2dParams& p, int64_t oh, int64_t ow, int64_t H, int64_t W) {
  if (p.count_include_pad) return p.kernel[0] * p.kernel[1];
  int64_t count = 0;
  for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
    for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
      const int64_t ih = oh * p.stride[0] - p.padding[0] + kh, iw = ow * p.stride[1] - p.padding[1] + kw;
      count += ih >= 0 && ih < H && iw >= 0 && iw < W;
    }
  return count;
}

template <class T>
void avg_forward(const Tensor& xt, const Pool2dParams& p, const Tensor& yt) {
  const View4<T> x(xt), y(yt);
  const int64_t H = xt.size(2), W = xt.size(3);
  for (int64_t n = 0; n < xt.size(0); ++n)
    for (int64_t c = 0; c < xt.size(1); ++c)
      for (int64_t oh = 0; oh < yt.size(2); ++oh)
        for (int64_t ow = 0; ow < yt.size(3); ++ow) {
          double sum = 0;
          for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
            for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
              const int64_t ih = oh * p.stride[0] - p.padding[0] + kh,
                            iw = ow * p.stride[1] - p.padding[1] + kw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) sum += x(n, c, ih, iw);
            }
          y(n, c, oh, ow) = static_cast<T>(sum / static_cast<double>(divisor(p, oh, ow, H, W)));
        }
}

template <class T>
void avg_backward(const Tensor& dyt, const Pool2dParams& p, const Tensor& dxt) {
  const View4<T> dy(dyt), dx(dxt);
  const int64_t N = dxt.size(0), C = dxt.size(1), H = dxt.size(2), W = dxt.size(3);
  std::vector<double> acc(static_cast<size_t>(dxt.numel()), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < dyt.size(2); ++oh)
        for (int64_t ow = 0; ow < dyt.size(3); ++ow) {
          const double g =
              static_cast<double>(dy(n, c, oh, ow)) / static_cast<double>(divisor(p, oh, ow, H, W));
          for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
            for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
              const int64_t ih = oh * p.stride[0] - p.padding[0] + kh,
                            iw = ow * p.stride[1] - p.padding[1] + kw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) acc[((n * C + c) * H + ih) * W + iw] += g;
            }
        }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) dx(n, c, h, w) = static_cast<T>(acc[((n * C + c) * H + h) * W + w]);
}

template <class T>
void gap_forward(const Tensor& xt, const Tensor& yt) {
  const View4<T> x(xt);
  const View2<T> y(yt);
  const double hw = static_cast<double>(xt.size(2) * xt.size(3));
  for (int64_t n = 0; n < xt.size(0); ++n)
    for (int64_t c = 0; c < xt.size(1); ++c) {
      double sum = 0;
      for (int64_t h = 0; h < xt.size(2); ++h)
        for (int64_t w = 0; w < xt.size(3); ++w) sum += x(n, c, h, w);
      y(n, c) = static_cast<T>(sum / hw);
    }
}

template <class T>
void gap_backward(const Tensor& dyt, const Tensor& dxt) {
  const View2<T> dy(dyt);
  const View4<T> dx(dxt);
  const double hw = static_cast<double>(dxt.size(2) * dxt.size(3));
  for (int64_t n = 0; n < dxt.size(0); ++n)
    for (int64_t c = 0; c < dxt.size(1); ++c)
      for (int64_t h = 0; h < dxt.size(2); ++h)
        for (int64_t w = 0; w < dxt.size(3); ++w) dx(n, c, h, w) = static_cast<T>(double(dy(n, c)) / hw);
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y, Tensor& workspace) {
  const char* op = "ref::max_pool2d_forward";
  check_same(op, "y", y, x, pool2d_output_shape(x.shape(), p));
  ensure(workspace, y.shape(), DType::i64);
  RESNET_REF_DISPATCH(op, x, max_forward<T>(x, p, y, workspace));
}

void max_pool2d_backward(const Tensor& dy, const Tensor& workspace, const Pool2dParams& p, Tensor& dx) {
  const char* op = "ref::max_pool2d_backward";
  check_same(op, "dy", dy, dx, pool2d_output_shape(dx.shape(), p));
  RESNET_CHECK(workspace.defined() && workspace.dtype() == DType::i64 && workspace.shape() == dy.shape())
      << op << ": workspace " << workspace.str()
      << " does not come from ref::max_pool2d_forward with dy's shape";
  RESNET_REF_DISPATCH(op, dx, max_backward<T>(dy, workspace, dx));
}

void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y) {
  const char* op = "ref::avg_pool2d_forward";
  check_same(op, "y", y, x, pool2d_output_shape(x.shape(), p));
  RESNET_REF_DISPATCH(op, x, avg_forward<T>(x, p, y));
}

void avg_pool2d_backward(const Tensor& dy, const Pool2dParams& p, Tensor& dx) {
  const char* op = "ref::avg_pool2d_backward";
  check_same(op, "dy", dy, dx, pool2d_output_shape(dx.shape(), p));
  RESNET_REF_DISPATCH(op, dx, avg_backward<T>(dy, p, dx));
}

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  const char* op = "ref::global_avg_pool_forward";
  RESNET_CHECK(x.ndim() == 4) << op << ": x must be [N, C, H, W], got " << x.shape();
  check_same(op, "y", y, x, Shape{x.size(0), x.size(1)});
  RESNET_REF_DISPATCH(op, x, gap_forward<T>(x, y));
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "ref::global_avg_pool_backward";
  RESNET_CHECK(dx.ndim() == 4) << op << ": dx must be [N, C, H, W], got " << dx.shape();
  check_same(op, "dy", dy, dx, Shape{dx.size(0), dx.size(1)});
  RESNET_REF_DISPATCH(op, dx, gap_backward<T>(dy, dx));
}

}  // namespace resnet::ops::ref
