// The oneDNN `cpu` backend against the `ref` oracle, op by op, forward and backward, on many shapes: odd
// sizes, stride 2, padding, dilation, groups and depthwise, batch 1, with and without bias, both
// activation layouts, affine and not, label smoothing and class weights. Every output is pre-filled with
// NaN, so an element the op forgets to write fails (max_rel_error turns NaN into +inf).
//
// Both backends get the same f32 inputs; ref accumulates in double and rounds once, cpu (oneDNN)
// accumulates in f32. The error of an f32 sum of R terms grows like sqrt(R)·2^-24 of the terms' size
// (R·2^-24 at worst), measured here relative to the largest |ref| element. Each tolerance below states
// the reduction it covers; the worst errors measured are printed at the end of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ops/cpu/dnnl_context.h"
#include "resnet/core/parallel.h"
#include "resnet/ops/backend.h"
#include "test_util.h"

using namespace resnet;
using resnet::testing::fill_junk;
using resnet::testing::max_rel_error;
using resnet::testing::random_tensor;

namespace {

// ---- Tolerances (relative to max |ref|) -------------------------------------------------------------

// Bit-identical: the op moves or selects values (ReLU, copies, max pool forward, shortcut, flatten, the
// dropout mask) or performs one correctly rounded f32 operation (a + b).
constexpr double kExact = 0.0;
// One f32 rounding of a double result, or a product of two roundings (dropout's x·(1/(1-p)) against
// x/(1-p)): a few ulp.
constexpr double kUlps = 4e-7;
// Short sums: average pooling (≤ 25 taps), max pool backward (≤ 9 overlapping windows), global average
// pooling (≤ 200 terms): sqrt(R)·2^-24 ≲ 1e-6.
constexpr double kShortSum = 2e-6;
// Convolution and inner product: reductions of up to ~1000 terms (C/g·kH·kW for fwd and bwd data,
// N·Ho·Wo for bwd weights), and oneDNN may split them across threads: 1e-5 leaves ~10x margin over the
// sqrt(R)·2^-24 estimate.
constexpr double kConv = 1e-5;
// Batch norm forward: mean and variance over m = N·H·W values in f32, then (x - mean)/sqrt(var + eps).
constexpr double kBatchNormForward = 1e-5;
// Batch norm backward (training): dx = (dy - mean(dy) - x̂·mean(dy·x̂))·γ/σ subtracts two f32 sums over m
// from dy; where they cancel the error relative to max |dx| grows by |dy|/|dx|: 5e-5.
constexpr double kBatchNormBackward = 5e-5;
// Cross-entropy: both sides compute each row in double from the same f32 logits; only the summation
// order over rows differs.
constexpr double kLossRelative = 1e-12;

// ---- Worst-error log, printed at the end of the run ------------------------------------------------

class WorstErrors : public ::testing::Environment {
 public:
  static WorstErrors& instance() {
    static WorstErrors* log = [] {
      auto* env = new WorstErrors;
      ::testing::AddGlobalTestEnvironment(env);  // gtest owns it from here
      return env;
    }();
    return *log;
  }
  void record(const std::string& what, double err) {
    std::lock_guard<std::mutex> lock(mutex_);
    double& worst = worst_[what];
    worst = std::max(worst, err);
  }
  void TearDown() override {
    if (worst_.empty()) return;
    std::printf("[ cpu vs ref ] worst max|cpu - ref| / max|ref| per op output:\n");
    for (const auto& [what, err] : worst_) std::printf("    %-34s %.3g\n", what.c_str(), err);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, double> worst_;
};

// Registers the environment before RUN_ALL_TESTS (gtest_main) starts.
[[maybe_unused]] const bool kWorstErrorsRegistered = (WorstErrors::instance(), true);

// EXPECTs cpu ≈ ref within tol, and logs the error under `what`.
#define EXPECT_MATCHES_REF(what, cpu, ref, tol)                                                       \
  do {                                                                                                \
    const double err_ = max_rel_error((cpu), (ref));                                                  \
    WorstErrors::instance().record((what), err_);                                                     \
    EXPECT_LE(err_, (tol)) << (what) << ": max |cpu - ref| / max |ref| = " << err_ << " > " << (tol); \
  } while (0)

// ---- Helpers ----------------------------------------------------------------------------------------

const ops::OpTable& ref_ops() {
  return ops::op_table(ops::Backend::ref);
}
const ops::OpTable& cpu_ops() {
  return ops::op_table(ops::Backend::cpu);
}

constexpr Layout kLayouts[] = {Layout::contiguous, Layout::channels_last};

const char* layout_name(Layout l) {
  return l == Layout::contiguous ? "NCHW" : "NHWC";
}

// A tensor of `shape` in `layout` full of NaN: what every output starts as.
Tensor junk(const Shape& shape, Layout layout = Layout::contiguous) {
  return Tensor::full(shape, NAN, DType::f32, layout);
}

Tensor random(const Shape& shape, Rng& rng, Layout layout = Layout::contiguous, double lo = -1.0,
              double hi = 1.0) {
  return random_tensor(shape, rng, DType::f32, layout, lo, hi);
}

std::string describe(const Shape& s, Layout l) {
  return s.str() + " " + layout_name(l);
}

// ============================================================================================= conv2d

struct ConvCase {
  Shape x;  // [N, C, H, W]
  int64_t out_channels;
  std::array<int64_t, 2> kernel;
  ops::Conv2dParams p;
};

std::string describe(const ConvCase& c) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "x%s O%ld k%ldx%ld s%ld,%ld p%ld,%ld d%ld,%ld g%ld", c.x.str().c_str(),
                static_cast<long>(c.out_channels), static_cast<long>(c.kernel[0]),
                static_cast<long>(c.kernel[1]), static_cast<long>(c.p.stride[0]),
                static_cast<long>(c.p.stride[1]), static_cast<long>(c.p.padding[0]),
                static_cast<long>(c.p.padding[1]), static_cast<long>(c.p.dilation[0]),
                static_cast<long>(c.p.dilation[1]), static_cast<long>(c.p.groups));
  return buf;
}

