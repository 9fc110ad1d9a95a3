#include "resnet/explain/evaluation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "resnet/core/check.h"
#include "resnet/core/rng.h"

namespace resnet::explain {
namespace {

double area(const float* curve, int64_t steps) {
  double a = 0;
  for (int64_t k = 0; k < steps; ++k) a += 0.5 * (curve[k] + curve[k + 1]);
  return a / static_cast<double>(steps);
}

}  // namespace

Curves deletion_insertion(const LogitsFn& logits, const Tensor& x, const Tensor& deleted_to,
                          const Tensor& inserted_from, const Tensor& map, const std::vector<int64_t>& targets,
                          const CurveOptions& o) {
  RESNET_CHECK(x.ndim() == 4 && x.dtype() == DType::f32) << x.str();
  RESNET_CHECK(deleted_to.shape() == x.shape() && inserted_from.shape() == x.shape())
      << deleted_to.str() << " " << inserted_from.str() << " for " << x.str();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), plane = h * w;
  RESNET_CHECK(map.ndim() == 3 && map.size(0) == n && map.size(1) == h && map.size(2) == w)
      << "map " << map.str() << " for " << x.str();
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), n);
  RESNET_CHECK(o.steps >= 1 && o.chunk >= 1) << o.steps << " " << o.chunk;
  const Tensor xs = x.clone(Layout::contiguous), del = deleted_to.clone(Layout::contiguous),
               ins = inserted_from.clone(Layout::contiguous), m = map.clone(Layout::contiguous);
  const int64_t points = o.steps + 1;
  Curves out{Tensor::empty({n, points}), Tensor::empty({n, points}), {}, {}};
  // Every (image, step) variant for both curves, `chunk` variants per logits call.
  const int64_t variants = 2 * n * points;
  std::vector<std::vector<int64_t>> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& ord = order[static_cast<size_t>(i)];
    ord.resize(static_cast<size_t>(plane));
    std::iota(ord.begin(), ord.end(), 0);
    const float* v = m.data<float>() + i * plane;
    std::stable_sort(ord.begin(), ord.end(), [v](int64_t a, int64_t b) { return v[a] > v[b]; });
  }
  for (int64_t start = 0; start < variants; start += o.chunk) {
    const int64_t count = std::min(o.chunk, variants - start);
    Tensor batch = Tensor::empty({count, c, h, w});
    for (int64_t r = 0; r < count; ++r) {
      const int64_t v = start + r, curve = v / (n * points), i = (v / points) % n, k = v % points;
      const bool deletion = curve == 0;
      const float* from = (deletion ? xs : ins).data<float>() + i * c * plane;  // the starting image
      const float* to = (deletion ? del : xs).data<float>() + i * c * plane;    // what changed pixels become
      float* dst = batch.data<float>() + r * c * plane;
      std::copy_n(from, c * plane, dst);
      const int64_t changed = std::llround(static_cast<double>(k) * static_cast<double>(plane) / o.steps);
      for (int64_t p = 0; p < changed; ++p) {
        const int64_t pixel = order[static_cast<size_t>(i)][static_cast<size_t>(p)];
        for (int64_t ch = 0; ch < c; ++ch) dst[ch * plane + pixel] = to[ch * plane + pixel];
      }
    }
    const Tensor z = logits(batch).clone(Layout::contiguous);
    const int64_t classes = z.size(1);
    for (int64_t r = 0; r < count; ++r) {
      const int64_t v = start + r, curve = v / (n * points), i = (v / points) % n, k = v % points;
      const float* row = z.data<float>() + r * classes;
      const double top = *std::max_element(row, row + classes);
      double sum = 0;
      for (int64_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(row[j]) - top);
      const double p = std::exp(static_cast<double>(row[targets[static_cast<size_t>(i)]]) - top) / sum;
      (curve == 0 ? out.deletion : out.insertion).data<float>()[i * points + k] = static_cast<float>(p);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    out.deletion_auc.push_back(area(out.deletion.data<float>() + i * points, o.steps));
    out.insertion_auc.push_back(area(out.insertion.data<float>() + i * points, o.steps));
  }
  return out;
}

Tensor importance_map(Method method, const Tensor& a) {
  if (a.ndim() == 3) return a.clone(Layout::contiguous);
  RESNET_CHECK(a.ndim() == 4) << a.str();
  const Tensor v = a.clone(Layout::contiguous);
  const int64_t n = v.size(0), c = v.size(1), plane = v.size(2) * v.size(3);
  Tensor out = Tensor::zeros({n, v.size(2), v.size(3)});
  const bool magnitude = method == Method::saliency || method == Method::smoothgrad;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < plane; ++p) {
        const float e = v.data<float>()[(i * c + ch) * plane + p];
        float& o = out.data<float>()[i * plane + p];
        o = magnitude ? std::max(o, std::abs(e)) : o + e;
      }
  return out;
}

Tensor random_map(int64_t n, int64_t h, int64_t w, uint64_t seed) {
  Tensor out = Tensor::empty({n, h, w});
  for (int64_t e = 0; e < out.numel(); ++e)
    out.data<float>()[e] = static_cast<float>(counter_uniform(seed, static_cast<uint64_t>(e)));
  return out;
}

}  // namespace resnet::explain
