// The cpu backend's ops on bf16 activations (what the cpu-bf16 op table runs between the stem and the
// pooling head), against the ref oracle in f32.
//
// Oracle: draw f32 inputs, round them to bf16 (so both sides see the same values), run the ref op on the
// rounded values in f32 and the cpu op on the bf16 tensors, and compare the cpu output (converted to f32)
// against the ref one. oneDNN computes in f32 inside and rounds each bf16 output once (nearest-even), so:
//  - ops that only move, select or zero values, or that perform one correctly rounded f32 operation
//    before the output is rounded (ReLU, a + b, max pooling, the option-A shortcut) are bit-identical to
//    the ref output rounded to bf16;
//  - every other bf16 output is within one bf16 rounding of the ref value: bf16 keeps 8 significant bits,
//    so rounding moves a value by ≤ 2^-8 of itself, ≤ 2^-8 ≈ 3.91e-3 of the largest |ref| element, plus
//    the f32 path's own summation error (≤ 5e-5 in cpu_vs_ref): kBf16Output = 4e-3;
//  - f32 outputs computed from bf16 inputs (batch-norm statistics and parameter gradients, the pooled
//    head, convolution weight gradients) have the f32 path's tolerances.
// A path that wrote f32 into the bf16 buffer, or read bf16 as f32, gives garbage far beyond these bars.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "resnet/ops/backend.h"
#include "test_util.h"

using namespace resnet;
using resnet::testing::max_rel_error;