ops::Conv2dParams conv_params(int64_t stride, int64_t pad, int64_t dil, int64_t groups) {
  return {.stride = {stride, stride}, .padding = {pad, pad}, .dilation = {dil, dil}, .groups = groups};
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases = {
      {{2, 3, 7, 5}, 4, {3, 3}, conv_params(1, 1, 1, 1)},    // odd sizes, padding
      {{1, 4, 13, 11}, 6, {3, 3}, conv_params(2, 1, 1, 1)},  // batch 1, stride 2
      {{2, 8, 9, 9}, 8, {3, 3}, conv_params(1, 2, 2, 1)},    // dilation 2
      {{2, 6, 7, 7}, 4, {3, 3}, conv_params(2, 1, 1, 2)},    // groups 2, stride 2
      {{2, 8, 10, 10}, 8, {3, 3}, conv_params(1, 1, 1, 8)},  // depthwise
      {{2, 4, 9, 7}, 8, {3, 3}, conv_params(2, 1, 1, 4)},    // depthwise, channel multiplier 2
      {{2, 16, 8, 8}, 32, {1, 1}, conv_params(2, 0, 1, 1)},  // ResNet downsample 1x1 s2
      {{2, 3, 15, 15}, 8, {7, 7}, conv_params(2, 3, 1, 1)},  // ResNet stem
      {{3, 16, 8, 8}, 16, {3, 3}, conv_params(1, 1, 1, 1)},  // CIFAR block (blocked AVX-512 path)
      {{2, 32, 5, 5}, 64, {3, 3}, conv_params(2, 1, 1, 1)},  // wider, odd, stride 2
      {{2, 5, 6, 8}, 7, {2, 3}, {.stride = {2, 1}, .padding = {0, 1}, .dilation = {1, 2}, .groups = 1}},
  };
  // Random valid configurations.
  Rng rng(2024);
  for (int i = 0; i < 24; ++i) {
    ConvCase c;
    const int64_t groups_kind = static_cast<int64_t>(rng.below(3));  // 1, 2 or depthwise
    const int64_t cin_per_group = 1 + static_cast<int64_t>(rng.below(4));
    const int64_t groups = groups_kind == 0   ? 1
                           : groups_kind == 1 ? 2
                                              : 2 + static_cast<int64_t>(rng.below(6));
    const int64_t cin = groups_kind == 2 ? groups : groups * cin_per_group;
    c.out_channels = groups * (1 + static_cast<int64_t>(rng.below(3)));
    for (int d = 0; d < 2; ++d) {
      c.kernel[d] = 1 + static_cast<int64_t>(rng.below(5));
      c.p.stride[d] = 1 + static_cast<int64_t>(rng.below(3));
      c.p.dilation[d] = 1 + static_cast<int64_t>(rng.below(2));
      const int64_t span = c.p.dilation[d] * (c.kernel[d] - 1) + 1;
      c.p.padding[d] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(span / 2 + 1)));
    }
    c.p.groups = groups;
    const int64_t span_h = c.p.dilation[0] * (c.kernel[0] - 1) + 1,
                  span_w = c.p.dilation[1] * (c.kernel[1] - 1) + 1;
    const int64_t h = std::max<int64_t>(1, span_h - 2 * c.p.padding[0]) + static_cast<int64_t>(rng.below(9));
    const int64_t w = std::max<int64_t>(1, span_w - 2 * c.p.padding[1]) + static_cast<int64_t>(rng.below(9));
    c.x = Shape{1 + static_cast<int64_t>(rng.below(3)), cin, h, w};
    cases.push_back(c);
  }
  return cases;
}

// Calls fn(case, weight shape, output shape, layout, with_bias) for every conv case in both layouts, with
// and without bias, under a SCOPED_TRACE naming the configuration.
template <class Fn>
void for_each_conv_config(Fn&& fn) {
  for (const ConvCase& c : conv_cases()) {
    const Shape w_shape{c.out_channels, c.x[1] / c.p.groups, c.kernel[0], c.kernel[1]};
    const Shape y_shape = ops::conv2d_output_shape(c.x, w_shape, c.p);
    for (Layout layout : kLayouts) {
      for (bool with_bias : {false, true}) {
        SCOPED_TRACE(describe(c) + " " + layout_name(layout) + (with_bias ? " bias" : " no bias"));
        fn(c, w_shape, y_shape, layout, with_bias);
      }
    }
  }
}

TEST(CpuConv2d, ForwardAndBackwardMatchRef) {
  Rng rng(1);
  for_each_conv_config(
      [&](const ConvCase& c, const Shape& w_shape, const Shape& y_shape, Layout layout, bool with_bias) {
        const Tensor x = random(c.x, rng, layout);
        const Tensor w = random(w_shape, rng);
        const Tensor b = random({c.out_channels}, rng);
        const Tensor* bias = with_bias ? &b : nullptr;
        Tensor y_ref = junk(y_shape, layout), y_cpu = junk(y_shape, layout);
        ref_ops().conv2d_forward(x, w, bias, c.p, y_ref);
        cpu_ops().conv2d_forward(x, w, bias, c.p, y_cpu);
        EXPECT_MATCHES_REF("conv2d y", y_cpu, y_ref, kConv);

        const Tensor dy = random(y_shape, rng, layout);
        Tensor dx_ref = junk(c.x, layout), dw_ref = junk(w_shape), db_ref = junk({c.out_channels});
        Tensor dx_cpu = junk(c.x, layout), dw_cpu = junk(w_shape), db_cpu = junk({c.out_channels});
        ref_ops().conv2d_backward(dy, x, w, c.p, &dx_ref, &dw_ref, with_bias ? &db_ref : nullptr);
        cpu_ops().conv2d_backward(dy, x, w, c.p, &dx_cpu, &dw_cpu, with_bias ? &db_cpu : nullptr);
        EXPECT_MATCHES_REF("conv2d dx", dx_cpu, dx_ref, kConv);
        EXPECT_MATCHES_REF("conv2d dweight", dw_cpu, dw_ref, kConv);
        if (with_bias) EXPECT_MATCHES_REF("conv2d dbias", db_cpu, db_ref, kConv);
      });
}

// Each backward output requested alone (other primitives, and sinks for the outputs not wanted) gives
// the same values as all together.
TEST(CpuConv2d, EachBackwardOutputAloneMatchesRef) {
  Rng rng(2);
  const ConvCase c{{2, 8, 9, 7}, 16, {3, 3}, conv_params(2, 1, 1, 1)};
  const Shape w_shape{16, 8, 3, 3};
  const Shape y_shape = ops::conv2d_output_shape(c.x, w_shape, c.p);
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    const Tensor x = random(c.x, rng, layout), w = random(w_shape, rng), dy = random(y_shape, rng, layout);
    Tensor dx_ref = junk(c.x, layout), dw_ref = junk(w_shape), db_ref = junk({16});
    ref_ops().conv2d_backward(dy, x, w, c.p, &dx_ref, &dw_ref, &db_ref);
    Tensor dx = junk(c.x, layout), dw = junk(w_shape), db = junk({16});
    cpu_ops().conv2d_backward(dy, x, w, c.p, &dx, nullptr, nullptr);
    EXPECT_MATCHES_REF("conv2d dx", dx, dx_ref, kConv);
    cpu_ops().conv2d_backward(dy, x, w, c.p, nullptr, &dw, nullptr);
    EXPECT_MATCHES_REF("conv2d dweight", dw, dw_ref, kConv);
    cpu_ops().conv2d_backward(dy, x, w, c.p, nullptr, nullptr, &db);
    EXPECT_MATCHES_REF("conv2d dbias", db, db_ref, kConv);
  }
}

// ========================================================================================= batch norm

struct BatchNormCase {
  Shape x;
  ops::BatchNormParams p;
};

// ---- conv2d in bf16 (the cpu-bf16 op table) ----------------------------------------------------------
//
// Oracle: the bf16 convolution must equal the f32 reference convolution of its inputs rounded to bf16
// (x, weight, dy: nearest-even). A product of two bf16 values is exact in f32, so what is left is f32
// summation order: the same kConv bar as the f32 path. And it must differ from the unrounded f32
// convolution by about bf16's rounding (2^-9 relative per input), so a path that silently stayed in f32
// fails the second check (its error would be ~1e-7).

Tensor rounded_to_bf16(const Tensor& t) {
  Tensor r = t.clone();
  float* p = r.data<float>();
  for (int64_t i = 0; i < r.numel(); ++i) p[i] = bf16_to_f32(f32_to_bf16(p[i]));
  return r;
}

// bf16's relative step is 2^-8: rounding one input moves a sum by ≳ 1e-4 of its largest term unless
// every input happened to be representable (random uniform values are not).
constexpr double kBf16RoundingIsVisible = 1e-4;
// Without rounding, how far bf16 may be from the exact f32 convolution: each product carries two
// roundings of ≤ 2^-9, and a sum of R such terms of random sign grows like sqrt(R) while max |y| grows
// like sqrt(R) too, so the error relative to max |ref| stays near 2·2^-9 ≈ 4e-3; 2e-2 allows for
// unlucky cancellation in small outputs.
constexpr double kBf16VsF32 = 2e-2;

