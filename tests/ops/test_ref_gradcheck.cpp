// The reference ops against finite differences, in f64, plus hand-computed cases.
//
// For an op y = f(x₁, x₂, …) the test takes L = Σ R ⊙ y for a fixed random R, gets ∂L/∂xₖ from the op's
// backward (fed dy = R) and compares every element with the central difference
// (L(x + h·e) − L(x − h·e)) / 2h, h = 1e-6. In f64 the truncation error is O(h²) ≈ 1e-12 and the rounding
// error about 1e-16·|L| / h ≈ 1e-9, so a correct backward agrees to ~1e-8 of the largest gradient; the
// tolerance is 1e-6, while any wrong term in a backward errs by 1e-2 or more.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "resnet/ops/backend.h"
#include "test_util.h"

using namespace resnet;
using resnet::testing::max_rel_error;

namespace {

using Tensors = std::vector<Tensor>;

struct GradCase {
  Tensors inputs;                                         // f64; the ones to differentiate
  std::function<Tensors(const Tensors& inputs)> forward;  // returns the outputs
  std::function<Tensors(const Tensors& inputs, const Tensors& douts)> backward;  // one gradient per input
};

double loss(const Tensors& outputs, const Tensors& weights) {
  double l = 0;
  for (size_t k = 0; k < outputs.size(); ++k)
    for (int64_t i = 0; i < outputs[k].numel(); ++i) l += outputs[k].get_flat(i) * weights[k].get_flat(i);
  return l;
}

// Returns the worst relative error over all inputs (each relative to its gradient's largest magnitude).
double gradcheck(const GradCase& c, uint64_t seed = 1) {
  Rng rng(seed);
  const Tensors y = c.forward(c.inputs);
  Tensors weights;
  for (const Tensor& t : y) weights.push_back(resnet::testing::random_tensor(t.shape(), rng, DType::f64));
  const Tensors analytic = c.backward(c.inputs, weights);
  double worst = 0;
  const double h = 1e-6;
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    Tensor numeric = Tensor::empty(c.inputs[k].shape(), DType::f64);
    for (int64_t i = 0; i < c.inputs[k].numel(); ++i) {
      const double v = c.inputs[k].get_flat(i);
      c.inputs[k].set_flat(i, v + h);
      const double plus = loss(c.forward(c.inputs), weights);
      c.inputs[k].set_flat(i, v - h);
      const double minus = loss(c.forward(c.inputs), weights);
      c.inputs[k].set_flat(i, v);
      numeric.set_flat(i, (plus - minus) / (2 * h));
    }
    const double err = max_rel_error(analytic[k], numeric);
    EXPECT_LE(err, 1e-6) << "input " << k << " of shape " << c.inputs[k].shape();
    worst = std::max(worst, err);
  }
  return worst;
}

Tensor rand64(const Shape& s, Rng& rng, Layout layout = Layout::contiguous, double lo = -1, double hi = 1) {
  return resnet::testing::random_tensor(s, rng, DType::f64, layout, lo, hi);
}
Tensor empty64(const Shape& s, Layout layout = Layout::contiguous) {
  return Tensor::full(s, NAN, DType::f64, layout);
}

void report(const char* op, double worst) {
  std::printf("[ gradcheck ] %-28s worst relative error %.1e\n", op, worst);
}

