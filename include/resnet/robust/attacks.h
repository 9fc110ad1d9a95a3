// Adversarial attacks on a classifier, with ε in pixel units of [0, 1] images: the model's normalisation
// (mean/std from its card) is applied inside the attacked function, so ε never needs converting.
//
//  - FGSM (Goodfellow et al. 2015): x' = Π(x + ε·sign(∇L)) for L∞, x + ε·∇L/‖∇L‖₂ for L2.
//  - PGD (Madry et al. 2018): `steps` steps of size α (default 2.5·ε/steps) on the cross-entropy, each
//    followed by the projection Π onto the ε-ball around x and the [0, 1] box; optional random start
//    (L∞: uniform in the ball; L2: a Gaussian direction at radius ε·U(0,1)); `restarts` random restarts.
//    The result is each image's last iterate (of the first restart that fools it, else of the restart
//    with the highest loss).
//  - APGD (Croce & Hein 2020): PGD with momentum 0.75 and a step size η (from 2ε) halved at the
//    checkpoints apgd_checkpoints() when the loss rose in fewer than 75 % of the steps since the last one,
//    or when neither η nor the best loss changed; a halving restarts from the best point. APGD-CE maximises
//    the cross-entropy; APGD-DLR the targeted DLR loss towards each of the `targets` classes with the
//    highest clean logits after the label (AutoAttack's APGD-T). Starts from a random point of the ball
//    unless random_start is off. The result is an iterate that fools the model when one did, else the
//    iterate with the highest loss.
// L2 steps and starts are projected onto the ball, then clipped to the box.
//
// Determinism: with no random start an attack is a pure function of (model, x, labels, options). Random
// starts draw from counter_uniform(seed, image index, element), with the image's index in the data set
// (`first_index` + row), so a result does not depend on how images are batched or on the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"
#include "resnet/robust/losses.h"

namespace resnet::robust {

// The network as a function of [0, 1] pixels: normalisation, then the module network (eval mode, its
// parameters untouched). mean/std: one value per input channel, or one for all; empty: identity.
class PixelModel {
 public:
  PixelModel(models::ResNet& model, std::vector<float> mean, std::vector<float> std);
  Tensor normalise(const Tensor& x01) const;
  // logits [N, classes] of x01 [N, C, H, W] (no gradient kept).
  Tensor logits(const Tensor& x01);
  struct Step {
    Tensor logits;             // [N, classes]
    std::vector<double> loss;  // [N]
    Tensor gradient;           // dL/dx01 [N, C, H, W]
  };
  Step loss_gradient(const Tensor& x01, Loss loss, const std::vector<int64_t>& labels,
                     const std::vector<int64_t>& targets = {});
  models::ResNet& model() { return model_; }
  int64_t classes() const;

 private:
  models::ResNet& model_;
  std::vector<float> mean_, std_;
};

enum class Attack { fgsm, pgd, apgd_ce, apgd_dlr };
enum class Norm { linf, l2 };

// "fgsm", "pgd", "apgd-ce", "apgd-dlr" / "linf", "l2"; UserError listing the choices otherwise.
Attack parse_attack(std::string_view name);
std::string_view attack_name(Attack attack);
Norm parse_norm(std::string_view name);
std::string_view norm_name(Norm norm);

struct AttackOptions {
  Attack attack = Attack::pgd;
  Norm norm = Norm::linf;
  double eps = 8.0 / 255;
  int64_t steps = 10;         // PGD steps, APGD iterations (FGSM: 1)
  double alpha = 0;           // PGD step; 0: 2.5·ε/steps
  bool random_start = false;  // PGD; APGD starts at random unless this is false and `apgd_random` is too
  bool apgd_random = true;
  int64_t restarts = 1;  // PGD (random start implied when > 1) and APGD
  int64_t targets = 9;   // APGD-DLR: target classes tried (at most classes − 1)
  uint64_t seed = 0;
};

// The ε-ball and step checks a user can get wrong: UserError naming the flag and the fix.
void check_options(const AttackOptions& options, int64_t classes);

struct AttackResult {
  Tensor adversarial;  // [N, C, H, W] in [0, 1], within ε of x
  Tensor logits;       // the model's logits of `adversarial`
  std::vector<int64_t> predicted;
};

// x01 [N, C, H, W] f32 in [0, 1]; labels N in [0, classes). first_index: the data-set index of row 0.
AttackResult attack(PixelModel& model, const Tensor& x01, const std::vector<int64_t>& labels,
                    const AttackOptions& options, int64_t first_index = 0);

// APGD's checkpoints for n iterations: w_j = ⌈p_j·n⌉, p_0 = 0, p_1 = 0.22,
// p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), while p_j ≤ 1. (n = 100: 0 22 41 57 70 80 87 93 99.)
std::vector<int64_t> apgd_checkpoints(int64_t iterations);

}  // namespace resnet::robust
