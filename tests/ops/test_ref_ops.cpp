// The reference ops: finite-difference gradient checks (f64) for every op and differentiable input, in
// both layouts and mixed ones; every backward output pre-filled with NaN (proves overwrite) with f32
// checked against f64; hand-computed values that catch forward bugs a gradient check cannot (a forward
// and backward wrong in the same way); and the contract CHECKs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops/gradcheck.h"
#include "resnet/ops/backend.h"
#include "test_util.h"

using namespace resnet;
using resnet::testing::gradcheck;
using resnet::testing::max_rel_error;
using resnet::testing::nan_tensor;
using resnet::testing::Tensors;
namespace ref = resnet::ops::ref;

namespace {

constexpr Layout kNCHW = Layout::contiguous;
constexpr Layout kNHWC = Layout::channels_last;

// An op's input and output layouts, for the mixed-layout cases.
struct Layouts {
  Layout in, out;
};
constexpr Layouts kLayoutCombos[] = {{kNCHW, kNCHW}, {kNHWC, kNHWC}, {kNHWC, kNCHW}};

std::string tag(Layout layout) {
  return layout == kNHWC ? "nhwc" : "nchw";
}
// "x_nhwc.y_nchw" for a case whose input and output layouts differ, else "nhwc".
std::string tag(Layout in, Layout out) {
  return in == out ? tag(in) : "x_" + tag(in) + ".y_" + tag(out);
}

Tensor rand64(const Shape& s, Rng& rng, Layout layout = kNCHW, double lo = -1, double hi = 1) {
  return resnet::testing::random_tensor(s, rng, DType::f64, layout, lo, hi);
}

// Distinct values (a shuffled ramp with negatives), so no pooling window holds a tie that a nudge of the
// finite difference could flip, and padding must lose to negative values.
Tensor distinct64(const Shape& s, Rng& rng, Layout layout) {
  Tensor t = Tensor::empty(s, DType::f64, layout);
  std::vector<int64_t> perm(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) perm[i] = i;
  for (int64_t i = t.numel() - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, 0.01 * static_cast<double>(perm[i] - t.numel() / 2));
  return t;
}

// A f64 tensor with the given logical (row-major) values.
Tensor values64(const Shape& s, const std::vector<double>& v, Layout layout = kNCHW) {
  Tensor t = Tensor::empty(s, DType::f64, layout);
  EXPECT_EQ(static_cast<int64_t>(v.size()), t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, v[i]);
  return t;
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_EQ(static_cast<int64_t>(expected.size()), t.numel()) << t.str();
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_NEAR(t.get_flat(i), expected[i], tol) << "element " << i;
}

// ================================================================================ gradient checks

TEST(RefGrad, Conv2d) {
  struct Case {
    const char* name;
    Shape x, w;
    ops::Conv2dParams p;
    bool bias;
    Layout x_layout, y_layout;
  };
  const Case cases[] = {
      {"stride2_pad1_groups2_odd7x5",
       {2, 4, 7, 5},
       {6, 2, 3, 3},
       {.stride = {2, 2}, .padding = {1, 1}, .groups = 2},
       true,
       kNCHW,
       kNCHW},
      {"dilation2_pad2_batch1_nobias",
       {1, 3, 8, 7},
       {4, 3, 3, 3},
       {.padding = {2, 2}, .dilation = {2, 2}},
       false,
       kNHWC,
       kNHWC},
      {"depthwise_stride1x2_pad1x0",
       {2, 3, 5, 6},
       {3, 1, 3, 3},
       {.stride = {1, 2}, .padding = {1, 0}, .groups = 3},
       true,
       kNCHW,
       kNCHW},
      {"depthwise_multiplier2",
       {1, 2, 5, 5},
       {4, 1, 3, 3},
       {.padding = {1, 1}, .groups = 2},
       true,
       kNHWC,
       kNHWC},
      {"1x1_stride2_projection_nobias", {2, 3, 5, 5}, {4, 3, 1, 1}, {.stride = {2, 2}}, false, kNHWC, kNHWC},
      {"kernel2x3_dilation1x2_mixed_layouts",
       {2, 2, 6, 5},
       {3, 2, 2, 3},
       {.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}},
       true,
       kNHWC,
       kNCHW},
      {"stem7x7_stride2_pad3",
       {1, 1, 9, 9},
       {2, 1, 7, 7},
       {.stride = {2, 2}, .padding = {3, 3}},
       true,
       kNCHW,
       kNHWC},
  };
  for (const Case& k : cases) {
    Rng rng(3);
    Tensors inputs = {rand64(k.x, rng, k.x_layout), rand64(k.w, rng)};
    if (k.bias) inputs.push_back(rand64({k.w[0]}, rng));
    const Shape ys = ops::conv2d_output_shape(k.x, k.w, k.p);
    auto bias = [&](const Tensors& in) -> const Tensor* { return k.bias ? &in[2] : nullptr; };
    gradcheck(
        std::string("conv2d/") + k.name, inputs,
        [&](const Tensors& in) {
          Tensor y = nan_tensor(ys, k.y_layout);
          ref::conv2d_forward(in[0], in[1], bias(in), k.p, y);
          return Tensors{y};
        },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor dx = nan_tensor(k.x, k.x_layout), dw = nan_tensor(k.w), db = nan_tensor({k.w[0]});
          ref::conv2d_backward(dy[0], in[0], in[1], k.p, &dx, &dw, k.bias ? &db : nullptr);
          return k.bias ? Tensors{dx, dw, db} : Tensors{dx, dw};
        });
  }
}

TEST(RefGrad, BatchNorm) {
  struct Case {
    Shape x;
    bool training, affine;
    Layout x_layout, y_layout;
    ops::BatchNormParams p;
  };
  std::vector<Case> cases;
  for (bool training : {true, false})
    for (bool affine : {true, false})
      for (const Layouts& l : kLayoutCombos)
        cases.push_back({{3, 4, 3, 5}, training, affine, l.in, l.out, {}});
  // m = N·H·W = 4 (a BN after a 1×1 spatial map), with a larger eps and momentum.
  cases.push_back({{4, 3, 1, 1}, true, true, kNCHW, kNCHW, {.eps = 1e-3, .momentum = 0.3}});
  for (const Case& k : cases) {
    Rng rng(5);
    const Shape cs{k.x[1]};
    const Tensor running_mean = rand64(cs, rng, kNCHW, -0.2, 0.2),
                 running_var = rand64(cs, rng, kNCHW, 0.5, 1.5);
    Tensors inputs = {rand64(k.x, rng, k.x_layout, -2, 3)};
    if (k.affine) inputs.push_back(rand64(cs, rng)), inputs.push_back(rand64(cs, rng));
    auto param = [&](const Tensors& in, size_t i) -> const Tensor* { return k.affine ? &in[i] : nullptr; };
    // Training: y from the batch statistics (forward also updates copies of the running stats).
    auto train_forward = [&](const Tensors& in, Tensor& mean, Tensor& var) {
      Tensor y = nan_tensor(k.x, k.y_layout), rm = running_mean.clone(), rv = running_var.clone();
      mean = nan_tensor(cs), var = nan_tensor(cs);
      ref::batch_norm_forward_training(in[0], param(in, 1), param(in, 2), rm, rv, k.p, y, mean, var);
      return y;
    };
    const std::string name = std::string("batch_norm/") + (k.training ? "training" : "inference") +
                             (k.affine ? "" : "_affine_false") + "_" + tag(k.x_layout, k.y_layout) +
                             (k.x[2] == 1 ? "_m4_eps1e-3" : "");
    gradcheck(
        name, inputs,
        [&](const Tensors& in) {
          if (k.training) {
            Tensor mean, var;
            return Tensors{train_forward(in, mean, var)};
          }
          Tensor y = nan_tensor(k.x, k.y_layout);
          ref::batch_norm_forward_inference(in[0], param(in, 1), param(in, 2), running_mean, running_var, k.p,
                                            y);
          return Tensors{y};
        },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor dx = nan_tensor(k.x, k.x_layout), dw = nan_tensor(cs), db = nan_tensor(cs);
          Tensor* dweight = k.affine ? &dw : nullptr;
          Tensor* dbias = k.affine ? &db : nullptr;
          if (k.training) {
            Tensor mean, var;
            train_forward(in, mean, var);
            ref::batch_norm_backward_training(dy[0], in[0], param(in, 1), mean, var, k.p, &dx, dweight,
                                              dbias);
          } else {
            ref::batch_norm_backward_inference(dy[0], in[0], param(in, 1), running_mean, running_var, k.p,
                                               &dx, dweight, dbias);
          }
          return k.affine ? Tensors{dx, dw, db} : Tensors{dx};
        });
  }
}

