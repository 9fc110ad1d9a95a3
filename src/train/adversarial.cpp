#include "resnet/train/adversarial.h"

#include <algorithm>

#include "resnet/core/check.h"
#include "resnet/robust/attacks.h"

namespace resnet::train {
namespace {

std::vector<float> floats(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

double per_channel(const std::vector<double>& v, int64_t c) {
  return v.size() == 1 ? v[0] : v[static_cast<size_t>(c)];
}

std::vector<int64_t> labels_of(const Tensor& labels) {
  const int64_t* l = labels.data<int64_t>();
  return {l, l + labels.numel()};
}

int64_t correct(const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels) {
  int64_t n = 0;
  for (size_t i = 0; i < predicted.size(); ++i) n += predicted[i] == labels[i];
  return n;
}

}  // namespace

Tensor pixels_of(const Tensor& normalised, const std::vector<double>& mean, const std::vector<double>& std) {
  RESNET_CHECK(normalised.ndim() == 4 && !mean.empty() && mean.size() == std.size());
  Tensor x = normalised.clone(Layout::contiguous);
  const int64_t n = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
  RESNET_CHECK(mean.size() == 1 || static_cast<int64_t>(mean.size()) == channels);
  float* v = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c) {
      const float m = static_cast<float>(per_channel(mean, c)), s = static_cast<float>(per_channel(std, c));
      float* p = v + (i * channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) p[k] = std::clamp(p[k] * s + m, 0.0f, 1.0f);
    }
  return x;
}

AdversarialExamples::AdversarialExamples(const AdvSettings& settings, std::vector<double> mean,
                                         std::vector<double> std)
    : settings_(settings), mean_(std::move(mean)), std_(std::move(std)) {}

void AdversarialExamples::perturb(models::ResNet& model, const Tensor& images, const Tensor& labels,
                                  uint64_t seed, int64_t step) const {
  if (!enabled()) return;
  robust::AttackOptions o{.eps = settings_.eps,
                          .seed = seed ^ (0x616476ULL + static_cast<uint64_t>(step) * 0x9e3779b97f4a7c15ULL)};
  if (settings_.kind == "pgd") {
    o.attack = robust::Attack::pgd, o.steps = settings_.steps, o.random_start = true;
    o.alpha = settings_.alpha > 0 ? settings_.alpha : 2.5 * settings_.eps / static_cast<double>(o.steps);
  } else if (settings_.kind == "fgsm_rs") {
    o.attack = robust::Attack::pgd, o.steps = 1, o.random_start = true;
    o.alpha = settings_.alpha > 0 ? settings_.alpha : 1.25 * settings_.eps;
  } else {
    RESNET_CHECK(settings_.kind == "fgsm") << settings_.kind;
    o.attack = robust::Attack::fgsm, o.steps = 1;
  }
  robust::PixelModel pixels(model, floats(mean_), floats(std_));
  const Tensor x01 = pixels_of(images, mean_, std_);
  const robust::AttackResult r = robust::attack(pixels, x01, labels_of(labels), o);
  images.copy_from(pixels.normalise(r.adversarial));
  model.train();
}

RobustAccuracy robust_accuracy(models::ResNet& model, const Tensor& x01, const std::vector<int64_t>& labels,
                               const std::vector<double>& mean, const std::vector<double>& std, double eps,
                               int64_t steps, int64_t batch_size) {
  robust::PixelModel pixels(model, floats(mean), floats(std));
  const int64_t n = x01.size(0);
  int64_t clean = 0, fgsm = 0, pgd = 0;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t b = std::min(batch_size, n - start);
    const Tensor x = x01.narrow(0, start, b).clone(Layout::contiguous);
    const std::vector<int64_t> y(labels.begin() + start, labels.begin() + start + b);
    const Tensor logits = pixels.logits(x);
    for (int64_t i = 0; i < b; ++i) {
      const float* row = logits.data<float>() + i * logits.size(1);
      clean += std::max_element(row, row + logits.size(1)) - row == y[static_cast<size_t>(i)];
    }
    const robust::AttackOptions f{.attack = robust::Attack::fgsm, .eps = eps, .steps = 1};
    fgsm += correct(robust::attack(pixels, x, y, f, start).predicted, y);
    const robust::AttackOptions p{.attack = robust::Attack::pgd, .eps = eps, .steps = steps};
    pgd += correct(robust::attack(pixels, x, y, p, start).predicted, y);
  }
  const double scale = n > 0 ? 100.0 / static_cast<double>(n) : 0.0;
  return {clean * scale, fgsm * scale, pgd * scale};
}

std::vector<RobustAccuracy> robust_records(const nlohmann::json& history) {
  std::vector<RobustAccuracy> records;
  for (const auto& r : history)
    if (r.contains("pgd_acc"))
      records.push_back({r.at("robust_clean_acc"), r.at("fgsm_acc"), r.at("pgd_acc")});
  return records;
}

bool catastrophic_overfitting(const std::vector<RobustAccuracy>& history) {
  if (history.size() < 2) return false;
  const RobustAccuracy& last = history.back();
  double best = 0;
  for (size_t i = 0; i + 1 < history.size(); ++i) best = std::max(best, history[i].pgd);
  return last.pgd < 0.5 * best && last.pgd <= best - 10 && last.fgsm > history[history.size() - 2].fgsm;
}

}  // namespace resnet::train
