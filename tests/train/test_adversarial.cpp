// Adversarial training (train/adversarial.h): the batch a step trains on, against the attacks it is
// built from; the overfitting monitor's rule; and the trainer with adv.* end to end (records, resume
// bit-identical, bf16, refusals).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "explain/small_model.h"
#include "resnet/core/rng.h"
#include "resnet/io/safetensors.h"
#include "resnet/robust/attacks.h"
#include "resnet/train/adversarial.h"
#include "resnet/train/checkpoint.h"
#include "resnet/train/trainer.h"
#include "test_util.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;

const std::vector<double> kMean = {0.3, 0.5, 0.7}, kStd = {0.2, 0.25, 0.5};

// Normalised images whose pixels lie in [0, 1].
Tensor normalised_batch(int64_t n, Rng& rng) {
  Tensor x = Tensor::empty({n, 3, 32, 32});
  float* v = x.data<float>();
  for (int64_t e = 0; e < x.numel(); ++e) {
    const int64_t c = (e / (32 * 32)) % 3;
    v[e] = static_cast<float>((rng.uniform() - kMean[c]) / kStd[c]);
  }
  return x;
}

Tensor labels_tensor(const std::vector<int64_t>& labels) {
  Tensor t = Tensor::empty({static_cast<int64_t>(labels.size())}, DType::i64);
  std::copy(labels.begin(), labels.end(), t.data<int64_t>());
  return t;
}

TEST(Adversarial, PixelsOfInvertsTheNormalisationAndClampsToTheBox) {
  Rng rng(3);
  const Tensor x = normalised_batch(2, rng);
  const Tensor p = pixels_of(x, kMean, kStd);
  for (int64_t e = 0; e < x.numel(); ++e) {
    const int64_t c = (e / (32 * 32)) % 3;
    EXPECT_NEAR(p.data<float>()[e], x.data<float>()[e] * kStd[c] + kMean[c], 1e-6);
  }
  Tensor far = Tensor::full({1, 1, 2, 2}, 10.0);
  far.data<float>()[1] = -10;
  const Tensor clamped = pixels_of(far, {0.5}, {0.5});
  EXPECT_EQ(clamped.data<float>()[0], 1.0f);
  EXPECT_EQ(clamped.data<float>()[1], 0.0f);
}

TEST(Adversarial, PerturbedBatchIsTheAttacksExampleWithinEpsilonInPixels) {
  auto model = resnet::testing::explain_test_model();
  Rng rng(11);
  const std::vector<int64_t> labels = {1, 4, 7, 2};
  for (const char* kind : {"fgsm", "fgsm_rs", "pgd"}) {
    SCOPED_TRACE(kind);
    const AdvSettings s{.kind = kind, .eps = 0.05, .steps = 3};
    const Tensor clean = normalised_batch(4, rng);
    Tensor batch = clean.clone();
    model->train();
    AdversarialExamples(s, kMean, kStd).perturb(*model, batch, labels_tensor(labels), 5, 9);
    EXPECT_TRUE(model->is_training()) << "perturb leaves the model in train mode";
    const Tensor before = pixels_of(clean, kMean, kStd), after = pixels_of(batch, kMean, kStd);
    double moved = 0;
    for (int64_t e = 0; e < before.numel(); ++e) {
      const double d = std::abs(after.data<float>()[e] - before.data<float>()[e]);
      ASSERT_LE(d, 0.05 + 1e-5) << e;
      moved = std::max(moved, d);
    }
    EXPECT_GT(moved, 0.04) << "the examples moved to the ball's edge somewhere";
    // Bit for bit what robust::attack makes of the same pixels (FGSM: proven against PyTorch).
    if (std::string(kind) == "fgsm") {
      robust::PixelModel pixels(*model, {0.3f, 0.5f, 0.7f}, {0.2f, 0.25f, 0.5f});
      const Tensor expected = pixels.normalise(
          robust::attack(pixels, before, labels, {.attack = robust::Attack::fgsm, .eps = 0.05, .steps = 1})
              .adversarial);
      EXPECT_EQ(resnet::testing::max_rel_error(batch, expected), 0.0);
    }
    // The same (seed, step) crafts the same; another step draws another random start.
    Tensor again = clean.clone(), other = clean.clone();
    AdversarialExamples(s, kMean, kStd).perturb(*model, again, labels_tensor(labels), 5, 9);
    AdversarialExamples(s, kMean, kStd).perturb(*model, other, labels_tensor(labels), 5, 10);
    EXPECT_EQ(resnet::testing::max_rel_error(again, batch), 0.0);
    if (std::string(kind) == "fgsm")
      EXPECT_EQ(resnet::testing::max_rel_error(other, batch), 0.0) << "FGSM has no random start";
    else
      EXPECT_GT(resnet::testing::max_rel_error(other, batch), 0.0);
  }
}

TEST(Adversarial, RobustAccuracyIsNeverAboveCleanAndPgdNotAboveFgsmHere) {
  auto model = resnet::testing::explain_test_model();
  Rng rng(2);
  const Tensor x01 = pixels_of(normalised_batch(6, rng), kMean, kStd);
  robust::PixelModel pixels(*model, {0.3f, 0.5f, 0.7f}, {0.2f, 0.25f, 0.5f});
  std::vector<int64_t> labels;
  const Tensor logits = pixels.logits(x01);
  for (int64_t i = 0; i < 6; ++i) {  // the clean predictions as labels: clean accuracy 100 %
    const float* row = logits.data<float>() + i * logits.size(1);
    labels.push_back(std::max_element(row, row + logits.size(1)) - row);
  }
  const RobustAccuracy r = robust_accuracy(*model, x01, labels, kMean, kStd, 0.1, 5, 4);
  EXPECT_EQ(r.clean, 100.0);
  EXPECT_LT(r.fgsm, 100.0);
  EXPECT_LE(r.pgd, r.fgsm);
}

