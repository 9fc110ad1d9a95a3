#include "resnet/core/memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "resnet/core/arena_plan.h"
#include "resnet/core/check.h"
#include "resnet/core/memory_plan.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and the pages are touched instead
#endif

namespace resnet {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kPage = size_t{4} << 10;
constexpr size_t kHugePage = size_t{2} << 20;

// Rounds a request to the block size kept in the pool: small blocks to 64 bytes, big ones to whole 4 KiB
// pages. Not to whole huge pages: a network's activations would waste ~10 % (ResNet-50's 3.2 MB layer3
// tensors would take 4 MiB each). The huge-page advice covers the block only, so its last partial 2 MiB
// falls back to 4 KiB pages and costs no more resident memory than it uses.
size_t block_size_for(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t granule = bytes >= kHugePage ? kPage : kAlignment;
  return (bytes + granule - 1) / granule * granule;
}

// Large blocks (and arenas) are mapped directly, 2 MiB aligned and advised onto huge pages, so that they
// can be given back to the system whole. `bytes` is a multiple of 4 KiB.
void* map_block(size_t bytes) {
  const size_t span = bytes + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1), end = aligned + bytes;
  if (aligned > start) munmap(raw, aligned - start);
  if (start + span > end) munmap(reinterpret_cast<void*>(end), start + span - end);
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void unmap_block(void* p, size_t bytes) {
  munmap(p, bytes);
}

// Faults every page in now, so that the first step served from an arena does not pay for it.
void prefault(void* p, size_t bytes) {
  if (madvise(p, bytes, MADV_POPULATE_WRITE) == 0) return;
  for (size_t i = 0; i < bytes; i += kPage) static_cast<volatile char*>(p)[i] = 0;
}

class Pool {
 public:
  void* acquire(size_t block) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(block);
    void* p = nullptr;
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= block;
      ++stats_.pool_hits;
    } else {
      if (block >= kHugePage) {
        p = map_block(block);
      } else {
        p = std::aligned_alloc(kAlignment, block);
        if (!p) throw std::bad_alloc();
      }
      ++stats_.system_allocations;
    }
    stats_.bytes_in_use += block;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    return p;
  }

  // `to_system`: a large block is unmapped instead of cached (small ones are always cached).
  void release(void* p, size_t block, bool to_system) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.bytes_in_use -= block;
      if (!to_system || block < kHugePage) {
        free_[block].push_back(p);
        stats_.bytes_cached += block;
        return;
      }
      stats_.bytes_returned += block;
    }
    unmap_block(p, block);
  }

  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [block, list] : free_)
      for (void* p : list) block >= kHugePage ? unmap_block(p, block) : std::free(p);
    free_.clear();
    stats_.bytes_cached = 0;
  }

  // Arena slots handed out (+) or returned (−), and arenas mapped or unmapped, by MemoryPlans.
  void account(int64_t in_use_delta, int64_t arena_delta) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.bytes_in_use += in_use_delta;
    stats_.arena_bytes += arena_delta;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

// Never destroyed: storages released during static destruction must still find their pool.
Pool& pool() {
  static Pool* instance = new Pool;
  return *instance;
}

// The small objects behind every tensor buffer — the Storage and its shared_ptr control block — come from
// free lists too: a training step re-takes hundreds of released buffers, and each would otherwise cost
// two heap allocations. Nodes are kept for reuse, never freed; sizes are rounded to 16 bytes.
class NodePool {
 public:
  static constexpr size_t kGranule = 16, kLargest = 256;

  void* take(size_t bytes) {
    const size_t slot = slot_of(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (FreeNode* node = heads_[slot]) {
        heads_[slot] = node->next;
        return node;
      }
    }
    return ::operator new((slot + 1) * kGranule);
  }