TEST(RefGradcheck, Conv2d) {
  struct Case {
    Shape x, w;
    ops::Conv2dParams p;
    bool bias;
    Layout layout;
  };
  const Case cases[] = {
      {{2, 4, 7, 5},
       {6, 2, 3, 3},
       {.stride = {2, 2}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 2},
       true,
       Layout::contiguous},
      {{1, 3, 8, 7},
       {4, 3, 3, 3},
       {.stride = {1, 1}, .padding = {2, 2}, .dilation = {2, 2}, .groups = 1},
       false,
       Layout::channels_last},
      {{2, 3, 5, 6},
       {3, 1, 3, 3},
       {.stride = {1, 2}, .padding = {1, 0}, .dilation = {1, 1}, .groups = 3},
       true,
       Layout::contiguous},  // depthwise, asymmetric stride and padding
      {{1, 2, 5, 5},
       {3, 2, 1, 1},
       {.stride = {2, 2}, .padding = {0, 0}, .dilation = {1, 1}, .groups = 1},
       false,
       Layout::channels_last},  // 1×1 projection
  };
  double worst = 0;
  for (const Case& k : cases) {
    Rng rng(3);
    GradCase c;
    c.inputs = {rand64(k.x, rng, k.layout), rand64(k.w, rng)};
    if (k.bias) c.inputs.push_back(rand64({k.w[0]}, rng));
    const Shape ys = ops::conv2d_output_shape(k.x, k.w, k.p);
    c.forward = [&](const Tensors& in) {
      Tensor y = empty64(ys, k.layout);
      ops::ref::conv2d_forward(in[0], in[1], k.bias ? &in[2] : nullptr, k.p, y);
      return Tensors{y};
    };
    c.backward = [&](const Tensors& in, const Tensors& dy) {
      Tensor dx = empty64(k.x, k.layout), dw = empty64(k.w), db = empty64({k.w[0]});
      ops::ref::conv2d_backward(dy[0].clone(k.layout), in[0], in[1], k.p, &dx, &dw, k.bias ? &db : nullptr);
      return k.bias ? Tensors{dx, dw, db} : Tensors{dx, dw};
    };
    worst = std::max(worst, gradcheck(c));
  }
  report("conv2d", worst);
}

TEST(RefGradcheck, BatchNormTrainingAndInference) {
  double worst = 0;
  for (bool affine : {true, false})
    for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
      Rng rng(5);
      const Shape xs{3, 4, 3, 5}, cs{4};
      const Tensor rm = rand64(cs, rng, Layout::contiguous, -0.2, 0.2),
                   rv = rand64(cs, rng, Layout::contiguous, 0.5, 1.5);
      GradCase train;
      train.inputs = {rand64(xs, rng, layout, -2, 3)};
      if (affine) train.inputs.push_back(rand64(cs, rng)), train.inputs.push_back(rand64(cs, rng));
      auto wb = [&](const Tensors& in, int k) { return affine ? &in[k] : nullptr; };
      train.forward = [&](const Tensors& in) {
        Tensor y = empty64(xs, layout), m = empty64(cs), v = empty64(cs), rm2 = rm.clone(), rv2 = rv.clone();
        ops::ref::batch_norm_forward_training(in[0], wb(in, 1), wb(in, 2), rm2, rv2, {}, y, m, v);
        return Tensors{y};
      };
      train.backward = [&](const Tensors& in, const Tensors& dy) {
        Tensor y = empty64(xs, layout), m = empty64(cs), v = empty64(cs), rm2 = rm.clone(), rv2 = rv.clone();
        ops::ref::batch_norm_forward_training(in[0], wb(in, 1), wb(in, 2), rm2, rv2, {}, y, m, v);
        Tensor dx = empty64(xs, layout), dw = empty64(cs), db = empty64(cs);
        ops::ref::batch_norm_backward_training(dy[0], in[0], wb(in, 1), m, v, {}, &dx, affine ? &dw : nullptr,
                                               affine ? &db : nullptr);
        return affine ? Tensors{dx, dw, db} : Tensors{dx};
      };
      worst = std::max(worst, gradcheck(train));

      GradCase eval = train;
      eval.forward = [&](const Tensors& in) {
        Tensor y = empty64(xs, layout);
        ops::ref::batch_norm_forward_inference(in[0], wb(in, 1), wb(in, 2), rm, rv, {}, y);
        return Tensors{y};
      };
      eval.backward = [&](const Tensors& in, const Tensors& dy) {
        Tensor dx = empty64(xs, layout), dw = empty64(cs), db = empty64(cs);
        ops::ref::batch_norm_backward_inference(dy[0], in[0], wb(in, 1), rm, rv, {}, &dx,
                                                affine ? &dw : nullptr, affine ? &db : nullptr);
        return affine ? Tensors{dx, dw, db} : Tensors{dx};
      };
      worst = std::max(worst, gradcheck(eval));
    }
  report("batch_norm (train, eval)", worst);
}