namespace {

constexpr double kExact = 0.0;
constexpr double kBf16Output = 4e-3;
// The f32 outputs' bars, as in test_cpu_vs_ref.cpp: reductions in f32 against ref's double.
constexpr double kConv = 1e-5;
constexpr double kBatchNormStatistics = 1e-5;
constexpr double kBatchNormParameterGradients = 5e-5;
constexpr double kShortSum = 2e-6;

constexpr Layout kLayouts[] = {Layout::contiguous, Layout::channels_last};

const ops::OpTable& ref_ops() {
  return ops::op_table(ops::Backend::ref);
}
const ops::OpTable& cpu_ops() {
  return ops::op_table(ops::Backend::cpu);
}

// f32 values exactly representable in bf16, uniform in [lo, hi).
Tensor rounded_random(const Shape& shape, Rng& rng, Layout layout = Layout::contiguous, double lo = -1.0,
                      double hi = 1.0) {
  return resnet::testing::random_tensor(shape, rng, DType::f32, layout, lo, hi)
      .to(DType::bf16)
      .to(DType::f32);
}

Tensor junk_f32(const Shape& shape, Layout layout = Layout::contiguous) {
  return Tensor::full(shape, NAN, DType::f32, layout);
}
Tensor junk_bf16(const Shape& shape, Layout layout = Layout::contiguous) {
  return Tensor::full(shape, NAN, DType::bf16, layout);
}

#define EXPECT_WITHIN(what, got, want, tol)                                                           \
  do {                                                                                                \
    const double err_ = max_rel_error((got), (want));                                                 \
    EXPECT_LE(err_, (tol)) << (what) << ": max |cpu - ref| / max |ref| = " << err_ << " > " << (tol); \
  } while (0)

bool skip_without_bf16(const char* what) {
  if (ops::bf16_supported()) return false;
  std::printf("[ bf16 activations ] %s NOT CHECKED: this CPU has no AVX-512\n", what);
  return true;
}

TEST(CpuBf16Activations, ReluAddAndAddReluAreTheRoundedF32Results) {
  if (skip_without_bf16("element-wise")) return;
  Rng rng(1);
  for (Layout layout : kLayouts) {
    const Shape shape{3, 5, 7, 6};
    const Tensor a = rounded_random(shape, rng, layout), b = rounded_random(shape, rng, layout);
    const Tensor dy = rounded_random(shape, rng, layout);
    const Tensor ab = a.to(DType::bf16), bb = b.to(DType::bf16), dyb = dy.to(DType::bf16);

    Tensor want = junk_f32(shape, layout), got = junk_bf16(shape, layout);
    ref_ops().relu_forward(a, want);
    cpu_ops().relu_forward(ab, got);
    EXPECT_WITHIN("relu y", got, want.to(DType::bf16), kExact);

    Tensor dwant = junk_f32(shape, layout), dgot = junk_bf16(shape, layout);
    ref_ops().relu_backward(dy, want, dwant);
    cpu_ops().relu_backward(dyb, got, dgot);
    EXPECT_WITHIN("relu dx", dgot, dwant.to(DType::bf16), kExact);

    ref_ops().add_forward(a, b, want);
    cpu_ops().add_forward(ab, bb, got);
    EXPECT_WITHIN("add y", got, want.to(DType::bf16), kExact);

    ref_ops().add_relu_forward(a, b, want);
    cpu_ops().add_relu_forward(ab, bb, got);
    EXPECT_WITHIN("add_relu y", got, want.to(DType::bf16), kExact);

    Tensor da = junk_bf16(shape, layout);
    cpu_ops().add_backward(dyb, &da, nullptr);
    EXPECT_WITHIN("add da", da, dyb, kExact);
  }
}

TEST(CpuBf16Activations, MixedTypesAreRefusedWithTheNamesOfBoth) {
  if (skip_without_bf16("mixed types")) return;
  const Tensor a = Tensor::zeros({2, 3, 4, 4}, DType::bf16), b = Tensor::zeros({2, 3, 4, 4});
  Tensor y = Tensor::zeros({2, 3, 4, 4}, DType::bf16);
  try {
    cpu_ops().add_forward(a, b, y);
    FAIL() << "an add of bf16 and f32 was accepted";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cpu::add_forward"), std::string::npos) << what;
    EXPECT_NE(what.find("b is f32 but a is bf16"), std::string::npos) << what;
  }
}

struct BatchNormCase {
  Shape x;
  bool affine;
};

TEST(CpuBf16Activations, BatchNormTrainingForwardAndBackwardStayWithinOneRounding) {
  if (skip_without_bf16("batch norm")) return;
  Rng rng(2);
  const BatchNormCase cases[] = {{{4, 16, 5, 5}, true}, {{2, 32, 7, 3}, true}, {{8, 8, 4, 4}, false}};
  const ops::BatchNormParams p;
  for (const BatchNormCase& c : cases)
    for (Layout layout : kLayouts)
      for (bool fused_relu : {false, true}) {
        SCOPED_TRACE(c.x.str() + (layout == Layout::contiguous ? " NCHW" : " NHWC") +
                     (fused_relu ? " +relu" : "") + (c.affine ? "" : " no affine"));
        const int64_t channels = c.x[1];
        const Tensor x = rounded_random(c.x, rng, layout, -2.0, 3.0);
        const Tensor dy = rounded_random(c.x, rng, layout);
        const Tensor w =
            resnet::testing::random_tensor({channels}, rng, DType::f32, Layout::contiguous, 0.5, 1.5);
        const Tensor b = resnet::testing::random_tensor({channels}, rng);
        const Tensor* weight = c.affine ? &w : nullptr;
        const Tensor* bias = c.affine ? &b : nullptr;

        Tensor rm_want = Tensor::zeros({channels}), rv_want = Tensor::full({channels}, 1.0);
        Tensor rm_got = rm_want.clone(), rv_got = rv_want.clone();
        Tensor mean_want = junk_f32({channels}), var_want = junk_f32({channels});
        Tensor mean_got = junk_f32({channels}), var_got = junk_f32({channels});
        Tensor y_want = junk_f32(c.x, layout), y_got = junk_bf16(c.x, layout);
        Tensor mask_want, mask_got;
        const Tensor xb = x.to(DType::bf16);
        if (fused_relu) {
          ref_ops().batch_norm_relu_forward_training(x, weight, bias, rm_want, rv_want, p, y_want, mean_want,
                                                     var_want, mask_want);
          cpu_ops().batch_norm_relu_forward_training(xb, weight, bias, rm_got, rv_got, p, y_got, mean_got,
                                                     var_got, mask_got);
        } else {
          ref_ops().batch_norm_forward_training(x, weight, bias, rm_want, rv_want, p, y_want, mean_want,
                                                var_want);
          cpu_ops().batch_norm_forward_training(xb, weight, bias, rm_got, rv_got, p, y_got, mean_got,
                                                var_got);
        }
        EXPECT_EQ(y_got.dtype(), DType::bf16);
        EXPECT_WITHIN("bn y", y_got, y_want, kBf16Output);
        EXPECT_WITHIN("bn save_mean", mean_got, mean_want, kBatchNormStatistics);
        EXPECT_WITHIN("bn save_var", var_got, var_want, kBatchNormStatistics);
        EXPECT_WITHIN("bn running_mean", rm_got, rm_want, kBatchNormStatistics);
        EXPECT_WITHIN("bn running_var", rv_got, rv_want, kBatchNormStatistics);

        Tensor dx_want = junk_f32(c.x, layout), dx_got = junk_bf16(c.x, layout);
        Tensor dw_want = junk_f32({channels}), db_want = junk_f32({channels});
        Tensor dw_got = junk_f32({channels}), db_got = junk_f32({channels});
        Tensor* dw[2] = {c.affine ? &dw_want : nullptr, c.affine ? &dw_got : nullptr};
        Tensor* db[2] = {c.affine ? &db_want : nullptr, c.affine ? &db_got : nullptr};
        const Tensor dyb = dy.to(DType::bf16);
        if (fused_relu) {
          ref_ops().batch_norm_relu_backward_training(dy, x, weight, mean_want, var_want, mask_want, p,
                                                      &dx_want, dw[0], db[0]);
          cpu_ops().batch_norm_relu_backward_training(dyb, xb, weight, mean_got, var_got, mask_got, p,
                                                      &dx_got, dw[1], db[1]);
        } else {
          ref_ops().batch_norm_backward_training(dy, x, weight, mean_want, var_want, p, &dx_want, dw[0],
                                                 db[0]);
          cpu_ops().batch_norm_backward_training(dyb, xb, weight, mean_got, var_got, p, &dx_got, dw[1],
                                                 db[1]);
        }
        EXPECT_WITHIN("bn dx", dx_got, dx_want, kBf16Output);
        if (c.affine) {
          EXPECT_WITHIN("bn dweight", dw_got, dw_want, kBatchNormParameterGradients);
          EXPECT_WITHIN("bn dbias", db_got, db_want, kBatchNormParameterGradients);
        }
      }
}

TEST(CpuBf16Activations, BatchNormInferenceStaysWithinOneRounding) {
  if (skip_without_bf16("batch norm inference")) return;
  Rng rng(3);
  const Shape shape{3, 16, 6, 5};
  const ops::BatchNormParams p;
  for (Layout layout : kLayouts) {
    const Tensor x = rounded_random(shape, rng, layout, -2.0, 3.0);
    const Tensor w = resnet::testing::random_tensor({16}, rng), b = resnet::testing::random_tensor({16}, rng);
    const Tensor mean = resnet::testing::random_tensor({16}, rng);
    const Tensor var = resnet::testing::random_tensor({16}, rng, DType::f32, Layout::contiguous, 0.5, 2.0);
    Tensor want = junk_f32(shape, layout), got = junk_bf16(shape, layout);
    ref_ops().batch_norm_forward_inference(x, &w, &b, mean, var, p, want);
    cpu_ops().batch_norm_forward_inference(x.to(DType::bf16), &w, &b, mean, var, p, got);
    EXPECT_WITHIN("bn inference y", got, want, kBf16Output);
  }
}

TEST(CpuBf16Activations, ConvolutionWithBf16ActivationsEqualsF32ConvolutionRoundedOnce) {
  if (skip_without_bf16("convolution")) return;
  const ops::OpTable& bf16_ops = ops::op_table(ops::Backend::cpu_bf16);
  Rng rng(4);
  struct Case {
    Shape x, w;
    ops::Conv2dParams p;
  };
  const Case cases[] = {
      {{2, 16, 9, 9}, {32, 16, 3, 3}, {.stride = {1, 1}, .padding = {1, 1}}},
      {{2, 16, 8, 8}, {32, 16, 1, 1}, {.stride = {2, 2}}},
      {{3, 32, 6, 5}, {32, 8, 3, 3}, {.stride = {1, 1}, .padding = {1, 1}, .groups = 4}},
  };
  for (const Case& c : cases)
    for (Layout layout : kLayouts)
      for (bool stem : {false, true}) {  // stem: f32 image in, bf16 activation out
        SCOPED_TRACE(c.x.str() + (layout == Layout::contiguous ? " NCHW" : " NHWC") + (stem ? " f32 x" : ""));
        const Shape y_shape = ops::conv2d_output_shape(c.x, c.w, c.p);
        const Tensor x = rounded_random(c.x, rng, layout), w = rounded_random(c.w, rng);
        const Tensor dy = rounded_random(y_shape, rng, layout);
        const Tensor xin = stem ? x : x.to(DType::bf16);

        Tensor y_want = junk_f32(y_shape, layout), y_got = junk_bf16(y_shape, layout);
        ref_ops().conv2d_forward(x, w, nullptr, c.p, y_want);
        bf16_ops.conv2d_forward(xin, w, nullptr, c.p, y_got);
        EXPECT_WITHIN("conv y", y_got, y_want, kBf16Output);

        Tensor dx_want = junk_f32(c.x, layout), dw_want = junk_f32(c.w);
        Tensor dx_got = stem ? junk_f32(c.x, layout) : junk_bf16(c.x, layout), dw_got = junk_f32(c.w);
        ref_ops().conv2d_backward(dy, x, w, c.p, &dx_want, &dw_want, nullptr);
        bf16_ops.conv2d_backward(dy.to(DType::bf16), xin, w, c.p, &dx_got, &dw_got, nullptr);
        EXPECT_WITHIN("conv dx", dx_got, dx_want, stem ? kConv : kBf16Output);
        EXPECT_WITHIN("conv dweight", dw_got, dw_want, kConv);
      }
}

TEST(CpuBf16Activations, PoolingAndTheShortcutMatchRef) {
  if (skip_without_bf16("pooling")) return;
  Rng rng(5);
  const Shape shape{2, 8, 9, 9};
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout == Layout::contiguous ? "NCHW" : "NHWC");
    const Tensor x = rounded_random(shape, rng, layout);
    const Tensor xb = x.to(DType::bf16);