  void give(void* p, size_t bytes) {
    const size_t slot = slot_of(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    heads_[slot] = new (p) FreeNode{heads_[slot]};
  }

 private:
  struct FreeNode {
    FreeNode* next;
  };
  static size_t slot_of(size_t bytes) {
    RESNET_CHECK(bytes > 0 && bytes <= kLargest) << "node of " << bytes << " bytes";
    return (bytes - 1) / kGranule;
  }
  std::mutex mutex_;
  FreeNode* heads_[kLargest / kGranule] = {};
};

NodePool& node_pool() {
  static NodePool* instance = new NodePool;  // never destroyed, like the block pool
  return *instance;
}

// shared_ptr's control block, from the node pool.
template <class T>
struct NodeAllocator {
  using value_type = T;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  NodeAllocator() = default;
  template <class U>
  NodeAllocator(const NodeAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(node_pool().take(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { node_pool().give(p, n * sizeof(T)); }
  friend bool operator==(const NodeAllocator&, const NodeAllocator&) { return true; }
};

struct RecycleStorage {
  void operator()(Storage* s) const {
    s->~Storage();
    node_pool().give(s, sizeof(Storage));
  }
};

thread_local detail::PlanState* t_open_step = nullptr;  // the innermost PlannedStep on this thread

}  // namespace

namespace detail {

// A MemoryPlan's state (memory_plan.h has the life cycle). Storages it recorded or served point here, so
// it outlives its MemoryPlan until the last of them is released.
struct PlanState {
  enum class Phase { warm_up, recording, replaying };
  struct Request {
    size_t block;
    int64_t first, last;  // events; last < 0 while the block is held
  };

  // A request made inside an open step: an arena slot, or a pool block.
  void take(Storage& s) {
    std::lock_guard<std::mutex> lock(mutex);
    const size_t block = s.block_bytes_;
    if (phase == Phase::recording) {
      s.plan_ = this, s.plan_index_ = static_cast<int64_t>(recorded.size()), s.plan_generation_ = generation;
      ++refs;
      recorded.push_back({block, event++, -1});
    } else if (phase == Phase::replaying) {
      const auto k = static_cast<size_t>(next++);
      if (!diverged && (k >= expected_block.size() || expected_block[k] != block)) diverged = true;
      if (!diverged && offset[k] < 0) {  // outlives its step: the pool's
        s.origin_ = Storage::Origin::pool;
        s.data_ = pool().acquire(block);
        return;
      }
      if (!diverged) {
        const auto at = static_cast<size_t>(offset[k]);
        auto after = held.lower_bound(at + block);  // held slots are disjoint: only the one below can overlap
        if (after == held.begin() || std::prev(after)->second <= at) {
          held.emplace_hint(after, at, at + block);
          s.origin_ = Storage::Origin::arena, s.data_ = arena + at, s.plan_ = this;
          ++refs, ++stats.arena_hits;
          pool().account(static_cast<int64_t>(block), 0);
          return;
        }
        ++stats.held_slot_misses;  // a tensor kept past its planned lifetime still owns these bytes
      }
    }
    s.origin_ = Storage::Origin::pool_returned;
    s.data_ = pool().acquire(block);
  }

  // From ~Storage, for storages with plan_ set. Returns true when the state is to be deleted.
  bool give_back(const Storage& s) {
    std::lock_guard<std::mutex> lock(mutex);
    if (s.origin_ == Storage::Origin::arena) {
      held.erase(static_cast<size_t>(static_cast<std::byte*>(s.data_) - arena));
      pool().account(-static_cast<int64_t>(s.block_bytes_), 0);
    } else if (phase == Phase::recording && s.plan_generation_ == generation) {
      recorded[static_cast<size_t>(s.plan_index_)].last = event++;
    }
    return --refs == 0 && orphaned;
  }

  void open_step() {
    std::lock_guard<std::mutex> lock(mutex);
    RESNET_CHECK(!step_open) << "a MemoryPlan has one open PlannedStep at a time";
    step_open = true;
    next = 0, diverged = false;
  }

  void close_step() {
    std::lock_guard<std::mutex> lock(mutex);
    step_open = false;
    ++stats.steps;
    if (phase == Phase::warm_up) {
      start_recording();
    } else if (phase == Phase::recording) {
      if (held.empty()) {
        lay_out();
      } else {
        start_recording();  // slots of the previous layout are still held: its arena cannot move yet
      }
    } else {
      if (static_cast<size_t>(next) != expected_block.size()) diverged = true;
      if (!diverged) {
        ++stats.replayed_steps, divergent_in_a_row = 0;
      } else if (++stats.diverged_steps, ++divergent_in_a_row == 2) {
        divergent_in_a_row = 0;
        start_recording();  // the work has changed: plan it again
      }
    }
  }

  void start_recording() {
    phase = Phase::recording;
    recorded.clear();
    event = 0;
    ++generation;
  }

  // The recorded step's blocks freed within it get arena slots; the rest stay with the pool.
  void lay_out() {
    std::vector<BufferLifetime> lifetimes;
    expected_block.assign(recorded.size(), 0);
    offset.assign(recorded.size(), -1);
    for (size_t k = 0; k < recorded.size(); ++k) {
      const Request& r = recorded[k];
      expected_block[k] = r.block;
      if (r.last >= 0) lifetimes.push_back({r.block, r.first, r.last});
    }
    const ArenaLayout layout = plan_arena(lifetimes, kAlignment);
    for (size_t k = 0, slot = 0; k < recorded.size(); ++k)
      if (recorded[k].last >= 0) offset[k] = static_cast<int64_t>(layout.offsets[slot++]);
    const size_t bytes = (layout.total_bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (bytes > arena_bytes || bytes < arena_bytes / 2) {  // grow, or shrink a much larger one
      unmap_arena();
      if (bytes > 0) {
        arena = static_cast<std::byte*>(map_block(bytes));
        prefault(arena, bytes);
        arena_bytes = bytes;
        pool().account(0, static_cast<int64_t>(bytes));
      }
    }
    stats.plans += 1;
    stats.planned_buffers = lifetimes.size();
    stats.peak_live_bytes = peak_live_bytes(lifetimes);
    recorded.clear();
    ++generation;
    phase = Phase::replaying;
  }

  void unmap_arena() {
    if (!arena) return;
    unmap_block(arena, arena_bytes);
    pool().account(0, -static_cast<int64_t>(arena_bytes));
    arena = nullptr, arena_bytes = 0;
  }

  ~PlanState() { unmap_arena(); }

  std::mutex mutex;
  Phase phase = Phase::warm_up;
  bool step_open = false;
  uint64_t generation = 1;
  // recording
  int64_t event = 0;
  std::vector<Request> recorded;
  // replaying: per request of a step, its block size and arena offset (-1: left to the pool)
  std::vector<size_t> expected_block;
  std::vector<int64_t> offset;
  std::byte* arena = nullptr;
  size_t arena_bytes = 0;
  int64_t next = 0;
  bool diverged = false;
  int divergent_in_a_row = 0;
  std::map<size_t, size_t, std::less<>, NodeAllocator<std::pair<const size_t, size_t>>> held;  // start → end
  int64_t refs = 0;  // storages pointing here
  bool orphaned = false;
  MemoryPlanStats stats;
};

}  // namespace detail

MemoryPlan::MemoryPlan() : state_(new detail::PlanState) {}

MemoryPlan::~MemoryPlan() {
  bool destroy;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    RESNET_CHECK(!state_->step_open) << "a MemoryPlan destroyed while a PlannedStep of it is open";
    destroy = state_->refs == 0;
    state_->orphaned = true;  // the last storage it served deletes it
  }
  if (destroy) delete state_;
}

MemoryPlanStats MemoryPlan::stats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MemoryPlanStats s = state_->stats;
  s.arena_bytes = state_->arena_bytes;
  return s;
}

PlannedStep::PlannedStep(MemoryPlan& plan) : state_(plan.state_), outer_(t_open_step) {
  state_->open_step();
  t_open_step = state_;
}

PlannedStep::~PlannedStep() {
  t_open_step = outer_;
  state_->close_step();
}

MemoryStats memory_stats() {
  return pool().stats();
}
void release_cached_memory() {
  pool().release_cached();
}

std::shared_ptr<Storage> Storage::allocate(size_t bytes) {
  std::shared_ptr<Storage> s(new (node_pool().take(sizeof(Storage))) Storage, RecycleStorage{},
                             NodeAllocator<Storage>{});
  s->bytes_ = bytes;
  s->block_bytes_ = block_size_for(bytes);
  if (detail::PlanState* step = t_open_step) {
    step->take(*s);
  } else {
    s->origin_ = Origin::pool;
    s->data_ = pool().acquire(s->block_bytes_);
  }
  return s;
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t bytes, std::function<void()> on_release) {
  std::shared_ptr<Storage> s(new Storage);
  s->data_ = data;
  s->bytes_ = bytes;
  s->on_release_ = std::move(on_release);
  return s;
}

Storage::~Storage() {
  if (plan_ && plan_->give_back(*this)) delete plan_;
  switch (origin_) {
    case Origin::pool:
    case Origin::pool_returned:
      pool().release(data_, block_bytes_, origin_ == Origin::pool_returned);
      break;
    case Origin::arena:
      break;
    case Origin::borrowed:
      if (on_release_) on_release_();
      break;
  }
}

}  // namespace resnet