TEST(RefGradcheck, ReluAddAndShortcut) {
  double worst = 0;
  for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
    Rng rng(7);
    const Shape s{2, 3, 4, 5};
    // Keep ReLU inputs away from its kink so the finite difference does not straddle it.
    Tensor x = rand64(s, rng, layout, 0.1, 1.0);
    for (int64_t i = 0; i < x.numel(); i += 2) x.set_flat(i, -x.get_flat(i));
    GradCase relu{{x},
                  [&](const Tensors& in) {
                    Tensor y = empty64(s, layout);
                    ops::ref::relu_forward(in[0], y);
                    return Tensors{y};
                  },
                  [&](const Tensors& in, const Tensors& dy) {
                    Tensor y = empty64(s, layout), dx = empty64(s, layout);
                    ops::ref::relu_forward(in[0], y);
                    ops::ref::relu_backward(dy[0], y, dx);
                    return Tensors{dx};
                  }};
    worst = std::max(worst, gradcheck(relu));

    GradCase add{{rand64(s, rng, layout), rand64(s, rng)},
                 [&](const Tensors& in) {
                   Tensor y = empty64(s, layout);
                   ops::ref::add_forward(in[0], in[1], y);
                   return Tensors{y};
                 },
                 [&](const Tensors& in, const Tensors& dy) {
                   Tensor da = empty64(s, layout), db = empty64(s);
                   ops::ref::add_backward(dy[0], &da, &db);
                   return Tensors{da, db};
                 }};
    worst = std::max(worst, gradcheck(add));

    for (int64_t stride : {1, 2}) {
      const Shape xs{2, 3, 5, 7};
      const Shape ys = ops::shortcut_a_output_shape(xs, 6, stride);
      GradCase sc{{rand64(xs, rng, layout)},
                  [&](const Tensors& in) {
                    Tensor y = empty64(ys, layout);
                    ops::ref::shortcut_a_forward(in[0], stride, y);
                    return Tensors{y};
                  },
                  [&](const Tensors&, const Tensors& dy) {
                    Tensor dx = empty64(xs, layout);
                    ops::ref::shortcut_a_backward(dy[0], stride, dx);
                    return Tensors{dx};
                  }};
      worst = std::max(worst, gradcheck(sc));
    }
  }
  report("relu, add, shortcut_a", worst);
}