TEST(CpuConv2dBf16, EqualsF32ConvolutionOfRoundedInputs) {
  if (!ops::bf16_supported()) {
    std::printf("[ cpu-bf16 ] NOT CHECKED: this CPU has no AVX-512 (oneDNN has no bf16 convolutions)\n");
    return;
  }
  const ops::OpTable& bf16_ops = ops::op_table(ops::Backend::cpu_bf16);
  Rng rng(11);
  for_each_conv_config([&](const ConvCase& c, const Shape& w_shape, const Shape& y_shape, Layout layout,
                           bool with_bias) {
    const Tensor x = random(c.x, rng, layout), w = random(w_shape, rng), b = random({c.out_channels}, rng);
    const Tensor dy = random(y_shape, rng, layout);
    const Tensor xr = rounded_to_bf16(x), wr = rounded_to_bf16(w), dyr = rounded_to_bf16(dy);
    const Tensor* bias = with_bias ? &b : nullptr;

    Tensor y_ref = junk(y_shape, layout), y_exact = junk(y_shape, layout), y = junk(y_shape, layout);
    ref_ops().conv2d_forward(xr, wr, bias, c.p, y_ref);
    ref_ops().conv2d_forward(x, w, bias, c.p, y_exact);
    bf16_ops.conv2d_forward(x, w, bias, c.p, y);
    EXPECT_MATCHES_REF("conv2d bf16 y", y, y_ref, kConv);
    EXPECT_MATCHES_REF("conv2d bf16 y vs f32", y, y_exact, kBf16VsF32);
    EXPECT_GT(max_rel_error(y, y_exact), kBf16RoundingIsVisible) << "the forward did not round to bf16";

    Tensor dx_ref = junk(c.x, layout), dw_ref = junk(w_shape), db_ref = junk({c.out_channels});
    Tensor dx = junk(c.x, layout), dw = junk(w_shape), db = junk({c.out_channels});
    ref_ops().conv2d_backward(dyr, xr, wr, c.p, &dx_ref, &dw_ref, with_bias ? &db_ref : nullptr);
    bf16_ops.conv2d_backward(dy, x, w, c.p, &dx, &dw, with_bias ? &db : nullptr);
    EXPECT_MATCHES_REF("conv2d bf16 dx", dx, dx_ref, kConv);
    EXPECT_MATCHES_REF("conv2d bf16 dweight", dw, dw_ref, kConv);
    if (with_bias) EXPECT_MATCHES_REF("conv2d bf16 dbias", db, db_ref, kConv);

    Tensor dx_exact = junk(c.x, layout), dw_exact = junk(w_shape);
    ref_ops().conv2d_backward(dy, x, w, c.p, &dx_exact, &dw_exact, nullptr);
    EXPECT_GT(max_rel_error(dw, dw_exact), kBf16RoundingIsVisible) << "dweight did not round to bf16";
    EXPECT_GT(max_rel_error(dx, dx_exact), kBf16RoundingIsVisible) << "dx did not round to bf16";
  });
}

// The bf16 table changes the convolutions only; its tensors are f32 like the cpu table's.
TEST(CpuConv2dBf16, TableDiffersFromCpuInConvolutionsOnly) {
  const ops::OpTable& a = ops::op_table(ops::Backend::cpu);
  const ops::OpTable& b = ops::op_table(ops::Backend::cpu_bf16);
  EXPECT_NE(a.conv2d_forward, b.conv2d_forward);
  EXPECT_NE(a.conv2d_backward, b.conv2d_backward);
  EXPECT_EQ(a.batch_norm_forward_training, b.batch_norm_forward_training);
  EXPECT_EQ(a.linear_forward, b.linear_forward);
  EXPECT_EQ(ops::parse_backend("cpu-bf16"), ops::Backend::cpu_bf16);
  EXPECT_EQ(ops::backend_name(ops::Backend::cpu_bf16), "cpu-bf16");
}

TEST(CpuBatchNorm, TrainingAndInferenceForwardAndBackwardMatchRef) {
  const BatchNormCase cases[] = {
      {{2, 3, 7, 5}, {}},
      {{1, 4, 13, 11}, {.eps = 1e-3, .momentum = 0.3}},  // batch 1
      {{4, 16, 4, 4}, {}},
      {{3, 5, 1, 1}, {.eps = 1e-5, .momentum = 0.5}},  // 1x1 planes: both layouts coincide
      {{8, 32, 6, 6}, {}},
      {{2, 1, 9, 9}, {}},  // one channel: both layouts coincide
  };
  Rng rng(3);
  for (const BatchNormCase& c : cases) {
    const int64_t C = c.x[1];
    for (Layout layout : kLayouts) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(describe(c.x, layout) + (affine ? " affine" : " no affine"));
        // An offset mean and a spread unlike 1 exercise the variance computation.
        const Tensor x = random(c.x, rng, layout, 1.5, 4.0);
        const Tensor w = random({C}, rng, Layout::contiguous, 0.5, 1.5), b = random({C}, rng);
        const Tensor* weight = affine ? &w : nullptr;
        const Tensor* bias = affine ? &b : nullptr;
        const Tensor rm0 = random({C}, rng), rv0 = random({C}, rng, Layout::contiguous, 0.5, 2.0);

        // Training forward.
        Tensor rm_ref = rm0.clone(), rv_ref = rv0.clone(), rm_cpu = rm0.clone(), rv_cpu = rv0.clone();
        Tensor y_ref = junk(c.x, layout), mean_ref = junk({C}), var_ref = junk({C});
        Tensor y_cpu = junk(c.x, layout), mean_cpu = junk({C}), var_cpu = junk({C});
        ref_ops().batch_norm_forward_training(x, weight, bias, rm_ref, rv_ref, c.p, y_ref, mean_ref, var_ref);
        cpu_ops().batch_norm_forward_training(x, weight, bias, rm_cpu, rv_cpu, c.p, y_cpu, mean_cpu, var_cpu);
        EXPECT_MATCHES_REF("batch_norm train y", y_cpu, y_ref, kBatchNormForward);
        EXPECT_MATCHES_REF("batch_norm train save_mean", mean_cpu, mean_ref, kBatchNormForward);
        EXPECT_MATCHES_REF("batch_norm train save_var", var_cpu, var_ref, kBatchNormForward);
        EXPECT_MATCHES_REF("batch_norm running_mean", rm_cpu, rm_ref, kBatchNormForward);
        EXPECT_MATCHES_REF("batch_norm running_var", rv_cpu, rv_ref, kBatchNormForward);

        // Training backward, from each backend's own saved statistics.
        const Tensor dy = random(c.x, rng, layout);
        Tensor dx_ref = junk(c.x, layout), dw_ref = junk({C}), db_ref = junk({C});
        Tensor dx_cpu = junk(c.x, layout), dw_cpu = junk({C}), db_cpu = junk({C});
        ref_ops().batch_norm_backward_training(dy, x, weight, mean_ref, var_ref, c.p, &dx_ref,
                                               affine ? &dw_ref : nullptr, affine ? &db_ref : nullptr);
        cpu_ops().batch_norm_backward_training(dy, x, weight, mean_cpu, var_cpu, c.p, &dx_cpu,
                                               affine ? &dw_cpu : nullptr, affine ? &db_cpu : nullptr);
        EXPECT_MATCHES_REF("batch_norm train dx", dx_cpu, dx_ref, kBatchNormBackward);
        if (affine) {
          EXPECT_MATCHES_REF("batch_norm train dweight", dw_cpu, dw_ref, kBatchNormBackward);
          EXPECT_MATCHES_REF("batch_norm train dbias", db_cpu, db_ref, kBatchNormBackward);
        }

        // Inference forward and its backward (running statistics are constants).
        ref_ops().batch_norm_forward_inference(x, weight, bias, rm0, rv0, c.p, y_ref);
        fill_junk(y_cpu);
        cpu_ops().batch_norm_forward_inference(x, weight, bias, rm0, rv0, c.p, y_cpu);
        EXPECT_MATCHES_REF("batch_norm eval y", y_cpu, y_ref, kBatchNormForward);
        fill_junk(dx_cpu), fill_junk(dw_cpu), fill_junk(db_cpu);
        ref_ops().batch_norm_backward_inference(dy, x, weight, rm0, rv0, c.p, &dx_ref,
                                                affine ? &dw_ref : nullptr, affine ? &db_ref : nullptr);
        cpu_ops().batch_norm_backward_inference(dy, x, weight, rm0, rv0, c.p, &dx_cpu,
                                                affine ? &dw_cpu : nullptr, affine ? &db_cpu : nullptr);
        EXPECT_MATCHES_REF("batch_norm eval dx", dx_cpu, dx_ref, kBatchNormBackward);
        if (affine) {
          EXPECT_MATCHES_REF("batch_norm eval dweight", dw_cpu, dw_ref, kBatchNormBackward);
          EXPECT_MATCHES_REF("batch_norm eval dbias", db_cpu, db_ref, kBatchNormBackward);
        }
      }
    }
  }
}