TEST(RefGrad, Relu) {
  for (const Layouts& l : kLayoutCombos) {
    Rng rng(7);
    const Shape s{2, 3, 4, 5};
    // |x| >= 0.1, so a nudge of 1e-6 never crosses the kink at 0; alternate signs to cover both branches.
    Tensor x = rand64(s, rng, l.in, 0.1, 1.0);
    for (int64_t i = 0; i < x.numel(); i += 2) x.set_flat(i, -x.get_flat(i));
    auto forward = [&](const Tensors& in) {
      Tensor y = nan_tensor(s, l.out);
      ref::relu_forward(in[0], y);
      return y;
    };
    gradcheck(
        "relu/" + tag(l.in, l.out), {x}, [&](const Tensors& in) { return Tensors{forward(in)}; },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor dx = nan_tensor(s, l.in);
          ref::relu_backward(dy[0], forward(in), dx);
          return Tensors{dx};
        });
  }
}

TEST(RefGrad, Add) {
  struct Case {
    Layout a, b, y;
  };
  for (const Case& k : {Case{kNCHW, kNCHW, kNCHW}, Case{kNHWC, kNHWC, kNHWC}, Case{kNCHW, kNHWC, kNHWC}}) {
    Rng rng(8);
    const Shape s{2, 3, 4, 5};
    gradcheck(
        "add/a_" + tag(k.a) + ".b_" + tag(k.b) + ".y_" + tag(k.y), {rand64(s, rng, k.a), rand64(s, rng, k.b)},
        [&](const Tensors& in) {
          Tensor y = nan_tensor(s, k.y);
          ref::add_forward(in[0], in[1], y);
          return Tensors{y};
        },
        [&](const Tensors&, const Tensors& dy) {
          Tensor da = nan_tensor(s, k.a), db = nan_tensor(s, k.b);
          ref::add_backward(dy[0], &da, &db);
          return Tensors{da, db};
        });
  }
}

TEST(RefGrad, MaxPool) {
  struct Case {
    const char* name;
    Shape x;
    ops::Pool2dParams p;
    Layout x_layout, y_layout;
  };
  const Case cases[] = {
      {"k3_s2_pad1", {2, 2, 7, 6}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}, kNCHW, kNCHW},
      {"k3_s2_pad1", {2, 2, 7, 6}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}, kNHWC, kNHWC},
      {"k2_s2_odd5x5", {1, 3, 5, 5}, {.kernel = {2, 2}, .stride = {2, 2}}, kNHWC, kNCHW},
      {"k3x2_s1_pad1_overlapping",
       {2, 2, 4, 5},
       {.kernel = {3, 2}, .stride = {1, 1}, .padding = {1, 1}},
       kNCHW,
       kNHWC},
  };
  for (const Case& k : cases) {
    Rng rng(9);
    const Shape ys = ops::pool2d_output_shape(k.x, k.p);
    auto forward = [&](const Tensors& in, Tensor& workspace) {
      Tensor y = nan_tensor(ys, k.y_layout);
      ref::max_pool2d_forward(in[0], k.p, y, workspace);
      return y;
    };
    gradcheck(
        std::string("max_pool2d/") + k.name + "_" + tag(k.x_layout, k.y_layout),
        {distinct64(k.x, rng, k.x_layout)},
        [&](const Tensors& in) {
          Tensor workspace;
          return Tensors{forward(in, workspace)};
        },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor workspace, dx = nan_tensor(k.x, k.x_layout);
          forward(in, workspace);
          ref::max_pool2d_backward(dy[0], workspace, k.p, dx);
          return Tensors{dx};
        });
  }
}

TEST(RefGrad, AvgPool) {
  for (bool include_pad : {true, false})
    for (const Layouts& l : kLayoutCombos)
      for (const ops::Pool2dParams& shape_params :
           {ops::Pool2dParams{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
            ops::Pool2dParams{.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 1}}}) {
        Rng rng(10);
        ops::Pool2dParams p = shape_params;
        p.count_include_pad = include_pad;
        const Shape xs{2, 2, 7, 6}, ys = ops::pool2d_output_shape(xs, p);
        const std::string name = "avg_pool2d/k" + std::to_string(p.kernel[0]) + "x" +
                                 std::to_string(p.kernel[1]) + "_pad1_count_include_pad_" +
                                 (include_pad ? "true_" : "false_") + tag(l.in, l.out);
        gradcheck(
            name, {rand64(xs, rng, l.in)},
            [&](const Tensors& in) {
              Tensor y = nan_tensor(ys, l.out);
              ref::avg_pool2d_forward(in[0], p, y);
              return Tensors{y};
            },
            [&](const Tensors&, const Tensors& dy) {
              Tensor dx = nan_tensor(xs, l.in);
              ref::avg_pool2d_backward(dy[0], p, dx);
              return Tensors{dx};
            });
      }
}

TEST(RefGrad, GlobalAvgPool) {
  for (Layout layout : {kNCHW, kNHWC}) {
    Rng rng(11);
    const Shape xs{2, 3, 5, 3};
    gradcheck(
        "global_avg_pool/" + tag(layout), {rand64(xs, rng, layout)},
        [&](const Tensors& in) {
          Tensor y = nan_tensor({xs[0], xs[1]});
          ref::global_avg_pool_forward(in[0], y);
          return Tensors{y};
        },
        [&](const Tensors&, const Tensors& dy) {
          Tensor dx = nan_tensor(xs, layout);
          ref::global_avg_pool_backward(dy[0], dx);
          return Tensors{dx};
        });
  }
}

// Linear and cross-entropy take 2-D contiguous tensors only: there is no channels_last case for them.
TEST(RefGrad, Linear) {
  for (bool with_bias : {true, false}) {
    Rng rng(12);
    Tensors inputs = {rand64({3, 5}, rng), rand64({4, 5}, rng)};
    if (with_bias) inputs.push_back(rand64({4}, rng));
    gradcheck(
        with_bias ? "linear/bias" : "linear/no_bias", inputs,
        [&](const Tensors& in) {
          Tensor y = nan_tensor({3, 4});
          ref::linear_forward(in[0], in[1], with_bias ? &in[2] : nullptr, y);
          return Tensors{y};
        },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor dx = nan_tensor({3, 5}), dw = nan_tensor({4, 5}), db = nan_tensor({4});
          ref::linear_backward(dy[0], in[0], in[1], &dx, &dw, with_bias ? &db : nullptr);
          return with_bias ? Tensors{dx, dw, db} : Tensors{dx, dw};
        });
  }
}

