// Softmax cross-entropy as plain loops over rows (K is small next to the convolutions: 10 or 1000 classes).
// Each row works in double, so the loss matches the double-precision reference closely.
#include <cmath>

#include "ops/cpu/dnnl_context.h"
#include "resnet/ops/cross_entropy.h"

namespace resnet::ops::cpu {
namespace {

struct CrossEntropyInputs {
  const float* logits;
  const int64_t* targets;
  const float* class_weights;  // null: every weight is 1
  int64_t rows, classes;
  double weight_sum;       // Σ_i w_{t_i}, the denominator of the mean
  double all_weights_sum;  // Σ_k w_k, used by the smoothing term
};

double class_weight(const CrossEntropyInputs& in, int64_t k) {
  return in.class_weights ? in.class_weights[k] : 1.0;
}

// CHECKs the contract (serially, before any parallel region: an exception cannot leave one) and gathers
// the pointers and weight sums.
CrossEntropyInputs prepare(const char* op, const Tensor& logits, const Tensor& targets,
                           const CrossEntropyParams& p) {
  check_f32(logits, op, "logits");
  RESNET_CHECK(logits.ndim() == 2 && logits.is_contiguous())
      << op << ": logits must be a contiguous [N, K] tensor, got " << logits.str();
  const int64_t rows = logits.size(0), classes = logits.size(1);
  RESNET_CHECK(targets.dtype() == DType::i64 && targets.is_contiguous())
      << op << ": targets must be contiguous i64, got " << targets.str();
  check_shape(targets, Shape{rows}, op, "targets");
  RESNET_CHECK(p.label_smoothing >= 0.0 && p.label_smoothing <= 1.0)
      << op << ": label_smoothing " << p.label_smoothing << " outside [0, 1]";
  CrossEntropyInputs in{logits.data<float>(), targets.data<int64_t>(), nullptr, rows, classes, 0.0, 0.0};
  if (p.class_weights) {
    check_f32(*p.class_weights, op, "class_weights");
    check_shape(*p.class_weights, Shape{classes}, op, "class_weights");
    RESNET_CHECK(p.class_weights->is_contiguous()) << op << ": class_weights must be contiguous";
    in.class_weights = p.class_weights->data<float>();
  }
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t t = in.targets[i];
    RESNET_CHECK(t >= 0 && t < classes)
        << op << ": target " << t << " of row " << i << " outside [0, " << classes << ")";
    in.weight_sum += class_weight(in, t);
  }
  for (int64_t k = 0; k < classes; ++k) in.all_weights_sum += class_weight(in, k);
  return in;
}

// log Σ_k exp(z_k) of one row, shifted by the maximum for stability.
double log_sum_exp(const float* z, int64_t classes) {
  float m = -INFINITY;
  for (int64_t k = 0; k < classes; ++k) m = std::max(m, z[k]);
  double sum = 0.0;
  for (int64_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[k]) - m);
  return m + std::log(sum);
}

}  // namespace

double softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                     const CrossEntropyParams& p) {
  const CrossEntropyInputs in = prepare("cpu::softmax_cross_entropy_forward", logits, targets, p);
  const double eps = p.label_smoothing;
  double numerator = 0.0;
#pragma omp parallel for reduction(+ : numerator) schedule(static)
  for (int64_t i = 0; i < in.rows; ++i) {
    const float* z = in.logits + i * in.classes;
    const double lse = log_sum_exp(z, in.classes);
    const int64_t t = in.targets[i];
    // -log p_k = lse - z_k
    const double target_term = class_weight(in, t) * (lse - z[t]);
    double weighted_logits = 0.0;
    for (int64_t k = 0; k < in.classes; ++k) weighted_logits += class_weight(in, k) * z[k];
    const double smooth_term = lse * in.all_weights_sum - weighted_logits;  // Σ_k w_k (-log p_k)
    numerator += (1.0 - eps) * target_term + eps / static_cast<double>(in.classes) * smooth_term;
  }
  return numerator / in.weight_sum;
}

void softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                                    double dloss, Tensor& dlogits) {
  constexpr const char* op = "cpu::softmax_cross_entropy_backward";
  const CrossEntropyInputs in = prepare(op, logits, targets, p);
  check_f32(dlogits, op, "dlogits");
  check_shape(dlogits, logits.shape(), op, "dlogits");
  RESNET_CHECK(dlogits.is_contiguous()) << op << ": dlogits must be contiguous, got " << dlogits.str();
  const double eps = p.label_smoothing;
  const double smooth = eps / static_cast<double>(in.classes);
  const double scale = dloss / in.weight_sum;
  float* out = dlogits.data<float>();
  // d(-log p_k)/dz_j = p_j - [j == k], so
  //   dz_j = scale · [ (1-ε) w_t (p_j - [j == t]) + (ε/K) (p_j Σ_k w_k - w_j) ].
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < in.rows; ++i) {
    const float* z = in.logits + i * in.classes;
    float* dz = out + i * in.classes;
    const double lse = log_sum_exp(z, in.classes);  // before any write: dlogits may be logits
    const int64_t t = in.targets[i];
    const double target_weight = (1.0 - eps) * class_weight(in, t);
    for (int64_t j = 0; j < in.classes; ++j) {
      const double prob = std::exp(static_cast<double>(z[j]) - lse);
      const double g = target_weight * (prob - (j == t ? 1.0 : 0.0)) +
                       smooth * (prob * in.all_weights_sum - class_weight(in, j));
      dz[j] = static_cast<float>(scale * g);
    }
  }
}

}  // namespace resnet::ops::cpu
