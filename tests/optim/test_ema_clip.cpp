// EMA and gradient clipping (optim/ema.h, optim/grad_clip.h) against their formulas computed here in
// double, on a small Linear layer.
#include <gtest/gtest.h>

#include <cmath>

#include "resnet/nn/layers.h"
#include "resnet/optim/ema.h"
#include "resnet/optim/grad_clip.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

// Gives every parameter of a 5→3 Linear a gradient (one backward of a random dy).
void with_gradients(nn::Linear& layer, Rng& rng) {
  layer.train();
  const Tensor& y = layer.forward(random_tensor({4, 5}, rng));
  layer.backward(random_tensor(y.shape(), rng, DType::f32, Layout::contiguous, -3.0, 3.0));
}

TEST(GradClip, ScalesTheGlobalNormDownToTheLimitAndKeepsTheDirection) {
  Rng rng(5);
  nn::Linear layer(5, 3);
  with_gradients(layer, rng);
  std::vector<std::vector<double>> before;
  double sq = 0;
  for (auto& [name, p] : layer.named_parameters()) {
    before.emplace_back();
    for (int64_t i = 0; i < p->grad().numel(); ++i) {
      before.back().push_back(p->grad().get_flat(i));
      sq += before.back().back() * before.back().back();
    }
  }
  const double norm = std::sqrt(sq), limit = norm / 4;
  EXPECT_NEAR(optim::clip_grad_norm(layer, limit), norm, 1e-9 * norm);
  size_t k = 0;
  for (auto& [name, p] : layer.named_parameters()) {
    for (int64_t i = 0; i < p->grad().numel(); ++i)
      EXPECT_NEAR(p->grad().get_flat(i), before[k][static_cast<size_t>(i)] * limit / (norm + 1e-6), 1e-6);
    ++k;
  }
  // Under the limit: untouched.
  const double first = layer.weight().grad().get_flat(0);
  optim::clip_grad_norm(layer, 1e9);
  EXPECT_EQ(layer.weight().grad().get_flat(0), first);
}

TEST(Ema, BlendsEveryParameterTowardsTheModel) {
  Rng rng(6);
  nn::Linear model(5, 3), average(5, 3);
  for (auto& [name, p] : model.named_parameters()) fill_uniform(p->value(), rng);
  for (auto& [name, p] : average.named_parameters()) fill_uniform(p->value(), rng);
  const double a0 = average.weight().value().get_flat(2), m0 = model.weight().value().get_flat(2);
  optim::update_ema(average, model, 0.9);
  EXPECT_NEAR(average.weight().value().get_flat(2), 0.9 * a0 + 0.1 * m0, 1e-6);
  nn::Linear other(5, 4);
  EXPECT_THROW(optim::update_ema(other, model, 0.9), CheckError);
}

}  // namespace
}  // namespace resnet::testing