TEST(RefGrad, Flatten) {
  for (Layout layout : {kNCHW, kNHWC}) {
    Rng rng(13);
    const Shape xs{2, 3, 2, 4};
    gradcheck(
        "flatten/" + tag(layout), {rand64(xs, rng, layout)},
        [&](const Tensors& in) {
          Tensor y = nan_tensor({2, 24});
          ref::flatten_forward(in[0], y);
          return Tensors{y};
        },
        [&](const Tensors&, const Tensors& dy) {
          Tensor dx = nan_tensor(xs, layout);
          ref::flatten_backward(dy[0], dx);
          return Tensors{dx};
        });
  }
}

TEST(RefGrad, CrossEntropy) {
  Rng rng(14);
  const Tensor class_weights = rand64({5}, rng, kNCHW, 0.2, 2.0);
  Tensor targets = Tensor::empty({4}, DType::i64);
  for (int64_t i = 0; i < 4; ++i) targets.data<int64_t>()[i] = (i * 3 + 1) % 5;
  for (double smoothing : {0.0, 0.1})
    for (bool weighted : {false, true}) {
      const ops::CrossEntropyParams p{.label_smoothing = smoothing,
                                      .class_weights = weighted ? &class_weights : nullptr};
      const std::string name = std::string("cross_entropy/") + (smoothing > 0 ? "smoothing0.1" : "plain") +
                               (weighted ? "_class_weights" : "");
      gradcheck(
          name, {rand64({4, 5}, rng, kNCHW, -3, 3)},
          [&](const Tensors& in) {
            Tensor loss = Tensor::empty({1}, DType::f64);
            loss.set_flat(0, ref::softmax_cross_entropy_forward(in[0], targets, p));
            return Tensors{loss};
          },
          [&](const Tensors& in, const Tensors& dloss) {
            Tensor dlogits = nan_tensor({4, 5});
            ref::softmax_cross_entropy_backward(in[0], targets, p, dloss[0].get_flat(0), dlogits);
            return Tensors{dlogits};
          });
    }
}

TEST(RefGrad, Dropout) {
  const double p = 0.3;
  const uint64_t seed = 42;
  for (Layout layout : {kNCHW, kNHWC}) {
    Rng rng(15);
    const Shape s{2, 3, 4, 4};
    auto forward = [&](const Tensors& in, Tensor& mask) {
      Tensor y = nan_tensor(s, layout);
      mask = Tensor::full(s, 7, DType::u8, layout);
      ref::dropout_forward(in[0], p, seed, y, mask);
      return y;
    };
    const Tensor x = rand64(s, rng, layout);
    gradcheck(
        "dropout/p0.3_" + tag(layout), {x},
        [&](const Tensors& in) {
          Tensor mask;
          return Tensors{forward(in, mask)};
        },
        [&](const Tensors& in, const Tensors& dy) {
          Tensor mask, dx = nan_tensor(s, layout);
          forward(in, mask);
          ref::dropout_backward(dy[0], mask, p, dx);
          return Tensors{dx};
        });
    // The gradient is exactly mask / (1 - p): with dy = 1 every element is 0 or 1/0.7.
    Tensor mask, dx = nan_tensor(s, layout);
    forward({x}, mask);
    ref::dropout_backward(Tensor::full(s, 1.0, DType::f64, layout), mask, p, dx);
    for (int64_t i = 0; i < s.numel(); ++i) ASSERT_EQ(dx.get_flat(i), mask.get_flat(i) / (1 - p)) << i;
  }
}

TEST(RefGrad, ShortcutA) {
  struct Case {
    int64_t out_channels, stride;
    Layout x_layout, y_layout;
  };
  const Case cases[] = {{6, 1, kNCHW, kNCHW}, {6, 2, kNCHW, kNCHW}, {6, 2, kNHWC, kNHWC},
                        {3, 2, kNHWC, kNCHW}, {8, 2, kNCHW, kNHWC}, {6, 3, kNCHW, kNCHW}};
  for (const Case& k : cases) {
    Rng rng(16);
    const Shape xs{2, 3, 5, 7}, ys = ops::shortcut_a_output_shape(xs, k.out_channels, k.stride);
    gradcheck(
        "shortcut_a/3to" + std::to_string(k.out_channels) + "_stride" + std::to_string(k.stride) +
            "_odd5x7_" + tag(k.x_layout, k.y_layout),
        {rand64(xs, rng, k.x_layout)},
        [&](const Tensors& in) {
          Tensor y = nan_tensor(ys, k.y_layout);
          ref::shortcut_a_forward(in[0], k.stride, y);
          return Tensors{y};
        },
        [&](const Tensors&, const Tensors& dy) {
          Tensor dx = nan_tensor(xs, k.x_layout);
          ref::shortcut_a_backward(dy[0], k.stride, dx);
          return Tensors{dx};
        });
  }
}

// The checker itself must catch a wrong backward, or every check above proves nothing.
TEST(RefGrad, CheckerCatchesAWrongBackward) {
  Rng rng(17);
  const Shape s{2, 3, 4, 5};
  const Tensor x = rand64(s, rng);
  auto forward = [&](const Tensors& in) {
    Tensor y = nan_tensor(s);
    ref::relu_forward(in[0], y);  // not differentiable at 0, but x has no exact zeros
    return Tensors{y};
  };
  auto scaled_backward = [&](double scale) {
    return [&, scale](const Tensors& in, const Tensors& dy) {
      Tensor dx = nan_tensor(s);
      for (int64_t i = 0; i < s.numel(); ++i)
        dx.set_flat(i, in[0].get_flat(i) > 0 ? scale * dy[0].get_flat(i) : 0.0);
      return Tensors{dx};
    };
  };
  resnet::testing::GradcheckOptions report_only;
  report_only.expect_within_tolerance = false;
  EXPECT_GT(gradcheck("checker/wrong_by_1%", {x}, forward, scaled_backward(1.01), report_only).worst, 5e-3);
  EXPECT_LE(gradcheck("checker/right", {x}, forward, scaled_backward(1.0)).worst, 1e-6);
}

// ================================================================================ hand-computed values

TEST(RefByHand, Conv2dOnAKnown4x4Image) {
  // x = 0..15 row by row, w = 1..9 row by row: an asymmetric kernel, so a flipped (true convolution) kernel
  // fails. Padding 1, y[0, 0] = 5·x00 + 6·x01 + 8·x10 + 9·x11 = 0 + 6 + 32 + 45 = 83; without padding,
  // y[0, 0] = Σ w·x over rows 0-2, cols 0-2 = 2 + 6 + 16 + 25 + 36 + 56 + 72 + 90 = 303.
  std::vector<double> ramp(16), kernel(9);
  for (int i = 0; i < 16; ++i) ramp[i] = i;
  for (int i = 0; i < 9; ++i) kernel[i] = i + 1;
  for (Layout layout : {kNCHW, kNHWC}) {
    SCOPED_TRACE(tag(layout));
    const Tensor x = values64({1, 1, 4, 4}, ramp, layout), w = values64({1, 1, 3, 3}, kernel);
    Tensor y = nan_tensor({1, 1, 4, 4}, layout);
    ref::conv2d_forward(x, w, nullptr, {.padding = {1, 1}}, y);
    expect_values(y, {83, 139, 178, 121, 198, 303, 348, 225, 330, 483, 528, 333, 181, 253, 274, 163});
    Tensor y_valid = nan_tensor({1, 1, 2, 2}, layout);
    const Tensor bias = values64({1}, {0.5});
    ref::conv2d_forward(x, w, &bias, {}, y_valid);
    expect_values(y_valid, {303.5, 348.5, 483.5, 528.5});
    Tensor y_strided = nan_tensor({1, 1, 2, 2}, layout);
    ref::conv2d_forward(x, w, nullptr, {.stride = {2, 2}, .padding = {1, 1}}, y_strided);
    expect_values(y_strided, {83, 178, 330, 528});
  }
}

