// Helpers shared by the tests: seeded random tensors and closeness measures.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "resnet/core/rng.h"
#include "resnet/core/tensor.h"
#include "resnet/ops/backend.h"

namespace resnet::testing {

// Fills every element with uniform values in [lo, hi) drawn in logical (row-major) order, so the values
// do not depend on the tensor's layout.
inline void fill_uniform(const Tensor& t, Rng& rng, double lo = -1.0, double hi = 1.0) {
  for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, rng.uniform(lo, hi));
}

inline Tensor random_tensor(const Shape& shape, Rng& rng, DType dtype = DType::f32,
                            Layout layout = Layout::contiguous, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::empty(shape, dtype, layout);
  fill_uniform(t, rng, lo, hi);
  return t;
}

// Fills with a recognisable junk value (NaN by default) to prove an op overwrites its output.
inline void fill_junk(const Tensor& t, double value = std::nan("")) {
  t.fill(value);
}

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(t.get_flat(i)));
  return m;
}

// max_i |a_i - b_i| / max(max_i |b_i|, floor). NaN anywhere gives +inf so that it always fails.
inline double max_rel_error(const Tensor& a, const Tensor& b, double floor = 1e-12) {
  EXPECT_EQ(a.shape(), b.shape());
  double diff = 0, mag = floor;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.get_flat(i), y = b.get_flat(i);
    if (std::isnan(x) || std::isnan(y)) return INFINITY;
    diff = std::max(diff, std::abs(x - y));
    mag = std::max(mag, std::abs(y));
  }
  return diff / mag;
}

// EXPECT that a matches the reference b to `tol` of b's largest magnitude.
#define EXPECT_CLOSE(a, b, tol)                                                                              \
  do {                                                                                                       \
    const double err_ = ::resnet::testing::max_rel_error((a), (b));                                          \
    EXPECT_LE(err_, (tol)) << #a << " vs " << #b << ": max |diff| / max |ref| = " << err_ << " > " << (tol); \
  } while (0)

}  // namespace resnet::testing

namespace resnet::ops {
// Names parameterised tests' backends "ref"/"cpu" in test listings instead of raw bytes.
inline void PrintTo(Backend backend, std::ostream* os) {
  *os << backend_name(backend);
}
}  // namespace resnet::ops
