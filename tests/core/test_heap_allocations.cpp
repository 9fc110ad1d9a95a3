// Re-taking a released tensor buffer makes no heap allocation at all: the block comes from the pool's
// free lists, and so do the Storage object and its shared_ptr control block. Counted by replacing the
// global operator new for this test binary (every replacement forwards to malloc, as the default does).
// (A whole training step still allocates inside oneDNN — dnnl_primitive_execute builds an argument map per
// call, and its parallel kernels allocate on the worker threads — which is not ours to remove.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "resnet/core/tensor.h"

namespace {
std::atomic<int64_t> g_heap_allocations{0};
}

void* operator new(std::size_t bytes) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t bytes) {
  return ::operator new(bytes);
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them): the whole family must come from
// malloc once operator delete frees with free(), or AddressSanitizer reports an alloc-dealloc mismatch.
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(bytes == 0 ? 1 : bytes);
}
void* operator new[](std::size_t bytes, const std::nothrow_t& tag) noexcept {
  return ::operator new(bytes, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace resnet;

TEST(Memory, ReTakingATensorBufferMakesNoHeapAllocation) {
  const auto take_and_release = [] {
    Tensor t = Tensor::empty({64, 64});
    Tensor view = t.narrow(0, 0, 32);  // a second handle shares the control block
    ensure(t, Shape{32, 128});         // re-taking through ensure while the view keeps the first buffer
  };
  take_and_release();  // warm-up: the blocks, the nodes and the pool's free-list entries exist
  const int64_t before = g_heap_allocations.load();
  for (int i = 0; i < 100; ++i) take_and_release();
  EXPECT_EQ(g_heap_allocations.load() - before, 0)
      << "heap allocations per re-taken buffer (a Storage object and its control block: 2 before recycling)";
}
