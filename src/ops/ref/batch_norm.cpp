// Reference batch normalisation: per-channel statistics in double, two passes (mean, then variance).
#include "resnet/ops/batch_norm.h"

#include <cmath>
#include <utility>
#include <vector>

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

void check_affine(const char* op, const Tensor& x, const Tensor* weight, const Tensor* bias) {
  RESNET_CHECK(x.ndim() == 4) << op << ": x must be [N, C, H, W], got " << x.shape();
  const Shape c{x.size(1)};
  if (weight) check_same(op, "weight", *weight, x, c);
  if (bias) check_same(op, "bias", *bias, x, c);
}

// Σ over (n, h, w) of f(n, h, w) for channel c.
template <class F>
double channel_sum(const Tensor& x, int64_t c, F f) {
  double s = 0;
  for (int64_t n = 0; n < x.size(0); ++n)
    for (int64_t h = 0; h < x.size(2); ++h)
      for (int64_t w = 0; w < x.size(3); ++w) s += f(n, c, h, w);
  return s;
}

template <class T>
double scale_of(const Tensor* weight, int64_t c) {
  return weight ? static_cast<double>(View1<T>(*weight)(c)) : 1.0;
}
template <class T>
double shift_of(const Tensor* bias, int64_t c) {
  return bias ? static_cast<double>(View1<T>(*bias)(c)) : 0.0;
}

// y = (x - mean) / sqrt(var + eps) · scale + shift, channel by channel.
template <class T, class Stats>
void normalise(const Tensor& xt, const Tensor* weight, const Tensor* bias, double eps, Stats stats,
               const Tensor& yt) {
  const View4<T> x(xt), y(yt);
  for (int64_t c = 0; c < xt.size(1); ++c) {
    const auto [mean, var] = stats(c);
    const double invstd = 1.0 / std::sqrt(var + eps);
    const double a = scale_of<T>(weight, c), b = shift_of<T>(bias, c);
    for (int64_t n = 0; n < xt.size(0); ++n)
      for (int64_t h = 0; h < xt.size(2); ++h)
        for (int64_t w = 0; w < xt.size(3); ++w)
          y(n, c, h, w) = static_cast<T>((static_cast<double>(x(n, c, h, w)) - mean) * invstd * a + b);
  }
}

template <class T>
void forward_training(const Tensor& xt, const Tensor* weight, const Tensor* bias, const Tensor& running_mean,
                      const Tensor& running_var, const BatchNormParams& p, const Tensor& yt,
                      const Tensor& save_mean, const Tensor& save_var) {
  const View4<T> x(xt);
  const double m = static_cast<double>(xt.size(0) * xt.size(2) * xt.size(3));
  const View1<T> sm(save_mean), sv(save_var), rm(running_mean), rv(running_var);
  std::vector<std::pair<double, double>> stats(static_cast<size_t>(xt.size(1)));
  for (int64_t c = 0; c < xt.size(1); ++c) {
    const double mean =
        channel_sum(xt, c, [&](auto n, auto ch, auto h, auto w) { return double(x(n, ch, h, w)); }) / m;
    const double var = channel_sum(xt, c,
                                   [&](auto n, auto ch, auto h, auto w) {
                                     const double d = double(x(n, ch, h, w)) - mean;
                                     return d * d;
                                   }) /
                       m;
    stats[c] = {mean, var};
    sm(c) = static_cast<T>(mean);
    sv(c) = static_cast<T>(var);
    const double unbiased = var * m / (m - 1);
    rm(c) = static_cast<T>((1 - p.momentum) * double(rm(c)) + p.momentum * mean);
    rv(c) = static_cast<T>((1 - p.momentum) * double(rv(c)) + p.momentum * unbiased);
  }
  // Normalise with the double statistics, not the ones rounded into save_mean/save_var: in f32 a rounded
  // mean of a large-mean, small-variance channel would cost the oracle digits.
  normalise<T>(
      xt, weight, bias, p.eps, [&](int64_t c) { return stats[c]; }, yt);
}

template <class T>
void forward_inference(const Tensor& xt, const Tensor* weight, const Tensor* bias, const Tensor& running_mean,
                       const Tensor& running_var, const BatchNormParams& p, const Tensor& yt) {
  const View1<T> rm(running_mean), rv(running_var);
  normalise<T>(
      xt, weight, bias, p.eps, [&](int64_t c) { return std::pair<double, double>(rm(c), rv(c)); }, yt);
}

// Backward for both modes. Training: the statistics depend on x, giving the two extra mean terms;
// inference: they are constants.
template <class T>
void backward(const Tensor& dyt, const Tensor& xt, const Tensor* weight, const Tensor& mean_t,
              const Tensor& var_t, double eps, bool training, Tensor* dxt, Tensor* dweight, Tensor* dbias) {
  const View4<T> dy(dyt), x(xt);
  const View1<T> mean_v(mean_t), var_v(var_t);
  const double m = static_cast<double>(xt.size(0) * xt.size(2) * xt.size(3));
  for (int64_t c = 0; c < xt.size(1); ++c) {
    const double mean = mean_v(c), invstd = 1.0 / std::sqrt(double(var_v(c)) + eps);
    const double sum_dy =
        channel_sum(xt, c, [&](auto n, auto ch, auto h, auto w) { return double(dy(n, ch, h, w)); });
    const double sum_dy_xhat = channel_sum(xt, c, [&](auto n, auto ch, auto h, auto w) {
      return double(dy(n, ch, h, w)) * (double(x(n, ch, h, w)) - mean) * invstd;
    });
    if (dweight) View1<T>{*dweight}(c) = static_cast<T>(sum_dy_xhat);
    if (dbias) View1<T>{*dbias}(c) = static_cast<T>(sum_dy);
    if (!dxt) continue;
    const View4<T> dx(*dxt);
    const double a = scale_of<T>(weight, c);
    for (int64_t n = 0; n < xt.size(0); ++n)
      for (int64_t h = 0; h < xt.size(2); ++h)
        for (int64_t w = 0; w < xt.size(3); ++w) {
          const double g = dy(n, c, h, w);
          const double xhat = (double(x(n, c, h, w)) - mean) * invstd;
          const double d = training ? a * invstd * (g - sum_dy / m - xhat * sum_dy_xhat / m) : a * invstd * g;
          dx(n, c, h, w) = static_cast<T>(d);
        }
  }
}