TEST(RefByHand, Conv2dDilationAndGroups) {
  // Dilation 2 on a 5×5 ramp with w = [[1, 2], [3, 4]]: y[0, 0] = x00 + 2·x02 + 3·x20 + 4·x22
  // = 0 + 4 + 30 + 48 = 82, and each step right adds (1+2+3+4)·1, each step down (1+2+3+4)·5.
  std::vector<double> ramp(25);
  for (int i = 0; i < 25; ++i) ramp[i] = i;
  Tensor y = nan_tensor({1, 1, 3, 3});
  ref::conv2d_forward(values64({1, 1, 5, 5}, ramp), values64({1, 1, 2, 2}, {1, 2, 3, 4}), nullptr,
                      {.dilation = {2, 2}}, y);
  expect_values(y, {82, 92, 102, 132, 142, 152, 182, 192, 202});

  // Groups 2: output 0 sees input channels 0-1 only, output 1 channels 2-3 only.
  const Tensor x = values64({1, 4, 1, 1}, {1, 2, 3, 4}), w = values64({2, 2, 1, 1}, {1, 10, 100, 1000});
  Tensor yg = nan_tensor({1, 2, 1, 1});
  ref::conv2d_forward(x, w, nullptr, {.groups = 2}, yg);
  expect_values(yg, {1 * 1 + 10 * 2, 100 * 3 + 1000 * 4});
  // And the gradients stay within the groups: dx = w routed per group, dw = x of the group.
  Tensor dx = nan_tensor({1, 4, 1, 1}), dw = nan_tensor({2, 2, 1, 1}), db = nan_tensor({2});
  ref::conv2d_backward(values64({1, 2, 1, 1}, {1, -1}), x, w, {.groups = 2}, &dx, &dw, &db);
  expect_values(dx, {1, 10, -100, -1000});
  expect_values(dw, {1, 2, -3, -4});
  expect_values(db, {1, -1});
}

TEST(RefByHand, BatchNormTrainingStatisticsAndMomentum) {
  // Two channels, N = 2, H = 1, W = 2, so m = N·H·W = 4 (not N).
  //   channel 0: 1, 2 | 3, 6  -> mean 3, biased variance (4+1+0+9)/4 = 3.5, unbiased 14/3;
  //   channel 1: 0, 0 | 4, -4 -> mean 0, biased variance 32/4 = 8, unbiased 32/3.
  // Running stats start at (1, -1) and (2, 0.5); momentum 0.25:
  //   running_mean = 0.75·(1, -1) + 0.25·(3, 0) = (1.5, -0.75)
  //   running_var  = 0.75·(2, 0.5) + 0.25·(14/3, 32/3) = (8/3, 0.375 + 8/3).
  for (Layout layout : {kNCHW, kNHWC}) {
    SCOPED_TRACE(tag(layout));
    const Tensor x = values64({2, 2, 1, 2}, {1, 2, 0, 0, 3, 6, 4, -4}, layout);
    const Tensor weight = values64({2}, {2, 1}), bias = values64({2}, {0, 1});
    Tensor rm = values64({2}, {1, -1}), rv = values64({2}, {2, 0.5});
    Tensor y = nan_tensor({2, 2, 1, 2}, layout), mean = nan_tensor({2}), var = nan_tensor({2});
    ref::batch_norm_forward_training(x, &weight, &bias, rm, rv, {.eps = 0, .momentum = 0.25}, y, mean, var);
    expect_values(mean, {3, 0});
    expect_values(var, {3.5, 8});
    expect_values(rm, {1.5, -0.75});
    expect_values(rv, {8.0 / 3, 0.375 + 8.0 / 3});
    const double s0 = 2 / std::sqrt(3.5), s1 = 1 / std::sqrt(8.0);
    expect_values(y, {-2 * s0, -s0, 1, 1, 0, 3 * s0, 1 + 4 * s1, 1 - 4 * s1});
  }
  // f32 statistics tensors follow x's dtype.
  Tensor x32 = values64({4, 1, 1, 1}, {1, 2, 3, 6}).to(DType::f32), y32 = Tensor::empty({4, 1, 1, 1});
  Tensor rm = Tensor::full({1}, 1.0), rv = Tensor::full({1}, 2.0), m = Tensor::empty({1}),
         v = Tensor::empty({1});
  ref::batch_norm_forward_training(x32, nullptr, nullptr, rm, rv, {.eps = 0, .momentum = 0.1}, y32, m, v);
  EXPECT_FLOAT_EQ(rm.get_flat(0), 0.9 * 1 + 0.1 * 3);
  EXPECT_FLOAT_EQ(rv.get_flat(0), 0.9 * 2 + 0.1 * 14.0 / 3);
  EXPECT_FLOAT_EQ(y32.get_flat(3), 3 / std::sqrt(3.5));
}

TEST(RefByHand, BatchNormInferenceAndItsBackward) {
  // (x - 1) / sqrt(3 + 1) · 3 - 1 with running mean 1, var 3, eps 1: x = 5 gives 5, x = -3 gives -7.
  const Tensor x = values64({2, 1, 1, 1}, {5, -3}), w = values64({1}, {3}), b = values64({1}, {-1});
  const Tensor rm = values64({1}, {1}), rv = values64({1}, {3});
  Tensor y = nan_tensor({2, 1, 1, 1});
  ref::batch_norm_forward_inference(x, &w, &b, rm, rv, {.eps = 1}, y);
  expect_values(y, {5, -7});
  // The statistics are constants: dx = dy·w/2, dweight = Σ dy·x̂ = 1·2 + 2·(-2), dbias = Σ dy.
  Tensor dx = nan_tensor({2, 1, 1, 1}), dw = nan_tensor({1}), db = nan_tensor({1});
  ref::batch_norm_backward_inference(values64({2, 1, 1, 1}, {1, 2}), x, &w, rm, rv, {.eps = 1}, &dx, &dw,
                                     &db);
  expect_values(dx, {1.5, 3});
  expect_values(dw, {-2});
  expect_values(db, {3});
}

TEST(RefByHand, CrossEntropyOfKnownLogits) {
  // Two classes, logits (0, ln 3): p = (1/4, 3/4). Target 1: −ln(3/4). With smoothing 0.2 the target
  // distribution is (0.1, 0.9): −0.1·ln(1/4) − 0.9·ln(3/4). dlogits = p − onehot = (1/4, −1/4).
  Tensor logits = values64({1, 2}, {0, std::log(3.0)}), t = Tensor::zeros({1}, DType::i64);
  t.data<int64_t>()[0] = 1;
  EXPECT_NEAR(ref::softmax_cross_entropy_forward(logits, t, {}), -std::log(0.75), 1e-12);
  EXPECT_NEAR(ref::softmax_cross_entropy_forward(logits, t, {.label_smoothing = 0.2}),
              -0.1 * std::log(0.25) - 0.9 * std::log(0.75), 1e-12);
  Tensor d = nan_tensor({1, 2});
  ref::softmax_cross_entropy_backward(logits, t, {}, 2.0, d);
  expect_values(d, {0.5, -0.5});  // scaled by dloss = 2
}

