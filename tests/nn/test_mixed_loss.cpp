// Mixup/CutMix's loss (nn::MixedCrossEntropyLoss) against its formula written out here in double:
// λ·CE(a) + (1−λ)·CE(b), gradient (softmax − (λ·onehot(a) + (1−λ)·onehot(b))) / N.
#include <gtest/gtest.h>

#include <cmath>

#include "resnet/nn/loss.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

TEST(MixedCrossEntropy, MatchesTheBlendOfTwoLabelsInValueAndGradient) {
  Rng rng(8);
  const int64_t n = 4, k = 5;
  const Tensor logits = random_tensor({n, k}, rng, DType::f32, Layout::contiguous, -2.0, 2.0);
  Tensor a = Tensor::empty({n}, DType::i64), b = Tensor::empty({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) a.data<int64_t>()[i] = i % k, b.data<int64_t>()[i] = (3 * i + 1) % k;
  const double lambda = 0.3;
  double expected = 0;
  std::vector<double> grad(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i) {
    double top = -1e30, sum = 0;
    for (int64_t j = 0; j < k; ++j) top = std::max(top, logits.get_flat(i * k + j));
    for (int64_t j = 0; j < k; ++j) sum += std::exp(logits.get_flat(i * k + j) - top);
    const auto log_p = [&](int64_t j) { return logits.get_flat(i * k + j) - top - std::log(sum); };
    const int64_t ya = a.data<int64_t>()[i], yb = b.data<int64_t>()[i];
    expected -= (lambda * log_p(ya) + (1 - lambda) * log_p(yb)) / n;
    for (int64_t j = 0; j < k; ++j)
      grad[static_cast<size_t>(i * k + j)] =
          (std::exp(log_p(j)) - lambda * (j == ya) - (1 - lambda) * (j == yb)) / static_cast<double>(n);
  }
  nn::MixedCrossEntropyLoss loss;
  EXPECT_NEAR(loss.forward(logits, a, b, lambda), expected, 1e-5);
  const Tensor& g = loss.backward();
  for (int64_t i = 0; i < n * k; ++i) EXPECT_NEAR(g.get_flat(i), grad[static_cast<size_t>(i)], 1e-6) << i;
}

}  // namespace
}  // namespace resnet::testing