    ops::Pool2dParams p;
    p.kernel = {3, 3};
    p.stride = {2, 2};
    p.padding = {1, 1};
    const Shape y_shape = ops::pool2d_output_shape(shape, p);
    Tensor y_want = junk_f32(y_shape, layout), y_got = junk_bf16(y_shape, layout), ws_want, ws_got;
    ref_ops().max_pool2d_forward(x, p, y_want, ws_want);
    cpu_ops().max_pool2d_forward(xb, p, y_got, ws_got);
    EXPECT_WITHIN("max pool y", y_got, y_want, kExact);
    const Tensor dy = rounded_random(y_shape, rng, layout);
    Tensor dx_want = junk_f32(shape, layout), dx_got = junk_bf16(shape, layout);
    ref_ops().max_pool2d_backward(dy, ws_want, p, dx_want);
    cpu_ops().max_pool2d_backward(dy.to(DType::bf16), ws_got, p, dx_got);
    EXPECT_WITHIN("max pool dx", dx_got, dx_want, kBf16Output);  // overlapping windows add gradients

    Tensor g_want = junk_f32({2, 8}), g_got = junk_f32({2, 8});
    ref_ops().global_avg_pool_forward(x, g_want);
    cpu_ops().global_avg_pool_forward(xb, g_got);
    EXPECT_WITHIN("global avg pool y (f32 from bf16)", g_got, g_want, kShortSum);
    const Tensor dg = resnet::testing::random_tensor({2, 8}, rng);
    Tensor dgx_want = junk_f32(shape, layout), dgx_got = junk_bf16(shape, layout);
    ref_ops().global_avg_pool_backward(dg, dgx_want);
    cpu_ops().global_avg_pool_backward(dg, dgx_got);
    EXPECT_WITHIN("global avg pool dx", dgx_got, dgx_want, kBf16Output);

