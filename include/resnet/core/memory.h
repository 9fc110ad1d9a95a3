// Host memory for tensors.
//
// Every tensor buffer comes from one caching pool: a freed block goes back to a free list keyed by its
// size and is handed out again to the next request of that size. A training step asks for the same sizes
// every iteration, so after the first step nothing reaches the system allocator — this matters here
// because touching a fresh 4 KiB page costs ~10 µs (ANCHORS.md). Blocks are 64-byte aligned; blocks of
// 2 MiB and more are whole 4 KiB pages, 2 MiB aligned and advised MADV_HUGEPAGE. The Storage objects and
// their shared_ptr control blocks are recycled through free lists too, so re-taking a buffer makes no heap
// allocation at all. Repeated work (a training step) can instead be served from one planned arena:
// memory_plan.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace resnet {

namespace detail {
struct PlanState;
}

struct MemoryStats {
  int64_t system_allocations = 0;  // blocks obtained from the OS/allocator since start
  int64_t pool_hits = 0;           // requests served from the free lists
  int64_t bytes_in_use = 0;        // handed out and not yet returned
  int64_t bytes_cached = 0;        // returned and kept for reuse
  int64_t peak_bytes_in_use = 0;
  int64_t bytes_returned = 0;  // large blocks given back to the system on release (memory_plan.h)
  int64_t arena_bytes = 0;     // mapped by MemoryPlans; their slots in use count in bytes_in_use
};

MemoryStats memory_stats();
// Gives every cached (free) block back to the system.
void release_cached_memory();

// An owned or borrowed span of bytes. Owned storage returns its block to the pool when destroyed;
// borrowed storage (e.g. a memory-mapped file) runs the given deleter instead.
class Storage {
 public:
  static std::shared_ptr<Storage> allocate(size_t bytes);
  static std::shared_ptr<Storage> borrow(void* data, size_t bytes, std::function<void()> on_release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  friend struct detail::PlanState;
  enum class Origin : uint8_t {
    pool,           // a pool block, cached for reuse when released
    pool_returned,  // a pool block given back to the system when released (large, taken by a step not
                    // served by its plan)
    arena,          // a slot of plan_'s arena
    borrowed,
  };
  Storage() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  size_t block_bytes_ = 0;  // pool block or arena slot size
  Origin origin_ = Origin::borrowed;
  int64_t plan_index_ = -1;            // the request's index in plan_'s recorded or replayed step
  uint64_t plan_generation_ = 0;       // which recording of plan_ the index belongs to
  detail::PlanState* plan_ = nullptr;  // set for recorded requests and arena slots
  std::function<void()> on_release_;
};

}  // namespace resnet