TEST(RefGradcheck, Pools) {
  double worst = 0;
  for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
    Rng rng(9);
    const Shape xs{2, 2, 7, 6};
    // Distinct values (a shuffled ramp) so no window has a tie that a nudge could flip.
    Tensor x = Tensor::empty(xs, DType::f64, layout);
    std::vector<int64_t> perm(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) perm[i] = i;
    for (int64_t i = x.numel() - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
    for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, 0.01 * static_cast<double>(perm[i]));
    const ops::Pool2dParams mp{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
    const Shape ms = ops::pool2d_output_shape(xs, mp);
    GradCase maxpool{{x},
                     [&](const Tensors& in) {
                       Tensor y = empty64(ms, layout), ws;
                       ops::ref::max_pool2d_forward(in[0], mp, y, ws);
                       return Tensors{y};
                     },
                     [&](const Tensors& in, const Tensors& dy) {
                       Tensor y = empty64(ms, layout), ws, dx = empty64(xs, layout);
                       ops::ref::max_pool2d_forward(in[0], mp, y, ws);
                       ops::ref::max_pool2d_backward(dy[0], ws, mp, dx);
                       return Tensors{dx};
                     }};
    worst = std::max(worst, gradcheck(maxpool));

    for (bool include_pad : {true, false}) {
      const ops::Pool2dParams ap{
          .kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 1}, .count_include_pad = include_pad};
      const Shape as = ops::pool2d_output_shape(xs, ap);
      GradCase avg{{rand64(xs, rng, layout)},
                   [&](const Tensors& in) {
                     Tensor y = empty64(as, layout);
                     ops::ref::avg_pool2d_forward(in[0], ap, y);
                     return Tensors{y};
                   },
                   [&](const Tensors&, const Tensors& dy) {
                     Tensor dx = empty64(xs, layout);
                     ops::ref::avg_pool2d_backward(dy[0], ap, dx);
                     return Tensors{dx};
                   }};
      worst = std::max(worst, gradcheck(avg));
    }

    GradCase gap{{rand64(xs, rng, layout)},
                 [&](const Tensors& in) {
                   Tensor y = empty64({xs[0], xs[1]});
                   ops::ref::global_avg_pool_forward(in[0], y);
                   return Tensors{y};
                 },
                 [&](const Tensors&, const Tensors& dy) {
                   Tensor dx = empty64(xs, layout);
                   ops::ref::global_avg_pool_backward(dy[0], dx);
                   return Tensors{dx};
                 }};
    worst = std::max(worst, gradcheck(gap));
  }
  report("max/avg/global pools", worst);
}

TEST(RefGradcheck, LinearFlattenDropout) {
  Rng rng(11);
  double worst = 0;
  GradCase linear{{rand64({3, 5}, rng), rand64({4, 5}, rng), rand64({4}, rng)},
                  [](const Tensors& in) {
                    Tensor y = empty64({3, 4});
                    ops::ref::linear_forward(in[0], in[1], &in[2], y);
                    return Tensors{y};
                  },
                  [](const Tensors& in, const Tensors& dy) {
                    Tensor dx = empty64({3, 5}), dw = empty64({4, 5}), db = empty64({4});
                    ops::ref::linear_backward(dy[0], in[0], in[1], &dx, &dw, &db);
                    return Tensors{dx, dw, db};
                  }};
  worst = std::max(worst, gradcheck(linear));

  const Shape fs{2, 3, 2, 4};
  GradCase flatten{{rand64(fs, rng, Layout::channels_last)},
                   [&](const Tensors& in) {
                     Tensor y = empty64({2, 24});
                     ops::ref::flatten_forward(in[0], y);
                     return Tensors{y};
                   },
                   [&](const Tensors&, const Tensors& dy) {
                     Tensor dx = empty64(fs, Layout::channels_last);
                     ops::ref::flatten_backward(dy[0], dx);
                     return Tensors{dx};
                   }};
  worst = std::max(worst, gradcheck(flatten));

  const Shape ds{2, 3, 4, 4};
  GradCase dropout{{rand64(ds, rng)},
                   [&](const Tensors& in) {
                     Tensor y = empty64(ds), mask = Tensor::empty(ds, DType::u8);
                     ops::ref::dropout_forward(in[0], 0.3, 42, y, mask);
                     return Tensors{y};
                   },
                   [&](const Tensors& in, const Tensors& dy) {
                     Tensor y = empty64(ds), mask = Tensor::empty(ds, DType::u8), dx = empty64(ds);
                     ops::ref::dropout_forward(in[0], 0.3, 42, y, mask);
                     ops::ref::dropout_backward(dy[0], mask, 0.3, dx);
                     return Tensors{dx};
                   }};
  worst = std::max(worst, gradcheck(dropout));
  report("linear, flatten, dropout", worst);
}

