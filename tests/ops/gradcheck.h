// A generic finite-difference gradient checker for ops with an explicit forward and backward.
//
// For an op y₁…y_m = f(x₁…x_k) (all f64) the checker takes the scalar L = Σ_j Σ R_j ⊙ y_j with fixed random
// R_j, gets ∂L/∂x_i from the op's backward (fed dy_j = R_j) and compares it with the central difference
//   (L(x + h·e) − L(x − h·e)) / 2h,  h = 1e-6,
// for every element of every input, or for a random subset of them on large inputs.
//
// Tolerance: 1e-6 of the largest gradient magnitude. In f64 the central difference errs by its truncation
// h²/6·|∂³L| ≈ 1e-13 plus the rounding of the two loss values, ≈ 1e-16·Σ|R ⊙ y| / h ≈ 1e-10·Σ|R ⊙ y|,
// which is at most ~1e-8 for the few hundred O(1) terms of the shapes used here. A correct backward thus
// agrees to ~1e-8; 1e-6 leaves two orders of margin, while a wrong term in a backward (a missing mean
// term, a tap off by one, a wrong divisor) errs by 1e-2 or more. Gradients are scaled by their largest
// magnitude but never by less than 1e-3 (kMagnitudeFloor), so an all-but-zero gradient is compared in
// absolute terms instead of amplifying rounding noise.
//
// The checker does not fill the backward's outputs: the backward lambda allocates them, ideally with
// nan_tensor(), so an element the op forgets to write shows up as NaN, which always fails.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "resnet/core/rng.h"
#include "resnet/core/tensor.h"

namespace resnet::testing {

using Tensors = std::vector<Tensor>;

// Forward: inputs -> outputs. Backward: (inputs, one dy per output) -> one gradient per input (an undefined
// Tensor for an input that is not differentiated).
using ForwardFn = std::function<Tensors(const Tensors& inputs)>;
using BackwardFn = std::function<Tensors(const Tensors& inputs, const Tensors& douts)>;

struct GradcheckOptions {
  double step = 1e-6;
  double tolerance = 1e-6;
  // Inputs with more elements than this are checked on a random subset of this many elements.
  int64_t max_checked_per_input = 256;
  uint64_t seed = 1;
  // false only to test the checker itself: report the error without failing the test.
  bool expect_within_tolerance = true;
};

struct GradcheckResult {
  std::vector<double> error_per_input;  // max |analytic − numeric| / max(max |numeric|, floor)
  double worst = 0;
};

inline constexpr double kMagnitudeFloor = 1e-3;

// A dense f64 tensor pre-filled with NaN.
inline Tensor nan_tensor(const Shape& shape, Layout layout = Layout::contiguous) {
  return Tensor::full(shape, std::nan(""), DType::f64, layout);
}

namespace detail {

inline double weighted_sum(const Tensors& outputs, const Tensors& weights) {
  double sum = 0;
  for (size_t j = 0; j < outputs.size(); ++j)
    for (int64_t i = 0; i < outputs[j].numel(); ++i) sum += outputs[j].get_flat(i) * weights[j].get_flat(i);
  return sum;
}

// The flat logical indices to check: all of them, or a sorted random subset of `limit` distinct ones.
inline std::vector<int64_t> indices_to_check(int64_t numel, int64_t limit, Rng& rng) {
  std::vector<int64_t> all(static_cast<size_t>(numel));
  std::iota(all.begin(), all.end(), int64_t{0});
  if (numel <= limit) return all;
  for (int64_t i = 0; i < limit; ++i) std::swap(all[i], all[i + static_cast<int64_t>(rng.below(numel - i))]);
  all.resize(static_cast<size_t>(limit));
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace detail

// Checks backward against central differences of forward, EXPECTs each input's error <= tolerance and
// prints one line per call; `inputs` are f64 and are restored after every nudge.
inline GradcheckResult gradcheck(const std::string& name, const Tensors& inputs, const ForwardFn& forward,
                                 const BackwardFn& backward, const GradcheckOptions& options = {}) {
  Rng rng(options.seed);
  const Tensors outputs = forward(inputs);
  Tensors weights;
  for (const Tensor& y : outputs) {
    Tensor r = y.clone();  // dy in y's own layout, values drawn in logical order
    for (int64_t i = 0; i < r.numel(); ++i) r.set_flat(i, rng.uniform(-1.0, 1.0));
    weights.push_back(r);
  }
  const Tensors analytic = backward(inputs, weights);
  EXPECT_EQ(analytic.size(), inputs.size()) << name << ": backward must return one gradient per input";

  GradcheckResult result;
  for (size_t k = 0; k < inputs.size() && k < analytic.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!analytic[k].defined()) {
      result.error_per_input.push_back(0);
      continue;
    }
    EXPECT_EQ(x.dtype(), DType::f64) << name << ": gradcheck needs f64 inputs";
    EXPECT_EQ(analytic[k].shape(), x.shape()) << name << ": gradient " << k << " has the wrong shape";
    int64_t unwritten = 0;  // NaN left from the backward's pre-filled output, checked on every element
    for (int64_t i = 0; i < analytic[k].numel(); ++i) unwritten += std::isnan(analytic[k].get_flat(i));
    EXPECT_EQ(unwritten, 0) << name << ": gradient " << k << " has " << unwritten << " NaN elements";
    double max_diff = 0, magnitude = kMagnitudeFloor;
    for (int64_t i : detail::indices_to_check(x.numel(), options.max_checked_per_input, rng)) {
      const double v = x.get_flat(i);
      x.set_flat(i, v + options.step);
      const double plus = detail::weighted_sum(forward(inputs), weights);
      x.set_flat(i, v - options.step);
      const double minus = detail::weighted_sum(forward(inputs), weights);
      x.set_flat(i, v);
      const double numeric = (plus - minus) / (2 * options.step), exact = analytic[k].get_flat(i);
      // NaN (an unwritten output element) must fail, and NaN compares false: turn it into +inf.
      max_diff = std::max(max_diff, std::isnan(exact) ? INFINITY : std::abs(exact - numeric));
      magnitude = std::max(magnitude, std::abs(numeric));
    }
    const double error = max_diff / magnitude;
    if (options.expect_within_tolerance) {
      EXPECT_LE(error, options.tolerance)
          << name << ": input " << k << " " << x.shape() << ", max |analytic - numeric| = " << max_diff
          << " against a largest gradient of " << magnitude;
    }
    result.error_per_input.push_back(error);
    result.worst = std::max(result.worst, error);
  }
  std::printf("[ gradcheck ] %-44s worst relative error %.1e\n", name.c_str(), result.worst);
  return result;
}

}  // namespace resnet::testing