TEST(CpuBatchNorm, EachBackwardOutputAloneMatchesRef) {
  const Shape shape{3, 8, 5, 7};
  Rng rng(4);
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    const Tensor x = random(shape, rng, layout, -2.0, 3.0), dy = random(shape, rng, layout);
    const Tensor w = random({8}, rng, Layout::contiguous, 0.5, 1.5), b = random({8}, rng);
    Tensor rm = Tensor::zeros({8}), rv = Tensor::full({8}, 1.0), y = junk(shape, layout);
    Tensor mean = junk({8}), var = junk({8});
    ref_ops().batch_norm_forward_training(x, &w, &b, rm, rv, {}, y, mean, var);
    for (bool training : {true, false}) {
      SCOPED_TRACE(training ? "training" : "inference");
      const auto backward =
          training ? ref_ops().batch_norm_backward_training : ref_ops().batch_norm_backward_inference;
      const auto backward_cpu =
          training ? cpu_ops().batch_norm_backward_training : cpu_ops().batch_norm_backward_inference;
      Tensor dx_ref = junk(shape, layout), dw_ref = junk({8}), db_ref = junk({8});
      backward(dy, x, &w, mean, var, {}, &dx_ref, &dw_ref, &db_ref);
      Tensor dx = junk(shape, layout), dw = junk({8}), db = junk({8});
      backward_cpu(dy, x, &w, mean, var, {}, &dx, nullptr, nullptr);
      EXPECT_MATCHES_REF("batch_norm dx alone", dx, dx_ref, kBatchNormBackward);
      backward_cpu(dy, x, &w, mean, var, {}, nullptr, &dw, nullptr);
      EXPECT_MATCHES_REF("batch_norm dweight alone", dw, dw_ref, kBatchNormBackward);
      backward_cpu(dy, x, &w, mean, var, {}, nullptr, nullptr, &db);
      EXPECT_MATCHES_REF("batch_norm dbias alone", db, db_ref, kBatchNormBackward);
    }
  }
}

// Each backend writes and reads its own mask (oneDNN's workspace on cpu), so each backward gets the mask
// its own forward wrote; the outputs must agree as the unfused ops do.
TEST(CpuBatchNormRelu, FusedForwardAndBackwardMatchRef) {
  Rng rng(21);
  for (const Shape& shape : {Shape{2, 3, 7, 5}, Shape{4, 16, 4, 4}, Shape{8, 32, 6, 6}}) {
    const int64_t C = shape[1];
    for (Layout layout : kLayouts) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(describe(shape, layout) + (affine ? " affine" : " no affine"));
        const Tensor x = random(shape, rng, layout, -2.0, 3.0), dy = random(shape, rng, layout);
        const Tensor w = random({C}, rng, Layout::contiguous, 0.5, 1.5), b = random({C}, rng);
        const Tensor* weight = affine ? &w : nullptr;
        const Tensor* bias = affine ? &b : nullptr;
        Tensor rm_ref = Tensor::zeros({C}), rv_ref = Tensor::full({C}, 1.0);
        Tensor rm_cpu = rm_ref.clone(), rv_cpu = rv_ref.clone();
        Tensor y_ref = junk(shape, layout), mean_ref = junk({C}), var_ref = junk({C});
        Tensor y_cpu = junk(shape, layout), mean_cpu = junk({C}), var_cpu = junk({C});
        Tensor mask_ref = Tensor::zeros({x.numel()}, DType::u8),
               mask_cpu = Tensor::zeros({x.numel()}, DType::u8);
        ref_ops().batch_norm_relu_forward_training(x, weight, bias, rm_ref, rv_ref, {}, y_ref, mean_ref,
                                                   var_ref, mask_ref);
        cpu_ops().batch_norm_relu_forward_training(x, weight, bias, rm_cpu, rv_cpu, {}, y_cpu, mean_cpu,
                                                   var_cpu, mask_cpu);
        EXPECT_MATCHES_REF("batch_norm_relu y", y_cpu, y_ref, kBatchNormForward);
        EXPECT_MATCHES_REF("batch_norm_relu running_var", rv_cpu, rv_ref, kBatchNormForward);

        Tensor dx_ref = junk(shape, layout), dw_ref = junk({C}), db_ref = junk({C});
        Tensor dx_cpu = junk(shape, layout), dw_cpu = junk({C}), db_cpu = junk({C});
        ref_ops().batch_norm_relu_backward_training(dy, x, weight, mean_ref, var_ref, mask_ref, {}, &dx_ref,
                                                    affine ? &dw_ref : nullptr, affine ? &db_ref : nullptr);
        cpu_ops().batch_norm_relu_backward_training(dy, x, weight, mean_cpu, var_cpu, mask_cpu, {}, &dx_cpu,
                                                    affine ? &dw_cpu : nullptr, affine ? &db_cpu : nullptr);
        EXPECT_MATCHES_REF("batch_norm_relu dx", dx_cpu, dx_ref, kBatchNormBackward);
        if (affine) {
          EXPECT_MATCHES_REF("batch_norm_relu dweight", dw_cpu, dw_ref, kBatchNormBackward);
          EXPECT_MATCHES_REF("batch_norm_relu dbias", db_cpu, db_ref, kBatchNormBackward);
        }
      }
    }
  }
}

// The forward sizes the mask to what oneDNN asks for: one bit per element with its jit kernels (the
// channels_last training path), so a ResNet-50 step keeps 1/32 of its BN+ReLU outputs' bytes for the
// masks, not 1/4. A mask too small for the backward is a clear error, not a buffer overrun.
TEST(CpuBatchNormRelu, MaskIsSizedByTheForwardAndCheckedByTheBackward) {
  Rng rng(22);
  const Shape shape{4, 64, 14, 14};
  const Tensor x = random(shape, rng, Layout::channels_last), dy = random(shape, rng, Layout::channels_last);
  Tensor rm = Tensor::zeros({64}), rv = Tensor::full({64}, 1.0), mean = junk({64}), var = junk({64});
  Tensor y = junk(shape, Layout::channels_last), mask = Tensor::zeros({1}, DType::u8);
  cpu_ops().batch_norm_relu_forward_training(x, nullptr, nullptr, rm, rv, {}, y, mean, var, mask);
  EXPECT_EQ(mask.dtype(), DType::u8);
  EXPECT_GE(mask.numel(), x.numel() / 8);
  EXPECT_LE(mask.numel(), x.numel() / 8 + 64) << "oneDNN's workspace is no longer a bit mask";
  const void* buffer = mask.raw();
  cpu_ops().batch_norm_relu_forward_training(x, nullptr, nullptr, rm, rv, {}, y, mean, var, mask);
  EXPECT_EQ(mask.raw(), buffer) << "a mask of the right size must be reused, not reallocated";

  Tensor dx = junk(shape, Layout::channels_last), tiny = Tensor::zeros({1}, DType::u8);
  EXPECT_THROW(
      cpu_ops().batch_norm_relu_backward_training(dy, x, nullptr, mean, var, tiny, {}, &dx, nullptr, nullptr),
      std::exception);
}