void check_backward(const char* op, const Tensor& dy, const Tensor& x, const Tensor* weight,
                    const Tensor& mean, const Tensor& var, Tensor* dx, Tensor* dweight, Tensor* dbias) {
  check_affine(op, x, weight, nullptr);
  check_same(op, "dy", dy, x, x.shape());
  check_same(op, "mean", mean, x, Shape{x.size(1)});
  check_same(op, "var", var, x, Shape{x.size(1)});
  if (dx) check_same(op, "dx", *dx, x, x.shape());
  RESNET_CHECK(weight || (!dweight && !dbias)) << op << ": dweight/dbias requested without affine parameters";
  if (dweight) check_same(op, "dweight", *dweight, x, Shape{x.size(1)});
  if (dbias) check_same(op, "dbias", *dbias, x, Shape{x.size(1)});
}

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                 Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                 Tensor& y, Tensor& save_mean, Tensor& save_var) {
  const char* op = "ref::batch_norm_forward_training";
  check_affine(op, x, weight, bias);
  const Shape c{x.size(1)};
  check_same(op, "running_mean", running_mean, x, c);
  check_same(op, "running_var", running_var, x, c);
  check_same(op, "save_mean", save_mean, x, c);
  check_same(op, "save_var", save_var, x, c);
  check_same(op, "y", y, x, x.shape());
  RESNET_CHECK(x.size(0) * x.size(2) * x.size(3) > 1)
      << op << ": training needs more than one value per channel, got x " << x.shape();
  RESNET_REF_DISPATCH(
      op, x, forward_training<T>(x, weight, bias, running_mean, running_var, p, y, save_mean, save_var));
}

void batch_norm_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                  const Tensor& save_mean, const Tensor& save_var, const BatchNormParams& p,
                                  Tensor* dx, Tensor* dweight, Tensor* dbias) {
  const char* op = "ref::batch_norm_backward_training";
  check_backward(op, dy, x, weight, save_mean, save_var, dx, dweight, dbias);
  RESNET_REF_DISPATCH(op, x,
                      backward<T>(dy, x, weight, save_mean, save_var, p.eps, true, dx, dweight, dbias));
}

void batch_norm_forward_inference(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  const BatchNormParams& p, Tensor& y) {
  const char* op = "ref::batch_norm_forward_inference";
  check_affine(op, x, weight, bias);
  check_same(op, "running_mean", running_mean, x, Shape{x.size(1)});
  check_same(op, "running_var", running_var, x, Shape{x.size(1)});
  check_same(op, "y", y, x, x.shape());
  RESNET_REF_DISPATCH(op, x, forward_inference<T>(x, weight, bias, running_mean, running_var, p, y));
}

void batch_norm_backward_inference(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormParams& p, Tensor* dx, Tensor* dweight, Tensor* dbias) {
  const char* op = "ref::batch_norm_backward_inference";
  check_backward(op, dy, x, weight, running_mean, running_var, dx, dweight, dbias);
  RESNET_REF_DISPATCH(
      op, x, backward<T>(dy, x, weight, running_mean, running_var, p.eps, false, dx, dweight, dbias));
}

// The fused pair is, by definition, the two ops in a row: the mask holds one byte per element in logical
// order, 1 where the ReLU passes its gradient.
void batch_norm_relu_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                      Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                      Tensor& y, Tensor& save_mean, Tensor& save_var, Tensor& relu_mask) {
  ensure(relu_mask, Shape{x.numel()}, DType::u8);
  batch_norm_forward_training(x, weight, bias, running_mean, running_var, p, y, save_mean, save_var);
  uint8_t* mask = relu_mask.data<uint8_t>();
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double v = y.get_flat(i);
    mask[i] = v <= 0 ? 0 : 1;  // NaN passes, as in relu_backward
    y.set_flat(i, v <= 0 ? 0.0 : v);
  }
}

void batch_norm_relu_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                       const Tensor& save_mean, const Tensor& save_var,
                                       const Tensor& relu_mask, const BatchNormParams& p, Tensor* dx,
                                       Tensor* dweight, Tensor* dbias) {
  const char* op = "ref::batch_norm_relu_backward_training";
  RESNET_CHECK(relu_mask.dtype() == DType::u8 && relu_mask.is_contiguous() && relu_mask.numel() >= dy.numel())
      << op << ": relu_mask must be the contiguous u8 tensor the fused forward wrote, got "
      << relu_mask.str();
  Tensor masked = Tensor::empty(dy.shape(), dy.dtype());
  const uint8_t* mask = relu_mask.data<uint8_t>();
  for (int64_t i = 0; i < dy.numel(); ++i) masked.set_flat(i, mask[i] ? dy.get_flat(i) : 0.0);
  batch_norm_backward_training(masked, x, weight, save_mean, save_var, p, dx, dweight, dbias);
}

}  // namespace resnet::ops::ref