TEST(Adversarial, CatastrophicOverfittingIsPgdCollapsingWhileFgsmRises) {
  using R = RobustAccuracy;
  EXPECT_FALSE(catastrophic_overfitting({}));
  EXPECT_FALSE(catastrophic_overfitting({R{80, 50, 40}}));
  EXPECT_TRUE(catastrophic_overfitting({R{80, 50, 40}, R{85, 70, 5}}));
  EXPECT_FALSE(catastrophic_overfitting({R{80, 50, 40}, R{85, 45, 5}})) << "FGSM fell too: not the signature";
  EXPECT_FALSE(catastrophic_overfitting({R{80, 50, 40}, R{85, 60, 25}})) << "not below half the best";
  EXPECT_FALSE(catastrophic_overfitting({R{80, 12, 8}, R{85, 20, 3}})) << "less than 10 points";
  EXPECT_TRUE(catastrophic_overfitting({R{80, 50, 40}, R{82, 52, 42}, R{83, 40, 30}, R{84, 60, 12}}));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("resnet_adv_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Config adversarial_run(const fs::path& dir, const std::string& name, const std::string& kind) {
  Config c = default_config();
  merge_config(c,
               {{"data", {{"train_limit", 256}, {"test_limit", 64}, {"workers", 1}}},
                {"model", {{"width_multiplier", 0.5}}},
                {"optim", {{"epochs", 2}, {"batch_size", 32}, {"lr", 0.05}}},
                {"adv", {{"kind", kind}, {"eps", 0.1}, {"steps", 2}, {"eval_images", 48}, {"eval_steps", 3}}},
                {"run", {{"dir", dir.string()}, {"name", name}, {"plots", false}, {"eval_batch_size", 32}}}},
               "test");
  return c;
}

TEST(AdversarialTraining, RecordsRobustAccuracyAndResumesBitIdentically) {
  const auto dir = fresh_dir("resume");
  const RunResult straight = train(adversarial_run(dir, "straight", "pgd"));
  ASSERT_TRUE(straight.finished);
  const auto& adv = straight.summary.at("adversarial");
  EXPECT_EQ(adv.at("kind"), "pgd");
  EXPECT_EQ(adv.at("held_out_images"), 48);
  EXPECT_TRUE(fs::exists(dir / "straight" / "best_robust.safetensors"));
  const models::Checkpoint a = models::load_checkpoint((dir / "straight").string(), true);
  ASSERT_EQ(a.state["history"].size(), 2u);
  for (const auto& record : a.state["history"]) {
    EXPECT_LE(record.at("pgd_acc").get<double>(), record.at("robust_clean_acc").get<double>());
    EXPECT_LE(record.at("fgsm_acc").get<double>(), record.at("robust_clean_acc").get<double>());
  }

  Config stopped = adversarial_run(dir, "stopped", "pgd");
  merge_config(stopped, {{"run", {{"stop_after_steps", 5}}}}, "test");  // 8 steps per epoch
  EXPECT_FALSE(train(stopped).finished);
  const std::string run = (dir / "stopped").string();
  EXPECT_FALSE(resume(run, {{"run", {{"stop_after_steps", 6}}}}).finished);  // across the epoch's end
  ASSERT_TRUE(resume(run, {{"run", {{"stop_after_steps", 0}}}}).finished);
  const auto fa = io::load_safetensors((dir / "straight" / "last.safetensors").string());
  const auto fb = io::load_safetensors(run + "/last.safetensors");
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (const auto& [name, ta] : fa.tensors)
    EXPECT_EQ(std::memcmp(ta.raw(), fb.at(name).raw(), ta.nbytes()), 0) << name << " differs";
  const models::Checkpoint b = models::load_checkpoint(run, true);
  EXPECT_EQ(a.state["history"][1]["pgd_acc"], b.state["history"][1]["pgd_acc"]);
  EXPECT_EQ(a.state["best_robust_epoch"], b.state["best_robust_epoch"]);
  fs::remove_all(dir);
}

TEST(AdversarialTraining, FgsmRsTrainsInBf16) {
  const auto dir = fresh_dir("bf16");
  Config c = adversarial_run(dir, "r", "fgsm_rs");
  merge_config(c,
               {{"optim", {{"epochs", 1}}},
                {"data", {{"train_limit", 64}, {"test_limit", 32}}},
                {"adv", {{"eval_images", 16}}},
                {"run", {{"precision", "bf16"}}}},
               "test");
  const RunResult r = train(c);
  ASSERT_TRUE(r.finished);
  EXPECT_TRUE(std::isfinite(r.summary.at("adversarial").at("last").at("pgd_acc").get<double>()));
  fs::remove_all(dir);
}

TEST(AdversarialTraining, BadSettingsAreRefusedWithTheChoices) {
  const auto refused = [](const Config& changes, const std::string& expected) {
    Config c = default_config();
    merge_config(c, changes, "test");
    try {
      validate_config(c);
      ADD_FAILURE() << changes.dump() << " was accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  refused({{"adv", {{"kind", "trades"}}}}, "use one of none, pgd, fgsm_rs, fgsm");
  refused({{"adv", {{"eps", 2.0}}}}, "adv.eps");
  refused({{"adv", {{"eps", 0.0}}}}, "adv.eps");
  refused({{"adv", {{"steps", 0}}}}, "adv.steps");
  refused({{"adv", {{"kind", "pgd"}}}, {"data", {{"mixup_alpha", 0.2}}}}, "does not mix batches");
}

}  // namespace
}  // namespace resnet::train