TEST(RefByHand, CrossEntropyWithClassWeightsAndSmoothing) {
  // Sample 0: logits (0, 0, 0), p = 1/3 each, target 2. Sample 1: logits ln(1, 2, 5), p = (1, 2, 5)/8,
  // target 0. Class weights (2, 1, 0.5), so Σ w_target = 0.5 + 2 = 2.5 (PyTorch's weighted mean).
  const Tensor logits = values64({2, 3}, {0, 0, 0, 0, std::log(2.0), std::log(5.0)});
  const Tensor weights = values64({3}, {2, 1, 0.5});
  Tensor t = Tensor::empty({2}, DType::i64);
  t.data<int64_t>()[0] = 2, t.data<int64_t>()[1] = 0;
  const double nll = 0.5 * std::log(3.0) + 2 * std::log(8.0);
  EXPECT_NEAR(ref::softmax_cross_entropy_forward(logits, t, {.class_weights = &weights}), nll / 2.5, 1e-12);
  // Smoothing 0.1, K = 3: each sample adds (0.1/3)·Σ_k w_k·(−log p_k).
  const double smooth0 = (2 + 1 + 0.5) * std::log(3.0);
  const double smooth1 = 2 * std::log(8.0) + 1 * std::log(4.0) + 0.5 * std::log(8.0 / 5);
  EXPECT_NEAR(
      ref::softmax_cross_entropy_forward(logits, t, {.label_smoothing = 0.1, .class_weights = &weights}),
      (0.9 * nll + 0.1 / 3 * (smooth0 + smooth1)) / 2.5, 1e-12);
  // Unweighted mean over the two samples.
  EXPECT_NEAR(ref::softmax_cross_entropy_forward(logits, t, {}), (std::log(3.0) + std::log(8.0)) / 2, 1e-12);
}

TEST(RefByHand, CrossEntropyIsStableForLargeLogits) {
  const Tensor logits = values64({2, 2}, {1000, 0, 0, 1000});
  Tensor t = Tensor::zeros({2}, DType::i64);  // sample 0 right with certainty, sample 1 wrong by 1000
  EXPECT_NEAR(ref::softmax_cross_entropy_forward(logits, t, {}), 500, 1e-9);
  Tensor d = nan_tensor({2, 2});
  ref::softmax_cross_entropy_backward(logits, t, {}, 1.0, d);
  expect_values(d, {0, 0, -0.5, 0.5});
}

