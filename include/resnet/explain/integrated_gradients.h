// Integrated gradients (Sundararajan et al. 2017): attribution = (x - x') ⊙ ∫₀¹ ∇f(x' + α (x - x')) dα,
// f the target's logit and x' a baseline. Completeness: Σ attribution ≈ f(x) - f(x'), exact as the
// quadrature converges.
//
// Determinism and memory: the path points of one image run `chunk` at a time (the batch one backward
// sees), so peak memory depends on the chunk, not on the steps; the weighted sum runs in step order, so
// the result does not depend on the chunk size or the thread count.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::explain {

enum class Rule {
  riemann,         // midpoint: α_k = (k + ½)/n, weights 1/n
  gauss_legendre,  // n-point Gauss–Legendre on [0, 1]: exact for polynomials of degree 2n - 1
};
// "riemann" or "gauss-legendre"; UserError naming both otherwise.
Rule parse_rule(std::string_view name);
std::string_view rule_name(Rule rule);

// The nodes α_k in (0, 1), ascending, and weights (summing to 1) of `rule` with n >= 1 points.
void quadrature(Rule rule, int64_t n, std::vector<double>& nodes, std::vector<double>& weights);

// Baselines, each of x's shape [N, C, H, W], in the network's (normalised) units. mean/std: the card's
// per-channel normalisation (one value per channel, or one for all).
// black: the normalised value of a 0 pixel, (0 - mean) / std.
Tensor black_baseline(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);
// uniform noise: pixels drawn uniformly in [0, 1) from (seed, element), then normalised.
Tensor noise_baseline(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std,
                      uint64_t seed);
// blurred: x through a separable Gaussian of standard deviation `sigma` pixels (edges clamped).
Tensor blur_baseline(const Tensor& x, double sigma);

struct IntegratedGradientsOptions {
  int64_t steps = 32;  // >= 1 (UserError otherwise)
  Rule rule = Rule::gauss_legendre;
  int64_t chunk = 16;  // path points per backward
};

// baseline: x's shape (CheckError otherwise). Returns [N, C, H, W].
Tensor integrated_gradients(models::ResNet& model, const Tensor& x, const Tensor& baseline,
                            const std::vector<int64_t>& targets,
                            const IntegratedGradientsOptions& options = {});

}  // namespace resnet::explain