    const Shape s_shape = ops::shortcut_a_output_shape(shape, 16, 2);
    Tensor s_want = junk_f32(s_shape, layout), s_got = junk_bf16(s_shape, layout);
    ref_ops().shortcut_a_forward(x, 2, s_want);
    cpu_ops().shortcut_a_forward(xb, 2, s_got);
    EXPECT_WITHIN("shortcut A y", s_got, s_want, kExact);
    const Tensor ds = rounded_random(s_shape, rng, layout);
    Tensor dsx_want = junk_f32(shape, layout), dsx_got = junk_bf16(shape, layout);
    ref_ops().shortcut_a_backward(ds, 2, dsx_want);
    cpu_ops().shortcut_a_backward(ds.to(DType::bf16), 2, dsx_got);
    EXPECT_WITHIN("shortcut A dx", dsx_got, dsx_want, kExact);
  }
}

TEST(CpuBf16Activations, DropoutDrawsRefsMaskAndScalesWithinOneRounding) {
  Rng rng(6);
  const Shape shape{2, 24, 5, 7};
  const double p = 0.3;
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout == Layout::contiguous ? "NCHW" : "NHWC");
    const Tensor x = rounded_random(shape, rng, layout);
    Tensor y_want = junk_f32(shape, layout), y_got = junk_bf16(shape, layout);
    Tensor mask_want = Tensor::empty(shape, DType::u8, layout),
           mask_got = Tensor::empty(shape, DType::u8, layout);
    ref_ops().dropout_forward(x, p, 42, y_want, mask_want);
    cpu_ops().dropout_forward(x.to(DType::bf16), p, 42, y_got, mask_got);
    EXPECT_WITHIN("dropout mask", mask_got, mask_want, kExact);
    EXPECT_WITHIN("dropout y", y_got, y_want, kBf16Output);
    const Tensor dy = rounded_random(shape, rng, layout);
    Tensor dx_want = junk_f32(shape, layout), dx_got = junk_bf16(shape, layout);
    ref_ops().dropout_backward(dy, mask_want, p, dx_want);
    cpu_ops().dropout_backward(dy.to(DType::bf16), mask_got, p, dx_got);
    EXPECT_WITHIN("dropout dx", dx_got, dx_want, kBf16Output);
  }
}

}  // namespace
