// explain/evaluation.h: deletion and insertion curves checked against probabilities computed by hand on a
// linear two-class model, and a faithful map beating random maps.
#include <gtest/gtest.h>

#include <cmath>

#include "resnet/explain/evaluation.h"
#include "test_util.h"

using namespace resnet;

namespace {

// logit 0 = Σ w·x over the pixels, logit 1 = 0: the target-0 probability is sigmoid(Σ w·x).
explain::LogitsFn linear(const std::vector<float>& w) {
  return [w](const Tensor& x) {
    const int64_t n = x.size(0), per = x.numel() / n;
    Tensor z = Tensor::zeros({n, 2});
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t e = 0; e < per; ++e) s += w[static_cast<size_t>(e)] * x.data<float>()[i * per + e];
      z.data<float>()[i * 2] = static_cast<float>(s);
    }
    return z;
  };
}

double sigmoid(double s) {
  return 1 / (1 + std::exp(-s));
}

TEST(DeletionInsertion, CurvesAreTheProbabilitiesStepByStep) {
  const std::vector<float> w{1.0f, -2.0f, 0.5f, 3.0f};
  Tensor x = Tensor::empty({1, 1, 2, 2}), map = Tensor::empty({1, 2, 2});
  const float xv[] = {0.8f, 0.3f, -0.4f, 0.6f}, mv[] = {0.2f, 0.9f, 0.1f, 0.9f};
  std::copy_n(xv, 4, x.data<float>());
  std::copy_n(mv, 4, map.data<float>());
  const Tensor zeros = Tensor::zeros({1, 1, 2, 2}), halves = Tensor::full({1, 1, 2, 2}, 0.5);
  const explain::Curves c =
      explain::deletion_insertion(linear(w), x, zeros, halves, map, {0}, {.steps = 4, .chunk = 3});
  // The order: pixel 1 and 3 tie at .9 (lower index first), then 0, then 2.
  const int order[] = {1, 3, 0, 2};
  double kept[4] = {0.8, 0.3, -0.4, 0.6}, canvas[4] = {0.5, 0.5, 0.5, 0.5};
  std::vector<double> del, ins;
  for (int k = 0; k <= 4; ++k) {
    if (k > 0) kept[order[k - 1]] = 0, canvas[order[k - 1]] = xv[order[k - 1]];
    double sd = 0, si = 0;
    for (int p = 0; p < 4; ++p) sd += w[p] * kept[p], si += w[p] * canvas[p];
    del.push_back(sigmoid(sd)), ins.push_back(sigmoid(si));
    EXPECT_NEAR(c.deletion.data<float>()[k], del.back(), 1e-6) << "step " << k;
    EXPECT_NEAR(c.insertion.data<float>()[k], ins.back(), 1e-6) << "step " << k;
  }
  double area_d = 0, area_i = 0;
  for (int k = 0; k < 4; ++k) area_d += (del[k] + del[k + 1]) / 8, area_i += (ins[k] + ins[k + 1]) / 8;
  EXPECT_NEAR(c.deletion_auc[0], area_d, 1e-6);
  EXPECT_NEAR(c.insertion_auc[0], area_i, 1e-6);
}

TEST(DeletionInsertion, AFaithfulMapBeatsRandomMaps) {
  const int64_t h = 8, w = 8;
  std::vector<float> weights(h * w);
  Tensor x = Tensor::empty({3, 1, h, w});
  for (int64_t e = 0; e < h * w; ++e) weights[e] = static_cast<float>(std::sin(0.7 * e));
  for (int64_t e = 0; e < x.numel(); ++e)
    x.data<float>()[e] = static_cast<float>(0.6 + 0.4 * std::cos(0.3 * e));
  // Gradient × input of logit 0 is w·x: the exact contribution of each pixel.
  Tensor faithful = Tensor::empty({3, h, w});
  for (int64_t e = 0; e < faithful.numel(); ++e)
    faithful.data<float>()[e] = weights[e % (h * w)] * x.data<float>()[e];
  const Tensor zeros = Tensor::zeros(x.shape());
  const explain::Curves good =
      explain::deletion_insertion(linear(weights), x, zeros, zeros, faithful, {0, 0, 0}, {.steps = 16});
  const explain::Curves random = explain::deletion_insertion(
      linear(weights), x, zeros, zeros, explain::random_map(3, h, w, 1), {0, 0, 0}, {.steps = 16});
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(good.deletion_auc[i], random.deletion_auc[i] - 0.1) << i;
    EXPECT_GT(good.insertion_auc[i], random.insertion_auc[i] + 0.1) << i;
  }
  // The importance of a gradient is its magnitude; of gradient × input, its signed channel sum.
  Tensor a = Tensor::empty({1, 2, 1, 1});
  a.data<float>()[0] = -3.0f, a.data<float>()[1] = 1.0f;
  EXPECT_FLOAT_EQ(explain::importance_map(explain::Method::saliency, a).data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(explain::importance_map(explain::Method::gradient_x_input, a).data<float>()[0], -2.0f);
}

}  // namespace