// ======================================================================================== elementwise

const Shape kElementwiseShapes[] = {{2, 3, 7, 5}, {1, 16, 13, 11}, {4, 8, 1, 1}, {3, 1, 4, 4}};

TEST(CpuRelu, ForwardAndBackwardMatchRefExactlyAndInPlace) {
  Rng rng(5);
  for (const Shape& shape : kElementwiseShapes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(shape, layout));
      const Tensor x = random(shape, rng, layout);
      Tensor y_ref = junk(shape, layout), y_cpu = junk(shape, layout);
      ref_ops().relu_forward(x, y_ref);
      cpu_ops().relu_forward(x, y_cpu);
      EXPECT_MATCHES_REF("relu y", y_cpu, y_ref, kExact);
      const Tensor dy = random(shape, rng, layout);
      Tensor dx_ref = junk(shape, layout), dx_cpu = junk(shape, layout);
      ref_ops().relu_backward(dy, y_ref, dx_ref);
      cpu_ops().relu_backward(dy, y_cpu, dx_cpu);
      EXPECT_MATCHES_REF("relu dx", dx_cpu, dx_ref, kExact);

      // In place: y is x, dx is dy.
      Tensor inplace = x.clone(layout);
      cpu_ops().relu_forward(inplace, inplace);
      EXPECT_MATCHES_REF("relu y", inplace, y_ref, kExact);
      Tensor dinplace = dy.clone(layout);
      cpu_ops().relu_backward(dinplace, y_cpu, dinplace);
      EXPECT_MATCHES_REF("relu dx", dinplace, dx_ref, kExact);
    }
  }
  // Other ranks (the op is rank-agnostic): the [N, K] of a classifier.
  const Tensor x = random({5, 13}, rng);
  Tensor y_ref = junk({5, 13}), y_cpu = junk({5, 13});
  ref_ops().relu_forward(x, y_ref);
  cpu_ops().relu_forward(x, y_cpu);
  EXPECT_MATCHES_REF("relu y", y_cpu, y_ref, kExact);
}

// A binary element-wise forward (add, add_relu): cpu matches ref exactly, also in place over a and over b.
void expect_binary_matches_ref(const char* what, decltype(&ops::ref::add_forward) ref_op,
                               decltype(&ops::cpu::add_forward) cpu_op, const Tensor& a, const Tensor& b,
                               Layout layout) {
  Tensor y_ref = junk(a.shape(), layout), y_cpu = junk(a.shape(), layout);
  ref_op(a, b, y_ref);
  cpu_op(a, b, y_cpu);
  EXPECT_MATCHES_REF(what, y_cpu, y_ref, kExact);
  Tensor into_a = a.clone(layout), into_b = b.clone(layout);
  cpu_op(into_a, b, into_a);
  cpu_op(a, into_b, into_b);
  EXPECT_MATCHES_REF(what, into_a, y_ref, kExact);
  EXPECT_MATCHES_REF(what, into_b, y_ref, kExact);
}

TEST(CpuAdd, ForwardAndBackwardMatchRefExactlyAndInPlace) {
  Rng rng(6);
  for (const Shape& shape : kElementwiseShapes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(shape, layout));
      const Tensor a = random(shape, rng, layout), b = random(shape, rng, layout);
      expect_binary_matches_ref("add y", ref_ops().add_forward, cpu_ops().add_forward, a, b, layout);

      const Tensor dy = random(shape, rng, layout);
      Tensor da = junk(shape, layout), db = junk(shape, layout);
      Tensor da_ref = junk(shape, layout), db_ref = junk(shape, layout);
      ref_ops().add_backward(dy, &da_ref, &db_ref);
      cpu_ops().add_backward(dy, &da, &db);
      EXPECT_MATCHES_REF("add da", da, da_ref, kExact);
      EXPECT_MATCHES_REF("add db", db, db_ref, kExact);
      Tensor db_only = junk(shape, layout);
      cpu_ops().add_backward(dy, nullptr, &db_only);
      EXPECT_MATCHES_REF("add db", db_only, db_ref, kExact);
    }
  }
}

TEST(CpuAddRelu, MatchesRefExactlyAndInPlace) {
  Rng rng(22);
  for (const Shape& shape : kElementwiseShapes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(shape, layout));
      const Tensor a = random(shape, rng, layout), b = random(shape, rng, layout);
      expect_binary_matches_ref("add_relu y", ref_ops().add_relu_forward, cpu_ops().add_relu_forward, a, b,
                                layout);
    }
  }
}

// ============================================================================================ pooling

struct PoolCase {
  Shape x;
  ops::Pool2dParams p;
};

ops::Pool2dParams pool_params(int64_t kernel, int64_t stride, int64_t pad, bool include_pad = true) {
  return {.kernel = {kernel, kernel},
          .stride = {stride, stride},
          .padding = {pad, pad},
          .count_include_pad = include_pad};
}

std::vector<PoolCase> pool_cases() {
  return {
      {{2, 3, 7, 5}, pool_params(3, 2, 1)},    // ResNet stem pool on odd sizes
      {{1, 4, 13, 11}, pool_params(2, 2, 0)},  // batch 1, odd sizes leave a remainder
      {{2, 16, 8, 8}, pool_params(3, 1, 1)},   // overlapping windows, stride 1
      {{2, 5, 9, 6}, pool_params(5, 3, 2)},    // large kernel, padding 2
      {{3, 8, 6, 7}, {.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 0}, .count_include_pad = true}},
      {{2, 1, 7, 7}, pool_params(3, 2, 1)},  // one channel: both layouts coincide
  };
}

std::string describe(const PoolCase& c, Layout layout) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s k%ldx%ld s%ld,%ld p%ld,%ld", describe(c.x, layout).c_str(),
                static_cast<long>(c.p.kernel[0]), static_cast<long>(c.p.kernel[1]),
                static_cast<long>(c.p.stride[0]), static_cast<long>(c.p.stride[1]),
                static_cast<long>(c.p.padding[0]), static_cast<long>(c.p.padding[1]));
  return buf;
}

TEST(CpuMaxPool, ForwardAndBackwardMatchRef) {
  Rng rng(7);
  for (const PoolCase& c : pool_cases()) {
    const Shape y_shape = ops::pool2d_output_shape(c.x, c.p);
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(c, layout));
      const Tensor x = random(c.x, rng, layout);
      Tensor y_ref = junk(y_shape, layout), y_cpu = junk(y_shape, layout), ws_ref, ws_cpu;
      ref_ops().max_pool2d_forward(x, c.p, y_ref, ws_ref);
      cpu_ops().max_pool2d_forward(x, c.p, y_cpu, ws_cpu);
      EXPECT_MATCHES_REF("max_pool y", y_cpu, y_ref, kExact);
      EXPECT_EQ(ws_cpu.dtype(), DType::u8);
      const Tensor dy = random(y_shape, rng, layout);
      Tensor dx_ref = junk(c.x, layout), dx_cpu = junk(c.x, layout);
      ref_ops().max_pool2d_backward(dy, ws_ref, c.p, dx_ref);
      cpu_ops().max_pool2d_backward(dy, ws_cpu, c.p, dx_cpu);
      EXPECT_MATCHES_REF("max_pool dx", dx_cpu, dx_ref, kShortSum);
    }
  }
}