TEST(RefByHand, MaxPoolPaddingNeverWinsAndTiesGoToTheFirst) {
  // All-negative input: a zero-padded pool would output 0 at the borders.
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = -(i + 1);
  const ops::Pool2dParams p{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
  for (Layout layout : {kNCHW, kNHWC}) {
    SCOPED_TRACE(tag(layout));
    const Tensor x = values64({1, 1, 4, 4}, v, layout);
    Tensor y = nan_tensor({1, 1, 2, 2}, layout), workspace, dx = nan_tensor({1, 1, 4, 4}, layout);
    ref::max_pool2d_forward(x, p, y, workspace);
    expect_values(y, {-1, -2, -5, -6});
    ref::max_pool2d_backward(values64({1, 1, 2, 2}, {1, 2, 3, 4}, layout), workspace, p, dx);
    expect_values(dx, {1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  // Ties: overlapping 2×2 windows (stride 1) over equal values; each window's gradient goes to its first
  // element in (kh, kw) order, i.e. its top-left corner.
  const ops::Pool2dParams overlap{.kernel = {2, 2}, .stride = {1, 1}};
  Tensor y = nan_tensor({1, 1, 2, 2}), workspace, dx = nan_tensor({1, 1, 3, 3});
  ref::max_pool2d_forward(Tensor::full({1, 1, 3, 3}, 7.0, DType::f64), overlap, y, workspace);
  expect_values(y, {7, 7, 7, 7});
  ref::max_pool2d_backward(values64({1, 1, 2, 2}, {1, 10, 100, 1000}), workspace, overlap, dx);
  expect_values(dx, {1, 10, 0, 100, 1000, 0, 0, 0, 0});
  // A NaN in a window wins, as in PyTorch, so a NaN activation is not hidden.
  Tensor nan_in = values64({1, 1, 2, 2}, {1, NAN, 3, 2}), y1 = Tensor::zeros({1, 1, 1, 1}, DType::f64);
  ref::max_pool2d_forward(nan_in, {.kernel = {2, 2}, .stride = {2, 2}}, y1, workspace);
  EXPECT_TRUE(std::isnan(y1.get_flat(0)));
}

TEST(RefByHand, MaxPoolWorkspaceIsResizedByForward) {
  Tensor workspace = Tensor::zeros({3}, DType::f32);  // wrong shape and dtype from an earlier use
  Tensor y = nan_tensor({1, 2, 2, 2});
  ref::max_pool2d_forward(Tensor::zeros({1, 2, 4, 4}, DType::f64), {}, y, workspace);
  EXPECT_EQ(workspace.shape(), y.shape());
}

TEST(RefByHand, AvgPoolCountIncludePad) {
  // Ones 2×2, kernel 2, stride 1, padding 1 -> 3×3 windows holding 1, 2 or 4 real elements.
  for (Layout layout : {kNCHW, kNHWC}) {
    SCOPED_TRACE(tag(layout));
    const Tensor x = Tensor::full({1, 1, 2, 2}, 1.0, DType::f64, layout),
                 ones = Tensor::full({1, 1, 3, 3}, 1.0, DType::f64);
    Tensor y = nan_tensor({1, 1, 3, 3}, layout), dx = nan_tensor({1, 1, 2, 2}, layout);
    ops::Pool2dParams p{.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}, .count_include_pad = true};
    ref::avg_pool2d_forward(x, p, y);
    expect_values(y, {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25});
    // Each input element lies in four windows, each dividing by 4.
    ref::avg_pool2d_backward(ones, p, dx);
    expect_values(dx, {1, 1, 1, 1});
    p.count_include_pad = false;
    ref::avg_pool2d_forward(x, p, y);
    expect_values(y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    // x[0, 0] lies in windows with 1, 2, 2 and 4 real elements: 1 + 1/2 + 1/2 + 1/4.
    ref::avg_pool2d_backward(ones, p, dx);
    expect_values(dx, {2.25, 2.25, 2.25, 2.25});
  }
}

TEST(RefByHand, GlobalAvgPool) {
  const Tensor x = values64({1, 2, 2, 2}, {1, 2, 3, 4, -1, -1, -1, -1}, kNHWC);
  Tensor y = nan_tensor({1, 2}), dx = nan_tensor({1, 2, 2, 2}, kNHWC);
  ref::global_avg_pool_forward(x, y);
  expect_values(y, {2.5, -1});
  ref::global_avg_pool_backward(values64({1, 2}, {4, 8}), dx);
  expect_values(dx, {1, 1, 1, 1, 2, 2, 2, 2});
}

TEST(RefByHand, LinearAndFlattenOrder) {
  // y = x·wᵀ + b with x = (1, 2), w rows (1, 0), (0, 1), (1, 1), b = (0.5, 0, -1).
  const Tensor x = values64({1, 2}, {1, 2}), w = values64({3, 2}, {1, 0, 0, 1, 1, 1}),
               b = values64({3}, {0.5, 0, -1});
  Tensor y = nan_tensor({1, 3});
  ref::linear_forward(x, w, &b, y);
  expect_values(y, {1.5, 2, 2});
  Tensor dx = nan_tensor({1, 2}), dw = nan_tensor({3, 2}), db = nan_tensor({3});
  ref::linear_backward(values64({1, 3}, {1, 2, 3}), x, w, &dx, &dw, &db);
  expect_values(dx, {1 + 3, 2 + 3});
  expect_values(dw, {1, 2, 2, 4, 3, 6});
  expect_values(db, {1, 2, 3});

  // Flatten of a channels_last x must come out in PyTorch's (c, h, w) order, not in memory order.
  Tensor xf = Tensor::empty({1, 2, 2, 2}, DType::f64, kNHWC);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t w_ = 0; w_ < 2; ++w_) xf.at<double>({0, c, h, w_}) = 100 * c + 10 * h + w_;
  Tensor yf = nan_tensor({1, 8});
  ref::flatten_forward(xf, yf);
  expect_values(yf, {0, 1, 10, 11, 100, 101, 110, 111});
  Tensor dxf = nan_tensor({1, 2, 2, 2}, kNHWC);
  ref::flatten_backward(yf, dxf);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t w_ = 0; w_ < 2; ++w_) EXPECT_EQ(dxf.at<double>({0, c, h, w_}), 100 * c + 10 * h + w_);
}

TEST(RefByHand, ShortcutA) {
  // x [1, 2, 3, 3] = 0..17, stride 2, 5 output channels: front = (5-2)/2 = 1 zero channel, back = 2.
  std::vector<double> ramp(18);
  for (int i = 0; i < 18; ++i) ramp[i] = i;
  for (Layout layout : {kNCHW, kNHWC}) {
    SCOPED_TRACE(tag(layout));
    Tensor y = nan_tensor({1, 5, 2, 2}, layout);
    ref::shortcut_a_forward(values64({1, 2, 3, 3}, ramp, layout), 2, y);
    expect_values(y, {0, 0, 0, 0, 0, 2, 6, 8, 9, 11, 15, 17, 0, 0, 0, 0, 0, 0, 0, 0});
    std::vector<double> g(20);
    for (int i = 0; i < 20; ++i) g[i] = i + 1;
    Tensor dx = nan_tensor({1, 2, 3, 3}, layout);
    ref::shortcut_a_backward(values64({1, 5, 2, 2}, g, layout), 2, dx);
    expect_values(dx, {5, 0, 6, 0, 0, 0, 7, 0, 8, 9, 0, 10, 0, 0, 0, 11, 0, 12});
  }
}

TEST(RefByHand, ReluInPlaceZeroAndNaN) {
  Tensor x = values64({1, 5}, {-2, 0, 3, NAN, -0.0});
  ref::relu_forward(x, x);  // in place
  EXPECT_EQ(x.get_flat(0), 0);
  EXPECT_EQ(x.get_flat(1), 0);
  EXPECT_EQ(x.get_flat(2), 3);
  EXPECT_TRUE(std::isnan(x.get_flat(3)));  // PyTorch keeps NaN
  EXPECT_EQ(x.get_flat(4), 0);
  // dx = dy where y > 0 (and where y is NaN, as threshold_backward), 0 at y == 0; dx may alias dy.
  Tensor dy = values64({1, 5}, {1, 2, 3, 4, 5});
  ref::relu_backward(dy, x, dy);
  expect_values(dy, {0, 0, 3, 4, 0});
}

// The fused ops are defined as the two ops in a row: the same values, bit for bit, in f64 and f32.
TEST(RefByHand, BatchNormReluIsBatchNormThenRelu) {
  Rng rng(41);
  for (DType dtype : {DType::f64, DType::f32}) {
    for (Layout layout : {kNCHW, Layout::channels_last}) {
      const Shape shape{3, 4, 5, 2};
      const Tensor x = rand64(shape, rng, layout).to(dtype), dy = rand64(shape, rng, layout).to(dtype);
      const Tensor w = rand64({4}, rng, kNCHW, 0.5, 1.5).to(dtype), b = rand64({4}, rng).to(dtype);
      Tensor rm1 = Tensor::zeros({4}, dtype), rv1 = Tensor::full({4}, 1.0, dtype);
      Tensor rm2 = rm1.clone(), rv2 = rv1.clone();
      Tensor y1 = Tensor::empty(shape, dtype, layout), m1 = Tensor::empty({4}, dtype),
             v1 = Tensor::empty({4}, dtype);
      Tensor y2 = Tensor::empty(shape, dtype, layout), m2 = Tensor::empty({4}, dtype),
             v2 = Tensor::empty({4}, dtype);
      Tensor mask = Tensor::full({x.numel()}, 7.0, DType::u8);
      ref::batch_norm_forward_training(x, &w, &b, rm1, rv1, {}, y1, m1, v1);
      ref::relu_forward(y1, y1);
      ref::batch_norm_relu_forward_training(x, &w, &b, rm2, rv2, {}, y2, m2, v2, mask);
      EXPECT_EQ(max_rel_error(y2, y1), 0.0);
      EXPECT_EQ(max_rel_error(rv2, rv1), 0.0);
      int64_t passed = 0;
      for (int64_t i = 0; i < x.numel(); ++i) passed += mask.data<uint8_t>()[i];
      EXPECT_GT(passed, 0);
      EXPECT_LT(passed, x.numel());  // some of each, or the mask test below proves little

      Tensor g = Tensor::empty(shape, dtype, layout);
      ref::relu_backward(dy, y1, g);
      Tensor dx1 = Tensor::empty(shape, dtype, layout), dw1 = Tensor::empty({4}, dtype),
             db1 = Tensor::empty({4}, dtype);
      Tensor dx2 = Tensor::empty(shape, dtype, layout), dw2 = Tensor::empty({4}, dtype),
             db2 = Tensor::empty({4}, dtype);
      ref::batch_norm_backward_training(g, x, &w, m1, v1, {}, &dx1, &dw1, &db1);
      ref::batch_norm_relu_backward_training(dy, x, &w, m2, v2, mask, {}, &dx2, &dw2, &db2);
      EXPECT_EQ(max_rel_error(dx2, dx1), 0.0);
      EXPECT_EQ(max_rel_error(dw2, dw1), 0.0);
      EXPECT_EQ(max_rel_error(db2, db1), 0.0);
    }
  }
}

TEST(RefByHand, AddReluIsAddThenRelu) {
  Rng rng(42);
  for (DType dtype : {DType::f64, DType::f32}) {
    const Tensor a = rand64({2, 3, 4, 4}, rng).to(dtype), b = rand64({2, 3, 4, 4}, rng).to(dtype);
    Tensor y1 = Tensor::empty(a.shape(), dtype), y2 = a.clone();
    ref::add_forward(a, b, y1);
    ref::relu_forward(y1, y1);
    ref::add_relu_forward(y2, b, y2);  // in place over a
    EXPECT_EQ(max_rel_error(y2, y1), 0.0);
  }
}

TEST(RefByHand, DropoutMaskFormulaKeptFractionAndLayouts) {
  const Shape s{4, 8, 16, 16};
  const double p = 0.25;
  const uint64_t seed = 99;
  Rng rng(18);
  const Tensor x = resnet::testing::random_tensor(s, rng);
  Tensor y = Tensor::empty(s), mask = Tensor::empty(s, DType::u8);
  ref::dropout_forward(x, p, seed, y, mask);
  double kept = 0;
  for (int64_t i = 0; i < s.numel(); ++i) {
    const bool keep = counter_uniform(seed, static_cast<uint64_t>(i)) >= p;
    ASSERT_EQ(mask.get_flat(i), keep ? 1 : 0) << i;
    ASSERT_FLOAT_EQ(y.get_flat(i), keep ? x.get_flat(i) / (1 - p) : 0.0) << i;
    kept += keep;
  }
  // 32768 Bernoulli(0.75) draws: the kept fraction has standard deviation 0.0024; allow about 4 of them.
  EXPECT_NEAR(kept / static_cast<double>(s.numel()), 1 - p, 0.01);
  // The same mask, element by element, in channels_last (the mask follows the logical index).
  Tensor y_cl = Tensor::empty(s, DType::f32, kNHWC), mask_cl = Tensor::empty(s, DType::u8, kNHWC);
  ref::dropout_forward(x.clone(kNHWC), p, seed, y_cl, mask_cl);
  EXPECT_EQ(max_rel_error(mask_cl, mask), 0.0);
  EXPECT_EQ(max_rel_error(y_cl, y), 0.0);
  // p = 0 copies x and keeps everything.
  ref::dropout_forward(x, 0.0, seed, y, mask);
  EXPECT_EQ(max_rel_error(y, x), 0.0);
  for (int64_t i = 0; i < s.numel(); ++i) ASSERT_EQ(mask.get_flat(i), 1);
}

// ========================================================= overwrite (NaN prefill) and the f32 path

// Runs one op's forward and backward in `dtype` with every output pre-filled with NaN; returns all outputs.
using OpRun = std::function<Tensors(DType dtype)>;

// Inputs drawn from a fixed seed and rounded to f32, so the f32 and f64 runs see identical values.
Tensor input(const Shape& s, Rng& rng, DType dtype, Layout layout = kNCHW, double lo = -1, double hi = 1) {
  Tensor t = Tensor::empty(s, dtype, layout);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, static_cast<float>(rng.uniform(lo, hi)));
  return t;
}
Tensor junk(const Shape& s, DType dtype, Layout layout = kNCHW) {
  return Tensor::full(s, NAN, dtype, layout);
}

// Every output written (no NaN left) in both types, and f32 equal to f64 up to f32 rounding: both
// accumulate in double, so they differ by the final rounding (~6e-8) plus, for batch-norm backward, the
// statistics saved in f32.
void expect_overwritten_and_f32_matches_f64(const OpRun& run) {
  const Tensors f32 = run(DType::f32), f64 = run(DType::f64);
  ASSERT_EQ(f32.size(), f64.size());
  for (size_t k = 0; k < f32.size(); ++k) {
    for (const Tensor* t : {&f32[k], &f64[k]}) {
      int64_t nans = 0;
      for (int64_t i = 0; i < t->numel(); ++i) nans += std::isnan(t->get_flat(i));
      EXPECT_EQ(nans, 0) << "output " << k << " " << t->str()
                         << " still holds NaN: not every element written";
    }
    EXPECT_CLOSE(f32[k], f64[k], 1e-6);
  }
}

TEST(RefOverwrite, Conv2d) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(20);
    const ops::Conv2dParams p{.stride = {2, 2}, .padding = {1, 1}, .groups = 2};
    const Shape xs{2, 4, 5, 5}, ws{4, 2, 3, 3}, ys = ops::conv2d_output_shape(xs, ws, p);
    const Tensor x = input(xs, rng, dt, kNHWC), w = input(ws, rng, dt), b = input({4}, rng, dt);
    const Tensor dy = input(ys, rng, dt);
    Tensor y = junk(ys, dt), dx = junk(xs, dt, kNHWC), dw = junk(ws, dt), db = junk({4}, dt);
    ref::conv2d_forward(x, w, &b, p, y);
    ref::conv2d_backward(dy, x, w, p, &dx, &dw, &db);
    return Tensors{y, dx, dw, db};
  });
}

