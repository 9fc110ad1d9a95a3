#include "resnet/core/finite.h"

#include <cmath>
#include <cstdio>
#include <vector>

namespace resnet {
namespace {

bool is_float(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::bf16;
}

template <class Bad>
std::optional<int64_t> first_where(const Tensor& t, Bad bad) {
  if (!t.defined() || !is_float(t.dtype())) return std::nullopt;
  const int64_t n = t.numel();
  if (t.dtype() == DType::f32 && t.is_contiguous()) {
    const float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i)
      if (bad(static_cast<double>(p[i]))) return i;
    return std::nullopt;
  }
  for (int64_t i = 0; i < n; ++i)
    if (bad(t.get_flat(i))) return i;
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> first_nonfinite(const Tensor& t) {
  return first_where(t, [](double v) { return !std::isfinite(v); });
}

std::optional<int64_t> first_negative(const Tensor& t) {
  return first_where(t, [](double v) { return !(v >= 0.0); });
}

std::string describe_index(const Shape& shape, int64_t flat) {
  std::string out = "[";
  int64_t rest = flat;
  std::vector<int64_t> index(static_cast<size_t>(shape.ndim()));
  for (int d = shape.ndim() - 1; d >= 0; --d) {
    const int64_t size = shape[d] > 0 ? shape[d] : 1;
    index[static_cast<size_t>(d)] = rest % size;
    rest /= size;
  }
  for (size_t d = 0; d < index.size(); ++d) out += (d ? ", " : "") + std::to_string(index[d]);
  out += "]";
  if (shape.ndim() > 1) out += " (flat " + std::to_string(flat) + ")";
  return out;
}

std::string describe_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace resnet