// Inputs drawn from {0, 1, 2} make ties common: the contract gives the gradient to the first maximum in
// (kh, kw) order, and padded taps never win even when every real tap is negative.
TEST(CpuMaxPool, TiesAndNegativeInputsFollowTheContract) {
  Rng rng(8);
  for (const PoolCase& c : pool_cases()) {
    const Shape y_shape = ops::pool2d_output_shape(c.x, c.p);
    for (Layout layout : kLayouts) {
      for (double offset : {0.0, -5.0}) {
        SCOPED_TRACE(describe(c, layout) + (offset < 0 ? " all negative" : " ties"));
        Tensor x = Tensor::empty(c.x, DType::f32, layout);
        for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, static_cast<double>(rng.below(3)) + offset);
        Tensor y_ref = junk(y_shape, layout), y_cpu = junk(y_shape, layout), ws_ref, ws_cpu;
        ref_ops().max_pool2d_forward(x, c.p, y_ref, ws_ref);
        cpu_ops().max_pool2d_forward(x, c.p, y_cpu, ws_cpu);
        EXPECT_MATCHES_REF("max_pool y (ties)", y_cpu, y_ref, kExact);
        const Tensor dy = random(y_shape, rng, layout);
        Tensor dx_ref = junk(c.x, layout), dx_cpu = junk(c.x, layout);
        ref_ops().max_pool2d_backward(dy, ws_ref, c.p, dx_ref);
        cpu_ops().max_pool2d_backward(dy, ws_cpu, c.p, dx_cpu);
        EXPECT_MATCHES_REF("max_pool dx (ties)", dx_cpu, dx_ref, kShortSum);
      }
    }
  }
}

TEST(CpuMaxPool, WorkspaceOfAnotherShapeIsRejected) {
  Rng rng(9);
  const ops::Pool2dParams p = pool_params(2, 2, 0);
  const Tensor x = random({2, 4, 8, 8}, rng);
  Tensor y = junk({2, 4, 4, 4}), ws;
  cpu_ops().max_pool2d_forward(x, p, y, ws);
  Tensor dx_other = junk({2, 4, 16, 16}), dy_other = junk({2, 4, 8, 8});
  EXPECT_THROW(cpu_ops().max_pool2d_backward(dy_other, ws, p, dx_other), CheckError);
}

TEST(CpuAvgPool, ForwardAndBackwardMatchRef) {
  Rng rng(10);
  for (PoolCase c : pool_cases()) {
    for (bool include_pad : {true, false}) {
      c.p.count_include_pad = include_pad;
      const Shape y_shape = ops::pool2d_output_shape(c.x, c.p);
      for (Layout layout : kLayouts) {
        SCOPED_TRACE(describe(c, layout) + (include_pad ? " count_include_pad" : " exclude pad"));
        const Tensor x = random(c.x, rng, layout);
        Tensor y_ref = junk(y_shape, layout), y_cpu = junk(y_shape, layout);
        ref_ops().avg_pool2d_forward(x, c.p, y_ref);
        cpu_ops().avg_pool2d_forward(x, c.p, y_cpu);
        EXPECT_MATCHES_REF("avg_pool y", y_cpu, y_ref, kShortSum);
        const Tensor dy = random(y_shape, rng, layout);
        Tensor dx_ref = junk(c.x, layout), dx_cpu = junk(c.x, layout);
        ref_ops().avg_pool2d_backward(dy, c.p, dx_ref);
        cpu_ops().avg_pool2d_backward(dy, c.p, dx_cpu);
        EXPECT_MATCHES_REF("avg_pool dx", dx_cpu, dx_ref, kShortSum);
      }
    }
  }
}

TEST(CpuGlobalAvgPool, ForwardAndBackwardMatchRef) {
  const Shape shapes[] = {{2, 3, 7, 5}, {1, 16, 8, 8}, {3, 8, 1, 1}, {2, 1, 13, 11}, {4, 64, 4, 4}};
  Rng rng(11);
  for (const Shape& shape : shapes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(shape, layout));
      const Shape y_shape{shape[0], shape[1]};
      const Tensor x = random(shape, rng, layout);
      Tensor y_ref = junk(y_shape), y_cpu = junk(y_shape);
      ref_ops().global_avg_pool_forward(x, y_ref);
      cpu_ops().global_avg_pool_forward(x, y_cpu);
      EXPECT_MATCHES_REF("global_avg_pool y", y_cpu, y_ref, kShortSum);
      const Tensor dy = random(y_shape, rng);
      Tensor dx_ref = junk(shape, layout), dx_cpu = junk(shape, layout);
      ref_ops().global_avg_pool_backward(dy, dx_ref);
      cpu_ops().global_avg_pool_backward(dy, dx_cpu);
      EXPECT_MATCHES_REF("global_avg_pool dx", dx_cpu, dx_ref, kShortSum);
    }
  }
}

// ============================================================================== linear and flatten

TEST(CpuLinear, ForwardAndBackwardMatchRef) {
  struct Case {
    int64_t batch, in, out;
  };
  const Case cases[] = {{1, 7, 3}, {5, 13, 10}, {32, 64, 10}, {3, 256, 17}, {2, 1, 1}};
  Rng rng(12);
  for (const Case& c : cases) {
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE("N" + std::to_string(c.batch) + " " + std::to_string(c.in) + "->" + std::to_string(c.out) +
                   (with_bias ? " bias" : " no bias"));
      const Tensor x = random({c.batch, c.in}, rng), w = random({c.out, c.in}, rng), b = random({c.out}, rng);
      const Tensor* bias = with_bias ? &b : nullptr;
      Tensor y_ref = junk({c.batch, c.out}), y_cpu = junk({c.batch, c.out});
      ref_ops().linear_forward(x, w, bias, y_ref);
      cpu_ops().linear_forward(x, w, bias, y_cpu);
      EXPECT_MATCHES_REF("linear y", y_cpu, y_ref, kConv);

      const Tensor dy = random({c.batch, c.out}, rng);
      Tensor dx_ref = junk(x.shape()), dw_ref = junk(w.shape()), db_ref = junk({c.out});
      Tensor dx_cpu = junk(x.shape()), dw_cpu = junk(w.shape()), db_cpu = junk({c.out});
      ref_ops().linear_backward(dy, x, w, &dx_ref, &dw_ref, with_bias ? &db_ref : nullptr);
      cpu_ops().linear_backward(dy, x, w, &dx_cpu, &dw_cpu, with_bias ? &db_cpu : nullptr);
      EXPECT_MATCHES_REF("linear dx", dx_cpu, dx_ref, kConv);
      EXPECT_MATCHES_REF("linear dweight", dw_cpu, dw_ref, kConv);
      if (with_bias) EXPECT_MATCHES_REF("linear dbias", db_cpu, db_ref, kConv);
      if (with_bias) {  // the bias gradient alone (diff_weights go to a sink)
        Tensor db_only = junk({c.out});
        cpu_ops().linear_backward(dy, x, w, nullptr, nullptr, &db_only);
        EXPECT_MATCHES_REF("linear dbias", db_only, db_ref, kConv);
      }
    }
  }
}

