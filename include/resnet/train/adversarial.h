// Adversarial training (the config's `adv` section): the examples a step trains on, crafted against the
// network as it stands, and the per-epoch robustness record with its catastrophic-overfitting monitor.
//
// The loader gives normalised images and attacks work in [0, 1] pixels (robust/attacks.h), so a batch is
// mapped back with the run's mean/std (x·std + mean, clamped to [0, 1]), attacked, and normalised again:
// ε is in pixel units whatever the normalisation. Crafting runs the network as robust::PixelModel does, in
// eval mode (BN with its running statistics, no parameter gradient); the step then trains in train mode
// on the adversarial batch. Kinds (L∞):
//  - pgd: Madry et al. (2018), `steps` steps of α (0: 2.5·ε/steps) from a uniform random start in the ball;
//  - fgsm_rs: Wong et al. (2020) "Fast is better than free", one step of α (0: 1.25·ε) from a random start;
//  - fgsm: one step of ε from the clean image, no random start: the recipe that overfits catastrophically,
//    kept so that the monitor can be seen catching it.
// Random starts are drawn from (run.seed, step) and the row, so a resumed run crafts what it would have.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"
#include "resnet/train/config.h"

namespace resnet::train {

// [N, C, H, W] normalised images back to [0, 1] pixels (clamped: random erasing writes outside the box).
// mean/std: one value per channel, or one for all.
Tensor pixels_of(const Tensor& normalised, const std::vector<double>& mean, const std::vector<double>& std);

class AdversarialExamples {
 public:
  AdversarialExamples(const AdvSettings& settings, std::vector<double> mean, std::vector<double> std);
  bool enabled() const { return settings_.kind != "none"; }
  // Replaces `images` ([B, C, H, W] normalised, written in place) by their adversarial examples for
  // `labels` ([B] i64). `model` is left in train mode.
  void perturb(models::ResNet& model, const Tensor& images, const Tensor& labels, uint64_t seed,
               int64_t step) const;

 private:
  AdvSettings settings_;
  std::vector<double> mean_, std_;
};

// Accuracies (%) of the held-out images x01 ([N, C, H, W] in [0, 1]): clean, under FGSM at ε and under
// PGD-`steps` at ε (α = 2.5·ε/steps, no random start: deterministic from epoch to epoch).
struct RobustAccuracy {
  double clean = 0, fgsm = 0, pgd = 0;
  nlohmann::json to_json() const {
    return {{"robust_clean_acc", clean}, {"fgsm_acc", fgsm}, {"pgd_acc", pgd}};
  }
};
// The records of a run's per-epoch history (metrics.jsonl's records) that hold a robust accuracy, in order.
std::vector<RobustAccuracy> robust_records(const nlohmann::json& history);
RobustAccuracy robust_accuracy(models::ResNet& model, const Tensor& x01, const std::vector<int64_t>& labels,
                               const std::vector<double>& mean, const std::vector<double>& std, double eps,
                               int64_t steps, int64_t batch_size);

// Catastrophic overfitting (Wong et al. 2020): PGD accuracy collapses while FGSM accuracy rises. True when
// the last record's PGD accuracy is below half the best earlier one and at least 10 points under it, while
// its FGSM accuracy rose over the epoch before.
bool catastrophic_overfitting(const std::vector<RobustAccuracy>& history);

}  // namespace resnet::train
