// Private to the cpu backend: small parallel loops shared by the ops that are plain memory traffic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace resnet::ops::cpu {

// memcpy split into large chunks over the OpenMP pool (the pool oneDNN uses too). Small copies stay on
// the calling thread: waking the pool costs more than copying a few KiB.
inline void parallel_copy(void* dst, const void* src, size_t bytes) {
  if (dst == src || bytes == 0) return;
  constexpr size_t kChunk = size_t{256} << 10;
  if (bytes <= kChunk) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < chunks; ++i) {
    const size_t begin = static_cast<size_t>(i) * kChunk;
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin,
                std::min(kChunk, bytes - begin));
  }
}

}  // namespace resnet::ops::cpu