TEST(CpuFlatten, ForwardAndBackwardMatchRefExactly) {
  const Shape shapes[] = {{2, 3, 7, 5}, {1, 64, 1, 1}, {4, 16, 4, 4}, {3, 1, 5, 5}};
  Rng rng(13);
  for (const Shape& shape : shapes) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(shape, layout));
      const Shape flat{shape[0], shape[1] * shape[2] * shape[3]};
      const Tensor x = random(shape, rng, layout);
      Tensor y_ref = junk(flat), y_cpu = junk(flat);
      ref_ops().flatten_forward(x, y_ref);
      cpu_ops().flatten_forward(x, y_cpu);
      EXPECT_MATCHES_REF("flatten y", y_cpu, y_ref, kExact);
      const Tensor dy = random(flat, rng);
      Tensor dx_ref = junk(shape, layout), dx_cpu = junk(shape, layout);
      ref_ops().flatten_backward(dy, dx_ref);
      cpu_ops().flatten_backward(dy, dx_cpu);
      EXPECT_MATCHES_REF("flatten dx", dx_cpu, dx_ref, kExact);
    }
  }
}

// ====================================================================================== cross-entropy

TEST(CpuCrossEntropy, LossAndGradientMatchRefWithSmoothingAndWeights) {
  struct Case {
    int64_t rows, classes;
  };
  const Case cases[] = {{1, 2}, {8, 10}, {13, 7}, {128, 10}, {4, 1000}};
  Rng rng(14);
  for (const Case& c : cases) {
    const Tensor logits = random({c.rows, c.classes}, rng, Layout::contiguous, -6.0, 6.0);
    Tensor targets = Tensor::empty({c.rows}, DType::i64);
    for (int64_t i = 0; i < c.rows; ++i)
      targets.data<int64_t>()[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(c.classes)));
    const Tensor class_weights = random({c.classes}, rng, Layout::contiguous, 0.2, 2.0);
    for (double smoothing : {0.0, 0.1, 0.3}) {
      for (bool weighted : {false, true}) {
        SCOPED_TRACE("N" + std::to_string(c.rows) + " K" + std::to_string(c.classes) + " smoothing " +
                     std::to_string(smoothing) + (weighted ? " weighted" : ""));
        const ops::CrossEntropyParams p{.label_smoothing = smoothing,
                                        .class_weights = weighted ? &class_weights : nullptr};
        const double loss_ref = ref_ops().softmax_cross_entropy_forward(logits, targets, p);
        const double loss_cpu = cpu_ops().softmax_cross_entropy_forward(logits, targets, p);
        const double loss_err = std::abs(loss_cpu - loss_ref) / std::abs(loss_ref);
        WorstErrors::instance().record("cross_entropy loss", loss_err);
        EXPECT_LE(loss_err, kLossRelative) << loss_cpu << " vs " << loss_ref;
        const double dloss = 0.7;
        Tensor d_ref = junk(logits.shape()), d_cpu = junk(logits.shape());
        ref_ops().softmax_cross_entropy_backward(logits, targets, p, dloss, d_ref);
        cpu_ops().softmax_cross_entropy_backward(logits, targets, p, dloss, d_cpu);
        EXPECT_MATCHES_REF("cross_entropy dlogits", d_cpu, d_ref, kUlps);
      }
    }
  }
}

TEST(CpuCrossEntropy, TargetOutOfRangeIsAClearError) {
  const Tensor logits = Tensor::zeros({2, 3});
  Tensor targets = Tensor::empty({2}, DType::i64);
  targets.data<int64_t>()[0] = 1;
  targets.data<int64_t>()[1] = 3;
  try {
    cpu_ops().softmax_cross_entropy_forward(logits, targets, {});
    FAIL() << "no error";
  } catch (const CheckError& e) {
    EXPECT_NE(std::string(e.what()).find("target 3 of row 1"), std::string::npos) << e.what();
  }
}

// ============================================================================================ dropout

TEST(CpuDropout, MaskIsRefsForAnyLayoutAndThreadCount) {
  const Shape shapes[] = {{2, 3, 7, 5}, {1, 16, 13, 11}, {4, 8, 1, 1}, {64, 10}};
  Rng rng(15);
  const int default_threads = num_threads();
  for (const Shape& shape : shapes) {
    for (Layout layout : kLayouts) {
      if (layout == Layout::channels_last && shape.ndim() != 4) continue;
      for (double p : {0.0, 0.3, 0.9}) {
        SCOPED_TRACE(describe(shape, layout) + " p " + std::to_string(p));
        const uint64_t seed = rng.next_u64();
        const Tensor x = random(shape, rng, layout);
        Tensor y_ref = junk(shape, layout), mask_ref = Tensor::full(shape, 7, DType::u8, layout);
        ref_ops().dropout_forward(x, p, seed, y_ref, mask_ref);
        Tensor y1 = junk(shape, layout), mask1 = Tensor::full(shape, 7, DType::u8, layout);
        Tensor y2 = junk(shape, layout), mask2 = Tensor::full(shape, 7, DType::u8, layout);
        set_num_threads(1);
        cpu_ops().dropout_forward(x, p, seed, y1, mask1);
        set_num_threads(std::max(2, default_threads));
        cpu_ops().dropout_forward(x, p, seed, y2, mask2);
        set_num_threads(default_threads);
        EXPECT_MATCHES_REF("dropout mask", mask1, mask_ref, kExact);
        EXPECT_EQ(std::memcmp(mask1.raw(), mask2.raw(), mask1.nbytes()), 0) << "mask depends on threads";
        EXPECT_EQ(std::memcmp(y1.raw(), y2.raw(), y1.nbytes()), 0) << "y depends on threads";
        EXPECT_MATCHES_REF("dropout y", y1, y_ref, kUlps);

        // In place (y is x), then the backward (dx is dy).
        Tensor inplace = x.clone(layout), mask3 = Tensor::full(shape, 7, DType::u8, layout);
        cpu_ops().dropout_forward(inplace, p, seed, inplace, mask3);
        EXPECT_EQ(std::memcmp(inplace.raw(), y1.raw(), y1.nbytes()), 0) << "in-place forward differs";
        const Tensor dy = random(shape, rng, layout);
        Tensor dx_ref = junk(shape, layout), dx_cpu = junk(shape, layout);
        ref_ops().dropout_backward(dy, mask_ref, p, dx_ref);
        cpu_ops().dropout_backward(dy, mask1, p, dx_cpu);
        EXPECT_MATCHES_REF("dropout dx", dx_cpu, dx_ref, kUlps);
        Tensor dinplace = dy.clone(layout);
        cpu_ops().dropout_backward(dinplace, mask1, p, dinplace);
        EXPECT_EQ(std::memcmp(dinplace.raw(), dx_cpu.raw(), dx_cpu.nbytes()), 0)
            << "in-place backward differs";
      }
    }
  }
}

// ========================================================================================= shortcut A

TEST(CpuShortcutA, ForwardAndBackwardMatchRefExactly) {
  struct Case {
    Shape x;
    int64_t out_channels, stride;
  };
  const Case cases[] = {
      {{2, 16, 8, 8}, 32, 2},  // CIFAR ResNet stage change
      {{2, 3, 7, 5}, 8, 2},    // odd sizes: ceil(7/2) x ceil(5/2), 5 zero channels split 2 + 3
      {{1, 4, 6, 6}, 5, 1},    // stride 1, one zero channel at the back
      {{2, 6, 9, 9}, 6, 3},    // no new channels, stride 3
  };
  Rng rng(16);
  for (const Case& c : cases) {
    const Shape y_shape = ops::shortcut_a_output_shape(c.x, c.out_channels, c.stride);
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(describe(c.x, layout) + " -> " + y_shape.str());
      const Tensor x = random(c.x, rng, layout);
      Tensor y_ref = junk(y_shape, layout), y_cpu = junk(y_shape, layout);
      ref_ops().shortcut_a_forward(x, c.stride, y_ref);
      cpu_ops().shortcut_a_forward(x, c.stride, y_cpu);
      EXPECT_MATCHES_REF("shortcut_a y", y_cpu, y_ref, kExact);
      const Tensor dy = random(y_shape, rng, layout);
      Tensor dx_ref = junk(c.x, layout), dx_cpu = junk(c.x, layout);
      ref_ops().shortcut_a_backward(dy, c.stride, dx_ref);
      cpu_ops().shortcut_a_backward(dy, c.stride, dx_cpu);
      EXPECT_MATCHES_REF("shortcut_a dx", dx_cpu, dx_ref, kExact);
    }
  }
}

