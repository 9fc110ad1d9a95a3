// Offline placement of buffers with known lifetimes into one arena (the planning half of MemoryPlan,
// memory_plan.h): given each buffer's size and the interval of events during which it is live, assign
// byte offsets so that no two buffers live at the same time share a byte.
//
// Greedy by size: the largest buffer is placed first; each next one goes into the smallest gap, among the
// buffers already placed that are live with it, that fits it (best fit), or above them all. On network
// workloads this lands within a few per cent of the lower bound, the most bytes live at any one time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resnet {

struct BufferLifetime {
  size_t bytes = 0;   // a multiple of the arena's alignment (callers round up)
  int64_t first = 0;  // the event that creates it
  int64_t last = 0;   // the event that frees it; live over [first, last), so last > first
};

struct ArenaLayout {
  std::vector<size_t> offsets;  // one per buffer, in the input's order; multiples of the alignment
  size_t total_bytes = 0;       // the arena's size: the highest offset + bytes
};

// Requires every bytes and the alignment to be positive, every alignment a power of two dividing
// every size, and last > first.
ArenaLayout plan_arena(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

// The lower bound plan_arena is measured against: the most bytes live at the same time.
size_t peak_live_bytes(const std::vector<BufferLifetime>& buffers);

}  // namespace resnet
