// robust/ properties that hold for any network: the ε-ball and the box, determinism, the losses'
// gradients by finite differences, APGD's checkpoints from the paper, and attacks that actually attack.
#include <gtest/gtest.h>

#include <cmath>

#include "explain/small_model.h"
#include "resnet/core/check.h"
#include "resnet/core/parallel.h"
#include "resnet/robust/attacks.h"
#include "test_util.h"

using namespace resnet;

namespace {

Tensor pixels(int64_t n) {
  Tensor x = resnet::testing::fill_input({n, 3, 16, 16}, 0.2);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 0.5f + x.data<float>()[i] / 3.2f;
  return x;
}

class Attacks : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = resnet::testing::explain_test_model();
    pixel_ =
        std::make_unique<robust::PixelModel>(*model_, std::vector<float>{0.5f}, std::vector<float>{0.25f});
    // The model's own predictions as labels: every image starts correctly classified.
    labels_ =
        robust::attack(*pixel_, x_, std::vector<int64_t>(6, 0), {.attack = robust::Attack::fgsm, .eps = 0})
            .predicted;
  }
  std::unique_ptr<models::ResNet> model_;
  std::unique_ptr<robust::PixelModel> pixel_;
  const Tensor x_ = pixels(6);
  std::vector<int64_t> labels_;
};

// The paper's checkpoints for 100 iterations (Croce & Hein 2020, Sec. 3.2), and their rule for others.
TEST(ApgdCheckpoints, FollowThePaper) {
  EXPECT_EQ(robust::apgd_checkpoints(100), (std::vector<int64_t>{0, 22, 41, 57, 70, 80, 87, 93, 99}));
  for (int64_t n : {10, 20, 37, 1000}) {
    const std::vector<int64_t> w = robust::apgd_checkpoints(n);
    EXPECT_EQ(w.front(), 0);
    EXPECT_EQ(w[1], static_cast<int64_t>(std::ceil(0.22 * n - 1e-9)));
    EXPECT_LE(w.back(), n);
    for (size_t j = 2; j < w.size(); ++j)
      EXPECT_GE(w[j] - w[j - 1], static_cast<int64_t>(std::floor(0.06 * n)));
  }
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  const Tensor z = Tensor::empty({2, 6});
  const float values[] = {1.3f, -0.4f, 2.2f, 0.9f, -1.7f, 0.1f, 0.2f, 0.8f, -0.3f, 1.9f, 1.1f, -2.0f};
  std::copy(values, values + 12, z.data<float>());
  const std::vector<int64_t> labels{2, 1}, targets{3, 4};
  for (robust::Loss loss : {robust::Loss::cross_entropy, robust::Loss::dlr, robust::Loss::dlr_targeted}) {
    SCOPED_TRACE(std::string(robust::loss_name(loss)));
    const auto t = loss == robust::Loss::dlr_targeted ? targets : std::vector<int64_t>{};
    const robust::LossAndGradient g = robust::loss_and_gradient(loss, z, labels, t);
    for (int64_t e = 0; e < z.numel(); ++e) {
      const float saved = z.data<float>()[e];
      const float h = 1e-3f;
      z.data<float>()[e] = saved + h;
      const double up = robust::loss_and_gradient(loss, z, labels, t).loss[e / 6];
      z.data<float>()[e] = saved - h;
      const double down = robust::loss_and_gradient(loss, z, labels, t).loss[e / 6];
      z.data<float>()[e] = saved;
      EXPECT_NEAR(g.dlogits.data<float>()[e], (up - down) / (2 * h), 2e-3) << "logit " << e;
    }
  }
}