// =========================================================================== caching and contracts

// Runs every oneDNN-backed op once on fixed tensors (outputs allocated by the caller, as modules do).
struct EveryOp {
  Rng rng{17};
  Layout layout;
  Tensor x, w, b, y, dy, dx, dw, db;                                   // conv
  Tensor bn_w, bn_b, rm, rv, mean, var, bn_y, bn_dx, bn_dw, bn_db;     // batch norm
  Tensor relu_y, relu_dx, add_y, add_da;                               // elementwise
  Tensor pool_y, pool_dy, pool_dx, workspace, gap_y, gap_dx;           // pooling
  Tensor flat, fc_w, fc_b, fc_y, fc_dy, fc_dx, fc_dw, fc_db, flat_dx;  // linear, flatten
  ops::Conv2dParams conv_p = conv_params(1, 1, 1, 1);
  ops::Pool2dParams pool_p = pool_params(3, 2, 1);

  explicit EveryOp(Layout l) : layout(l) {
    const Shape act{4, 16, 9, 9};
    x = random(act, rng, layout), w = random({16, 16, 3, 3}, rng), b = random({16}, rng);
    y = junk(act, layout), dy = random(act, rng, layout), dx = junk(act, layout);
    dw = junk(w.shape()), db = junk({16});
    bn_w = random({16}, rng), bn_b = random({16}, rng), rm = Tensor::zeros({16}),
    rv = Tensor::full({16}, 1.0);
    mean = junk({16}), var = junk({16}), bn_y = junk(act, layout), bn_dx = junk(act, layout);
    bn_dw = junk({16}), bn_db = junk({16});
    relu_y = junk(act, layout), relu_dx = junk(act, layout), add_y = junk(act, layout),
    add_da = junk(act, layout);
    const Shape pooled = ops::pool2d_output_shape(act, pool_p);
    pool_y = junk(pooled, layout), pool_dy = random(pooled, rng, layout), pool_dx = junk(act, layout);
    gap_y = junk({4, 16}), gap_dx = junk(act, layout);
    flat = junk({4, 16 * 9 * 9}), flat_dx = junk(act, layout);
    fc_w = random({10, 16}, rng), fc_b = random({10}, rng), fc_y = junk({4, 10}),
    fc_dy = random({4, 10}, rng);
    fc_dx = junk({4, 16}), fc_dw = junk({10, 16}), fc_db = junk({10});
  }

  void run() {
    const ops::OpTable& ops = cpu_ops();
    ops.conv2d_forward(x, w, &b, conv_p, y);
    ops.conv2d_backward(dy, x, w, conv_p, &dx, &dw, &db);
    ops.batch_norm_forward_training(y, &bn_w, &bn_b, rm, rv, {}, bn_y, mean, var);
    ops.batch_norm_backward_training(dy, y, &bn_w, mean, var, {}, &bn_dx, &bn_dw, &bn_db);
    ops.batch_norm_forward_inference(y, &bn_w, &bn_b, rm, rv, {}, bn_y);
    ops.batch_norm_backward_inference(dy, y, &bn_w, rm, rv, {}, &bn_dx, &bn_dw, &bn_db);
    ops.relu_forward(bn_y, relu_y);
    ops.relu_backward(dy, relu_y, relu_dx);
    ops.add_forward(relu_y, x, add_y);
    ops.add_backward(dy, &add_da, nullptr);
    ops.max_pool2d_forward(add_y, pool_p, pool_y, workspace);
    ops.max_pool2d_backward(pool_dy, workspace, pool_p, pool_dx);
    ops.avg_pool2d_forward(add_y, pool_p, pool_y);
    ops.avg_pool2d_backward(pool_dy, pool_p, pool_dx);
    ops.global_avg_pool_forward(add_y, gap_y);
    ops.global_avg_pool_backward(fc_dx, gap_dx);
    ops.flatten_forward(add_y, flat);
    ops.flatten_backward(flat, flat_dx);
    ops.linear_forward(gap_y, fc_w, &fc_b, fc_y);
    ops.linear_backward(fc_dy, gap_y, fc_w, &fc_dx, &fc_dw, &fc_db);
  }
};

TEST(CpuCache, SecondCallCreatesNoPrimitiveAndAllocatesNothing) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EveryOp every(layout);
    every.run();  // first call: creates primitives, scratchpads, blocked weights, the pool workspace
    const int64_t primitives = ops::cpu::primitives_created();
    const int64_t allocations = memory_stats().system_allocations;
    for (int i = 0; i < 3; ++i) every.run();
    EXPECT_EQ(ops::cpu::primitives_created(), primitives) << "a repeated call created a oneDNN primitive";
    EXPECT_EQ(memory_stats().system_allocations, allocations) << "a repeated call allocated memory";
  }
}

TEST(CpuCache, NewShapeCreatesPrimitivesOnce) {
  Rng rng(18);
  const Tensor x = random({1, 8, 11, 3}, rng, Layout::channels_last), w = random({8, 8, 3, 3}, rng);
  Tensor y = junk({1, 8, 11, 3}, Layout::channels_last);
  const int64_t before = ops::cpu::primitives_created();
  cpu_ops().conv2d_forward(x, w, nullptr, conv_params(1, 1, 1, 1), y);
  const int64_t after_first = ops::cpu::primitives_created();
  EXPECT_GT(after_first, before);  // the conv, and a weights reorder when oneDNN wants a blocked format
  cpu_ops().conv2d_forward(x, w, nullptr, conv_params(1, 1, 1, 1), y);
  EXPECT_EQ(ops::cpu::primitives_created(), after_first);
}

TEST(CpuContracts, WrongTypeOrMixedLayoutsAreClearErrors) {
  Rng rng(19);
  const Tensor x64 = random({1, 2, 4, 4}, rng).to(DType::f64);
  const Tensor w = random({2, 2, 3, 3}, rng);
  Tensor y = junk({1, 2, 4, 4});
  try {
    cpu_ops().conv2d_forward(x64, w, nullptr, conv_params(1, 1, 1, 1), y);
    FAIL() << "no error for f64 input";
  } catch (const CheckError& e) {
    EXPECT_NE(std::string(e.what()).find("f32 only"), std::string::npos) << e.what();
  }
  const Tensor x = random({1, 2, 4, 4}, rng, Layout::channels_last);
  try {
    cpu_ops().conv2d_forward(x, w, nullptr, conv_params(1, 1, 1, 1), y);
    FAIL() << "no error for mixed layouts";
  } catch (const CheckError& e) {
    EXPECT_NE(std::string(e.what()).find("one layout"), std::string::npos) << e.what();
  }
  Tensor wrong_y = junk({1, 2, 3, 3});
  EXPECT_THROW(
      cpu_ops().conv2d_forward(random({1, 2, 4, 4}, rng), w, nullptr, conv_params(1, 1, 1, 1), wrong_y),
      CheckError);
}

}  // namespace