TEST(RefGradcheck, CrossEntropy) {
  Rng rng(13);
  const Tensor weights = rand64({5}, rng, Layout::contiguous, 0.2, 2.0);
  Tensor targets = Tensor::empty({4}, DType::i64);
  for (int64_t i = 0; i < 4; ++i) targets.data<int64_t>()[i] = (i * 3 + 1) % 5;
  double worst = 0;
  for (double smoothing : {0.0, 0.15})
    for (bool weighted : {false, true}) {
      const ops::CrossEntropyParams p{.label_smoothing = smoothing,
                                      .class_weights = weighted ? &weights : nullptr};
      GradCase ce{{rand64({4, 5}, rng, Layout::contiguous, -3, 3)},
                  [&](const Tensors& in) {
                    Tensor l = Tensor::empty({1}, DType::f64);
                    l.data<double>()[0] = ops::ref::softmax_cross_entropy_forward(in[0], targets, p);
                    return Tensors{l};
                  },
                  [&](const Tensors& in, const Tensors& dy) {
                    Tensor d = empty64({4, 5});
                    ops::ref::softmax_cross_entropy_backward(in[0], targets, p, dy[0].get_flat(0), d);
                    return Tensors{d};
                  }};
      worst = std::max(worst, gradcheck(ce));
    }
  report("softmax_cross_entropy", worst);
}

// ---------------------------------------------------------------------------------- by hand