TEST_F(Attacks, StayInTheBallAndTheBox) {
  for (robust::Norm norm : {robust::Norm::linf, robust::Norm::l2})
    for (robust::Attack a :
         {robust::Attack::fgsm, robust::Attack::pgd, robust::Attack::apgd_ce, robust::Attack::apgd_dlr}) {
      SCOPED_TRACE(std::string(robust::attack_name(a)) + " " + std::string(robust::norm_name(norm)));
      const double eps = norm == robust::Norm::linf ? 0.02 : 0.3;
      const robust::AttackResult r = robust::attack(
          *pixel_, x_, labels_,
          {.attack = a, .norm = norm, .eps = eps, .steps = 5, .random_start = true, .targets = 2});
      const int64_t per = x_.numel() / x_.size(0);
      for (int64_t i = 0; i < x_.size(0); ++i) {
        double sq = 0, mx = 0;
        for (int64_t k = 0; k < per; ++k) {
          const float v = r.adversarial.data<float>()[i * per + k];
          ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << v;
          const double d = std::abs(static_cast<double>(v) - x_.data<float>()[i * per + k]);
          sq += d * d, mx = std::max(mx, d);
        }
        EXPECT_LE(norm == robust::Norm::linf ? mx : std::sqrt(sq), eps * (1 + 1e-5) + 1e-6);
      }
    }
}

TEST_F(Attacks, AreDeterministicWithoutARandomStartAndAcrossThreadCounts) {
  const robust::AttackOptions o{.attack = robust::Attack::pgd, .eps = 0.03, .steps = 3};
  const int threads = num_threads();  // CTest runs each test with one thread (OMP_NUM_THREADS=1)
  set_num_threads(2);
  const Tensor a = robust::attack(*pixel_, x_, labels_, o).adversarial;
  const Tensor b = robust::attack(*pixel_, x_, labels_, o).adversarial;
  set_num_threads(1);
  const Tensor c = robust::attack(*pixel_, x_, labels_, o).adversarial;
  set_num_threads(threads);
  EXPECT_EQ(resnet::testing::max_rel_error(a, b), 0.0);
  EXPECT_EQ(resnet::testing::max_rel_error(a, c), 0.0);
  // A random start is a function of the seed and the image's index, not of the batch it came in.
  const robust::AttackOptions r{
      .attack = robust::Attack::pgd, .eps = 0.03, .steps = 1, .alpha = 1e-9, .random_start = true, .seed = 7};
  const Tensor whole = robust::attack(*pixel_, x_, labels_, r).adversarial;
  const Tensor tail = robust::attack(*pixel_, x_.narrow(0, 3, 3).clone(Layout::contiguous),
                                     {labels_.begin() + 3, labels_.end()}, r, 3)
                          .adversarial;
  EXPECT_LE(resnet::testing::max_rel_error(tail, whole.narrow(0, 3, 3).clone(Layout::contiguous)), 1e-6);
}

// Stronger attacks do at least as well: a budget of 0 changes nothing, and more ε fools more images.
TEST_F(Attacks, AttackAndGrowWithTheBudget) {
  auto fooled = [&](robust::Attack a, double eps) {
    const robust::AttackResult r =
        robust::attack(*pixel_, x_, labels_, {.attack = a, .eps = eps, .steps = 5});
    int64_t k = 0;
    for (size_t i = 0; i < labels_.size(); ++i) k += r.predicted[i] != labels_[i];
    return k;
  };
  EXPECT_EQ(fooled(robust::Attack::pgd, 0.0), 0);
  EXPECT_EQ(fooled(robust::Attack::pgd, 1.0), 6);
  EXPECT_EQ(fooled(robust::Attack::apgd_ce, 1.0), 6);
  EXPECT_GE(fooled(robust::Attack::apgd_ce, 0.05), fooled(robust::Attack::fgsm, 0.05) - 1);
}

TEST(AttackNames, UnknownOnesAreRefusedWithTheChoices) {
  EXPECT_EQ(robust::parse_attack("apgd-dlr"), robust::Attack::apgd_dlr);
  EXPECT_THROW(robust::parse_attack("cw"), UserError);
  EXPECT_THROW(robust::parse_norm("l1"), UserError);
  EXPECT_THROW(robust::check_options({.eps = 1.5}, 10), UserError);
  EXPECT_THROW(robust::check_options({.eps = -0.1}, 10), UserError);
  EXPECT_THROW(robust::check_options({.attack = robust::Attack::apgd_dlr}, 3), UserError);
}

}  // namespace
