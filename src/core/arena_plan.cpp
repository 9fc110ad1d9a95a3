#include "resnet/core/arena_plan.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "resnet/core/check.h"

namespace resnet {

ArenaLayout plan_arena(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  RESNET_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0) << "alignment " << alignment;
  for (const auto& b : buffers)
    RESNET_CHECK(b.bytes > 0 && b.bytes % alignment == 0 && b.last > b.first)
        << "buffer of " << b.bytes << " bytes live over [" << b.first << ", " << b.last << ")";

  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });

  ArenaLayout layout;
  layout.offsets.assign(buffers.size(), 0);
  std::vector<size_t> placed;                   // indices, in placement order
  std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of placed buffers live with this one
  for (size_t i : order) {
    const BufferLifetime& b = buffers[i];
    busy.clear();
    for (size_t j : placed) {
      const BufferLifetime& o = buffers[j];
      if (o.first < b.last && b.first < o.last)
        busy.emplace_back(layout.offsets[j], layout.offsets[j] + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const auto& [start, end] : busy) {
      if (start > cursor && start - cursor >= b.bytes && start - cursor < best_gap) {
        best = cursor;
        best_gap = start - cursor;
      }
      cursor = std::max(cursor, end);
    }
    layout.offsets[i] = best != SIZE_MAX ? best : cursor;  // the best-fitting gap, or above everything
    layout.total_bytes = std::max(layout.total_bytes, layout.offsets[i] + b.bytes);
    placed.push_back(i);
  }
  return layout;
}

size_t peak_live_bytes(const std::vector<BufferLifetime>& buffers) {
  std::vector<std::pair<int64_t, int64_t>> events;  // (event, +bytes / -bytes); frees sort before creations
  events.reserve(buffers.size() * 2);
  for (const auto& b : buffers) {
    events.emplace_back(b.first, static_cast<int64_t>(b.bytes));
    events.emplace_back(b.last, -static_cast<int64_t>(b.bytes));
  }
  std::sort(events.begin(), events.end());
  int64_t live = 0, peak = 0;
  for (const auto& [at, delta] : events) peak = std::max(peak, live += delta);
  return static_cast<size_t>(peak);
}

}  // namespace resnet