TEST(RefOverwrite, BatchNorm) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(21);
    const Shape xs{2, 4, 3, 5}, cs{4};
    const Tensor x = input(xs, rng, dt, kNHWC, -2, 3), w = input(cs, rng, dt), b = input(cs, rng, dt);
    const Tensor dy = input(xs, rng, dt, kNHWC);
    Tensor rm = input(cs, rng, dt), rv = input(cs, rng, dt, kNCHW, 0.5, 1.5);
    Tensor y = junk(xs, dt, kNHWC), mean = junk(cs, dt), var = junk(cs, dt);
    ref::batch_norm_forward_training(x, &w, &b, rm, rv, {}, y, mean, var);
    Tensor dx = junk(xs, dt, kNHWC), dw = junk(cs, dt), db = junk(cs, dt);
    ref::batch_norm_backward_training(dy, x, &w, mean, var, {}, &dx, &dw, &db);
    Tensor y_eval = junk(xs, dt), dx_eval = junk(xs, dt), dw_eval = junk(cs, dt), db_eval = junk(cs, dt);
    ref::batch_norm_forward_inference(x, &w, &b, rm, rv, {}, y_eval);
    ref::batch_norm_backward_inference(dy, x, &w, rm, rv, {}, &dx_eval, &dw_eval, &db_eval);
    Tensor dx_plain = junk(xs, dt);  // affine = false
    ref::batch_norm_backward_training(dy, x, nullptr, mean, var, {}, &dx_plain, nullptr, nullptr);
    return Tensors{y, mean, var, rm, rv, dx, dw, db, y_eval, dx_eval, dw_eval, db_eval, dx_plain};
  });
}

TEST(RefOverwrite, ReluAndAdd) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(22);
    const Shape s{2, 3, 4, 5};
    const Tensor x = input(s, rng, dt), other = input(s, rng, dt, kNHWC), dy = input(s, rng, dt, kNHWC);
    Tensor y = junk(s, dt), dx = junk(s, dt, kNHWC), sum = junk(s, dt, kNHWC), da = junk(s, dt),
           db = junk(s, dt, kNHWC);
    ref::relu_forward(x, y);
    ref::relu_backward(dy, y, dx);
    ref::add_forward(x, other, sum);
    ref::add_backward(dy, &da, &db);
    return Tensors{y, dx, sum, da, db};
  });
}

TEST(RefOverwrite, Pools) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(23);
    const Shape xs{2, 3, 7, 6};
    const ops::Pool2dParams mp{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
    const ops::Pool2dParams ap_in{
        .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .count_include_pad = true};
    ops::Pool2dParams ap_ex = ap_in;
    ap_ex.count_include_pad = false;
    const Shape ys = ops::pool2d_output_shape(xs, mp);
    const Tensor x = input(xs, rng, dt, kNHWC), dy = input(ys, rng, dt, kNHWC), dg = input({2, 3}, rng, dt);
    Tensor ym = junk(ys, dt, kNHWC), workspace, dxm = junk(xs, dt, kNHWC);
    ref::max_pool2d_forward(x, mp, ym, workspace);
    ref::max_pool2d_backward(dy, workspace, mp, dxm);
    Tensor ya = junk(ys, dt), dxa = junk(xs, dt), yb = junk(ys, dt), dxb = junk(xs, dt, kNHWC);
    ref::avg_pool2d_forward(x, ap_in, ya);
    ref::avg_pool2d_backward(dy, ap_in, dxa);
    ref::avg_pool2d_forward(x, ap_ex, yb);
    ref::avg_pool2d_backward(dy, ap_ex, dxb);
    Tensor yg = junk({2, 3}, dt), dxg = junk(xs, dt, kNHWC);
    ref::global_avg_pool_forward(x, yg);
    ref::global_avg_pool_backward(dg, dxg);
    return Tensors{ym, dxm, ya, dxa, yb, dxb, yg, dxg};
  });
}