TEST(RefByHand, Conv2dOnAKnownImage) {
  // 4×4 ramp 0..15 with a 3×3 kernel of ones except a 2 in the centre, padding 1: the top-left output sees
  // x[0,0]·2 + x[0,1] + x[1,0] + x[1,1] = 0 + 1 + 4 + 5 = 10; the one at (1,1) sees the full window
  // 0+1+2+4+5·2+6+8+9+10 = 50.
  Tensor x = Tensor::empty({1, 1, 4, 4}), w = Tensor::full({1, 1, 3, 3}, 1.0),
         y = Tensor::empty({1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.set_flat(i, i);
  w.at<float>({0, 0, 1, 1}) = 2;
  ops::ref::conv2d_forward(x, w, nullptr, {.padding = {1, 1}}, y);
  EXPECT_EQ(y.at<float>({0, 0, 0, 0}), 10.f);
  EXPECT_EQ(y.at<float>({0, 0, 1, 1}), 50.f);
}

TEST(RefByHand, BatchNormRunningStatistics) {
  // One channel, values 1, 2, 3, 6: mean 3, biased variance (4+1+0+9)/4 = 3.5, unbiased 14/3.
  Tensor x = Tensor::empty({4, 1, 1, 1}), y = Tensor::empty({4, 1, 1, 1});
  const float v[] = {1, 2, 3, 6};
  for (int i = 0; i < 4; ++i) x.set_flat(i, v[i]);
  Tensor rm = Tensor::full({1}, 1.0), rv = Tensor::full({1}, 2.0), m = Tensor::empty({1}),
         var = Tensor::empty({1});
  ops::ref::batch_norm_forward_training(x, nullptr, nullptr, rm, rv, {.eps = 0, .momentum = 0.25}, y, m, var);
  EXPECT_FLOAT_EQ(m.get_flat(0), 3.0);
  EXPECT_FLOAT_EQ(var.get_flat(0), 3.5);
  EXPECT_FLOAT_EQ(rm.get_flat(0), 0.75 * 1 + 0.25 * 3);
  EXPECT_FLOAT_EQ(rv.get_flat(0), 0.75 * 2 + 0.25 * 14.0 / 3);
  EXPECT_FLOAT_EQ(y.get_flat(3), 3 / std::sqrt(3.5));
}

TEST(RefByHand, CrossEntropyOfKnownLogits) {
  // Two classes, logits (0, ln 3): p = (1/4, 3/4). Target 1: −ln(3/4). With smoothing 0.2 the target
  // distribution is (0.1, 0.9): −0.1·ln(1/4) − 0.9·ln(3/4).
  Tensor logits = Tensor::empty({1, 2}), t = Tensor::zeros({1}, DType::i64);
  logits.set_flat(0, 0);
  logits.set_flat(1, std::log(3.0));
  t.data<int64_t>()[0] = 1;
  EXPECT_NEAR(ops::ref::softmax_cross_entropy_forward(logits, t, {}), -std::log(0.75), 1e-7);
  EXPECT_NEAR(ops::ref::softmax_cross_entropy_forward(logits, t, {.label_smoothing = 0.2}),
              -0.1 * std::log(0.25) - 0.9 * std::log(0.75), 1e-7);
  Tensor d = Tensor::empty({1, 2});
  ops::ref::softmax_cross_entropy_backward(logits, t, {}, 1.0, d);
  EXPECT_NEAR(d.get_flat(0), 0.25, 1e-7);
  EXPECT_NEAR(d.get_flat(1), -0.25, 1e-7);
}

TEST(RefByHand, DropoutKeepsAboutOneMinusPAndIsLayoutIndependent) {
  const Shape s{4, 8, 16, 16};
  Tensor x = Tensor::full(s, 1.0), y = Tensor::empty(s), mask = Tensor::empty(s, DType::u8);
  ops::ref::dropout_forward(x, 0.25, 99, y, mask);
  double kept = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) kept += mask.get_flat(i);
  // 8192 Bernoulli(0.75) draws: standard deviation of the fraction 0.0048; allow 4 of them.
  EXPECT_NEAR(kept / mask.numel(), 0.75, 0.02);
  EXPECT_FLOAT_EQ(y.get_flat(0), mask.get_flat(0) ? 1 / 0.75 : 0);
  Tensor x_cl = x.clone(Layout::channels_last), y_cl = Tensor::empty(s, DType::f32, Layout::channels_last);
  Tensor mask_cl = Tensor::empty(s, DType::u8, Layout::channels_last);
  ops::ref::dropout_forward(x_cl, 0.25, 99, y_cl, mask_cl);
  EXPECT_LE(max_rel_error(mask_cl, mask), 0.0);
}

TEST(RefByHand, BackwardOutputsAreOverwrittenNotAccumulated) {
  // Outputs pre-filled with NaN: any element not written stays NaN and fails the comparison.
  Rng rng(17);
  const Tensor x = resnet::testing::random_tensor({2, 4, 5, 5}, rng),
               w = resnet::testing::random_tensor({4, 2, 3, 3}, rng);
  const ops::Conv2dParams p{.stride = {2, 2}, .padding = {1, 1}, .groups = 2};
  const Tensor dy = resnet::testing::random_tensor(ops::conv2d_output_shape(x.shape(), w.shape(), p), rng);
  Tensor dx = Tensor::full(x.shape(), NAN), dw = Tensor::full(w.shape(), NAN), db = Tensor::full({4}, NAN);
  ops::ref::conv2d_backward(dy, x, w, p, &dx, &dw, &db);
  for (const Tensor* t : {&dx, &dw, &db})
    for (int64_t i = 0; i < t->numel(); ++i) ASSERT_FALSE(std::isnan(t->get_flat(i)));
  Tensor bdx = Tensor::full(x.shape(), NAN), bdw = Tensor::full({4}, NAN), bdb = Tensor::full({4}, NAN);
  Tensor m = Tensor::empty({4}), v = Tensor::empty({4}), rm = Tensor::zeros({4}), rv = Tensor::full({4}, 1.0);
  Tensor y = Tensor::empty(x.shape()), g = Tensor::full({4}, 1.0), b = Tensor::zeros({4});
  const Tensor xx = resnet::testing::random_tensor({2, 4, 5, 5}, rng);
  ops::ref::batch_norm_forward_training(xx, &g, &b, rm, rv, {}, y, m, v);
  ops::ref::batch_norm_backward_training(xx, xx, &g, m, v, {}, &bdx, &bdw, &bdb);
  for (const Tensor* t : {&bdx, &bdw, &bdb})
    for (int64_t i = 0; i < t->numel(); ++i) ASSERT_FALSE(std::isnan(t->get_flat(i)));
}

}  // namespace
