// Private to explain/: the batching every method shares. A method's work items (images, noisy samples,
// path points, occluded copies) run `chunk` at a time; the callback sees [start, start + count).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "resnet/core/check.h"
#include "resnet/core/tensor.h"

namespace resnet::explain::detail {

inline void check_chunk(int64_t chunk) {
  if (chunk < 1) throw UserError("--chunk " + std::to_string(chunk) + " is not allowed: give at least 1");
}

template <class F>
void for_chunks(int64_t items, int64_t chunk, F&& body) {
  check_chunk(chunk);
  for (int64_t start = 0; start < items; start += chunk) body(start, std::min(chunk, items - start));
}

// One image of x as a fresh contiguous [1, C, H, W] tensor.
inline Tensor image_of(const Tensor& x, int64_t i) {
  return x.narrow(0, i, 1).clone(Layout::contiguous);
}

inline void check_input(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 4 && x.dtype() == DType::f32 && x.is_dense())
      << "explain wants a dense f32 [N, C, H, W] input, got " << x.str();
}

}  // namespace resnet::explain::detail