TEST(RefOverwrite, LinearFlattenCrossEntropy) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(24);
    const Tensor x = input({3, 5}, rng, dt), w = input({4, 5}, rng, dt), b = input({4}, rng, dt);
    const Tensor dy = input({3, 4}, rng, dt), cw = input({4}, rng, dt, kNCHW, 0.5, 2);
    Tensor y = junk({3, 4}, dt), dx = junk({3, 5}, dt), dw = junk({4, 5}, dt), db = junk({4}, dt);
    ref::linear_forward(x, w, &b, y);
    ref::linear_backward(dy, x, w, &dx, &dw, &db);
    const Tensor xf = input({2, 3, 2, 2}, rng, dt, kNHWC), dyf = input({2, 12}, rng, dt);
    Tensor yf = junk({2, 12}, dt), dxf = junk({2, 3, 2, 2}, dt, kNHWC);
    ref::flatten_forward(xf, yf);
    ref::flatten_backward(dyf, dxf);
    Tensor targets = Tensor::empty({3}, DType::i64);
    for (int64_t i = 0; i < 3; ++i) targets.data<int64_t>()[i] = i;
    const ops::CrossEntropyParams p{.label_smoothing = 0.1, .class_weights = &cw};
    Tensor loss = Tensor::full({1}, ref::softmax_cross_entropy_forward(y, targets, p), dt);
    Tensor dlogits = junk({3, 4}, dt);
    ref::softmax_cross_entropy_backward(y, targets, p, 0.5, dlogits);
    return Tensors{y, dx, dw, db, yf, dxf, loss, dlogits};
  });
}

TEST(RefOverwrite, DropoutAndShortcut) {
  expect_overwritten_and_f32_matches_f64([](DType dt) {
    Rng rng(25);
    const Shape s{2, 3, 5, 7}, ys = ops::shortcut_a_output_shape(s, 6, 2);
    const Tensor x = input(s, rng, dt, kNHWC), dy = input(s, rng, dt), dys = input(ys, rng, dt, kNHWC);
    Tensor y = junk(s, dt, kNHWC), mask = Tensor::full(s, 7, DType::u8, kNHWC), dx = junk(s, dt);
    ref::dropout_forward(x, 0.4, 5, y, mask);
    ref::dropout_backward(dy, mask, 0.4, dx);
    Tensor ysc = junk(ys, dt), dxs = junk(s, dt, kNHWC);
    ref::shortcut_a_forward(x, 2, ysc);
    ref::shortcut_a_backward(dys, 2, dxs);
    return Tensors{y, mask, dx, ysc, dxs};
  });
}

// ================================================================================ contract CHECKs

TEST(RefContract, RejectsWrongShapesDtypesAndNulls) {
  const Tensor x = Tensor::zeros({2, 4, 5, 5}), w = Tensor::zeros({6, 4, 3, 3});
  Tensor y = Tensor::zeros({2, 6, 3, 3});
  Tensor y_bad = Tensor::zeros({2, 6, 5, 5}), y64 = Tensor::zeros({2, 6, 3, 3}, DType::f64);
  EXPECT_NO_THROW(ref::conv2d_forward(x, w, nullptr, {}, y));
  EXPECT_THROW(ref::conv2d_forward(x, w, nullptr, {}, y_bad), CheckError);
  EXPECT_THROW(ref::conv2d_forward(x, w, nullptr, {}, y64), CheckError);
  const Tensor bias_bad = Tensor::zeros({5});
  EXPECT_THROW(ref::conv2d_forward(x, w, &bias_bad, {}, y), CheckError);
  EXPECT_THROW(ref::conv2d_forward(x, w, nullptr, {.groups = 3}, y), CheckError);
  const Tensor xb = Tensor::zeros({2, 4, 5, 5}, DType::bf16), wb = Tensor::zeros({6, 4, 3, 3}, DType::bf16);
  Tensor yb = Tensor::zeros({2, 6, 3, 3}, DType::bf16);
  EXPECT_THROW(ref::conv2d_forward(xb, wb, nullptr, {}, yb), CheckError);
  Tensor dw_bad = Tensor::zeros({6, 4, 3, 1});
  EXPECT_THROW(ref::conv2d_backward(y, x, w, {}, nullptr, &dw_bad, nullptr), CheckError);

  // Batch norm: dweight without affine parameters, statistics of the wrong type, m == 1.
  const Shape cs{4};
  Tensor xs = Tensor::zeros({1, 4, 1, 1}), ys = Tensor::zeros({1, 4, 1, 1});
  Tensor rm = Tensor::zeros(cs), rv = Tensor::full(cs, 1.0), m = Tensor::zeros(cs), v = Tensor::zeros(cs);
  EXPECT_THROW(ref::batch_norm_forward_training(xs, nullptr, nullptr, rm, rv, {}, ys, m, v), CheckError);
  Tensor dx = Tensor::zeros(x.shape()), dweight = Tensor::zeros(cs), xx = Tensor::zeros(x.shape());
  EXPECT_THROW(ref::batch_norm_backward_training(xx, x, nullptr, m, v, {}, &dx, &dweight, nullptr),
               CheckError);
  Tensor m64 = Tensor::zeros(cs, DType::f64);
  EXPECT_THROW(ref::batch_norm_backward_training(xx, x, nullptr, m64, v, {}, &dx, nullptr, nullptr),
               CheckError);

  // Cross-entropy: targets out of range, not i64, class weights of another dtype.
  const Tensor logits = Tensor::zeros({2, 3});
  Tensor t = Tensor::zeros({2}, DType::i64);
  t.data<int64_t>()[1] = 3;
  EXPECT_THROW(ref::softmax_cross_entropy_forward(logits, t, {}), CheckError);
  EXPECT_THROW(ref::softmax_cross_entropy_forward(logits, Tensor::zeros({2}, DType::s32), {}), CheckError);
  t.data<int64_t>()[1] = 2;
  const Tensor cw64 = Tensor::full({3}, 1.0, DType::f64);
  EXPECT_NO_THROW(ref::softmax_cross_entropy_forward(logits, t, {}));
  EXPECT_THROW(ref::softmax_cross_entropy_forward(logits, t, {.class_weights = &cw64}), CheckError);

  // Pools and the rest.
  Tensor workspace, yp = Tensor::zeros({2, 4, 2, 2}), dxp = Tensor::zeros(x.shape());
  EXPECT_THROW(ref::max_pool2d_backward(yp, workspace, {}, dxp), CheckError);  // no forward ran
  EXPECT_THROW(ref::avg_pool2d_forward(x, {}, y), CheckError);
  Tensor mask_f32 = Tensor::zeros(x.shape()), yd = Tensor::zeros(x.shape());
  EXPECT_THROW(ref::dropout_forward(x, 0.5, 1, yd, mask_f32), CheckError);
  Tensor mask = Tensor::zeros(x.shape(), DType::u8);
  EXPECT_THROW(ref::dropout_forward(x, 1.0, 1, yd, mask), CheckError);
  Tensor ysc = Tensor::zeros({2, 3, 3, 3});
  EXPECT_THROW(ref::shortcut_a_forward(x, 2, ysc), CheckError);  // drops a channel
  Tensor undefined;
  EXPECT_THROW(ref::relu_forward(undefined, yd), CheckError);
  EXPECT_THROW(ref::add_forward(x, Tensor::zeros({2, 4, 5, 4}), yd), CheckError);
  const Tensor lw = Tensor::zeros({3, 7});
  Tensor ly = Tensor::zeros({2, 3});
  EXPECT_THROW(ref::linear_forward(Tensor::zeros({2, 6}), lw, nullptr, ly), CheckError);
}

}  // namespace
