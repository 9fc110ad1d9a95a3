// Reference softmax cross-entropy, PyTorch's formula with label smoothing and class weights, in double.
#include "resnet/ops/cross_entropy.h"

#include <cmath>
#include <vector>

#include "ops/ref/common.h"

namespace resnet::ops::ref {
namespace {

struct Checked {
  int64_t N, K;
};

Checked check(const char* op, const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p) {
  is_f64(op, logits);
  RESNET_CHECK(logits.ndim() == 2) << op << ": logits must be [N, K], got " << logits.shape();
  const int64_t N = logits.size(0), K = logits.size(1);
  RESNET_CHECK(targets.dtype() == DType::i64 && targets.shape() == Shape{N})
      << op << ": targets must be i64 [" << N << "], got " << targets.str();
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = static_cast<int64_t>(targets.get_flat(i));
    RESNET_CHECK(t >= 0 && t < K) << op << ": target " << t << " of sample " << i << " outside [0, " << K
                                  << ")";
  }
  RESNET_CHECK(p.label_smoothing >= 0 && p.label_smoothing <= 1)
      << op << ": label smoothing " << p.label_smoothing;
  if (p.class_weights) check_same(op, "class_weights", *p.class_weights, logits, Shape{K});
  return {N, K};
}

double weight_of(const CrossEntropyParams& p, int64_t k) {
  return p.class_weights ? p.class_weights->get_flat(k) : 1.0;
}

// log-softmax of row i, in double.
std::vector<double> log_softmax(const Tensor& logits, int64_t i, int64_t K) {
  std::vector<double> row(static_cast<size_t>(K));
  double max = -INFINITY;
  for (int64_t k = 0; k < K; ++k) max = std::max(max, row[k] = logits.get_flat(i * K + k));
  double sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += std::exp(row[k] - max);
  const double log_z = max + std::log(sum);
  for (double& v : row) v -= log_z;
  return row;
}

double total_target_weight(const Tensor& targets, const CrossEntropyParams& p, int64_t N) {
  double s = 0;
  for (int64_t i = 0; i < N; ++i) s += weight_of(p, static_cast<int64_t>(targets.get_flat(i)));
  return s;
}

}  // namespace

double softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                     const CrossEntropyParams& p) {
  const auto [N, K] = check("ref::softmax_cross_entropy_forward", logits, targets, p);
  const double eps = p.label_smoothing;
  double nll = 0, smooth = 0;
  for (int64_t i = 0; i < N; ++i) {
    const std::vector<double> lp = log_softmax(logits, i, K);
    const int64_t t = static_cast<int64_t>(targets.get_flat(i));
    nll -= weight_of(p, t) * lp[t];
    for (int64_t k = 0; k < K; ++k) smooth -= weight_of(p, k) * lp[k];
  }
  return ((1 - eps) * nll + eps / static_cast<double>(K) * smooth) / total_target_weight(targets, p, N);
}

void softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                                    double dloss, Tensor& dlogits) {
  const char* op = "ref::softmax_cross_entropy_backward";
  const auto [N, K] = check(op, logits, targets, p);
  check_same(op, "dlogits", dlogits, logits, logits.shape());
  const double eps = p.label_smoothing, scale = dloss / total_target_weight(targets, p, N);
  for (int64_t i = 0; i < N; ++i) {
    const std::vector<double> lp = log_softmax(logits, i, K);
    const int64_t t = static_cast<int64_t>(targets.get_flat(i));
    // loss_i = -Σ_k c_k log p_k with c_k = (1-ε)·w_t·[k = t] + (ε/K)·w_k, so ∂/∂z_j = p_j·Σ_k c_k − c_j.
    double c_sum = (1 - eps) * weight_of(p, t);
    for (int64_t k = 0; k < K; ++k) c_sum += eps / static_cast<double>(K) * weight_of(p, k);
    for (int64_t j = 0; j < K; ++j) {
      const double c_j =
          (j == t ? (1 - eps) * weight_of(p, t) : 0.0) + eps / static_cast<double>(K) * weight_of(p, j);
      dlogits.set_flat(i * K + j, scale * (std::exp(lp[j]) * c_sum - c_j));
    }
  }
}

}  // namespace resnet::ops::ref
