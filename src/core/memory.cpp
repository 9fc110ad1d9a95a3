#include "resnet/core/memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "resnet/core/check.h"

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
      const size_t align = block >= kHugePage ? kHugePage : kAlignment;
      p = std::aligned_alloc(align, block);
      if (!p) throw std::bad_alloc();
      if (block >= kHugePage) madvise(p, block, MADV_HUGEPAGE);
      ++stats_.system_allocations;
    }
    stats_.bytes_in_use += block;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    return p;
  }

  void release(void* p, size_t block) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[block].push_back(p);
    stats_.bytes_in_use -= block;
    stats_.bytes_cached += block;
  }

  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [block, list] : free_)
      for (void* p : list) std::free(p);
    free_.clear();
    stats_.bytes_cached = 0;
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

}  // namespace

MemoryStats memory_stats() {
  return pool().stats();
}
void release_cached_memory() {
  pool().release_cached();
}

std::shared_ptr<Storage> Storage::allocate(size_t bytes) {
  std::shared_ptr<Storage> s(new (node_pool().take(sizeof(Storage))) Storage, RecycleStorage{},
                             NodeAllocator<Storage>{});
  s->block_bytes_ = block_size_for(bytes);
  s->data_ = pool().acquire(s->block_bytes_);
  s->bytes_ = bytes;
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
  if (block_bytes_) {
    pool().release(data_, block_bytes_);
  } else if (on_release_) {
    on_release_();
  }
}

}  // namespace resnet
