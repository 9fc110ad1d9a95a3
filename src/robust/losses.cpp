#include "resnet/robust/losses.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "resnet/core/check.h"

namespace resnet::robust {

std::string_view loss_name(Loss loss) {
  switch (loss) {
    case Loss::cross_entropy:
      return "cross-entropy";
    case Loss::dlr:
      return "dlr";
    case Loss::dlr_targeted:
      return "dlr-targeted";
  }
  return "?";
}

int64_t min_classes(Loss loss) {
  return loss == Loss::cross_entropy ? 2 : loss == Loss::dlr ? 3 : 4;
}

LossAndGradient loss_and_gradient(Loss loss, const Tensor& logits, const std::vector<int64_t>& labels,
                                  const std::vector<int64_t>& targets) {
  RESNET_CHECK(logits.ndim() == 2 && logits.dtype() == DType::f32) << logits.str();
  const int64_t n = logits.size(0), classes = logits.size(1);
  RESNET_CHECK_EQ(static_cast<int64_t>(labels.size()), n);
  RESNET_CHECK(classes >= min_classes(loss))
      << loss_name(loss) << " needs " << min_classes(loss) << " classes, the model has " << classes;
  if (loss == Loss::dlr_targeted) {
    RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), n);
  }
  const Tensor z_all = logits.clone(Layout::contiguous);
  LossAndGradient out{std::vector<double>(static_cast<size_t>(n)), Tensor::zeros({n, classes})};
  std::vector<int64_t> order(static_cast<size_t>(classes));
  for (int64_t i = 0; i < n; ++i) {
    const float* z = z_all.data<float>() + i * classes;
    float* dz = out.dlogits.data<float>() + i * classes;
    const int64_t y = labels[static_cast<size_t>(i)];
    RESNET_CHECK(y >= 0 && y < classes) << "label " << y << " of " << classes;
    if (loss == Loss::cross_entropy) {
      const double top = *std::max_element(z, z + classes);
      double sum = 0;
      for (int64_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[k]) - top);
      out.loss[static_cast<size_t>(i)] = top + std::log(sum) - z[y];
      for (int64_t k = 0; k < classes; ++k)
        dz[k] = static_cast<float>(std::exp(static_cast<double>(z[k]) - top) / sum - (k == y ? 1.0 : 0.0));
      continue;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [z](int64_t a, int64_t b) { return z[a] > z[b]; });
    int64_t other;  // the class y is pushed towards
    double denominator;
    if (loss == Loss::dlr) {
      other = order[0] == y ? order[1] : order[0];
      denominator = static_cast<double>(z[order[0]]) - z[order[2]] + 1e-12;
    } else {
      other = targets[static_cast<size_t>(i)];
      RESNET_CHECK(other >= 0 && other < classes && other != y) << "target " << other << " for label " << y;
      denominator =
          static_cast<double>(z[order[0]]) - 0.5 * (static_cast<double>(z[order[2]]) + z[order[3]]) + 1e-12;
    }
    const double margin = static_cast<double>(z[y]) - z[other];
    out.loss[static_cast<size_t>(i)] = -margin / denominator;
    std::vector<double> g(static_cast<size_t>(classes), 0.0);
    g[static_cast<size_t>(y)] -= 1 / denominator;
    g[static_cast<size_t>(other)] += 1 / denominator;
    const double d2 = margin / (denominator * denominator);  // d(−margin/den)/d den = margin/den²
    g[static_cast<size_t>(order[0])] += d2;
    if (loss == Loss::dlr) {
      g[static_cast<size_t>(order[2])] -= d2;
    } else {
      g[static_cast<size_t>(order[2])] -= 0.5 * d2;
      g[static_cast<size_t>(order[3])] -= 0.5 * d2;
    }
    for (int64_t k = 0; k < classes; ++k) dz[k] = static_cast<float>(g[static_cast<size_t>(k)]);
  }
  return out;
}

}  // namespace resnet::robust
