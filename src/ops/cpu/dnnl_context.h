// Private to the cpu backend: the one oneDNN engine, memory descriptors made from our tensors, owned
// buffers, and the cache that keeps every primitive (with its memory objects, argument lists and
// scratchpad) from one call to the next.
//
// Steady state: an op looks up its entry by a fixed-size key (no heap), rebinds the entry's memory
// objects to the caller's buffers with set_data_handle and executes the prebuilt argument list through
// the C API. Nothing is created or allocated after the first call with a given shape.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::ops::cpu {

// ---- Engine, stream, counters -----------------------------------------------------------------------

const dnnl::engine& engine();
// One stream per calling thread: a CPU stream is cheap, and sharing one across threads is not promised
// to be safe.
const dnnl::stream& stream();

// oneDNN primitives (and reorders) this backend has created since the program started. Tests check that
// a repeated call with the same shapes does not raise it.
int64_t primitives_created();
void note_primitive_created();

template <class Primitive, class PrimitiveDesc>
Primitive create_primitive(const PrimitiveDesc& pd) {
  note_primitive_created();
  return Primitive(pd);
}

// Attributes every primitive is created with: the scratchpad is ours (user mode), so oneDNN never
// allocates during execute.
dnnl::primitive_attr user_scratchpad_attr();

// ---- Contract checks --------------------------------------------------------------------------------

// CHECKs that `t` is f32: parameters, statistics and the ops that compute in f32 only.
void check_f32(const Tensor& t, const char* op, const char* name);
// CHECKs that `t` is f32 or bf16: activations and their gradients (bf16 under the cpu-bf16 op table).
void check_float(const Tensor& t, const char* op, const char* name);
// CHECKs that every tensor has the dtype of the first (oneDNN's batch norm, eltwise and our loops read and
// write one type).
void check_same_dtype(const char* op, std::initializer_list<std::pair<const Tensor*, const char*>> tensors);
// oneDNN's type for f32 and bf16 (CHECK-fails otherwise).
dnnl::memory::data_type dnnl_type(DType dtype);
// CHECKs shape equality with a message naming the op and tensor.
void check_shape(const Tensor& t, const Shape& expected, const char* op, const char* name);
// The one dense layout shared by all `tensors` (channels_last wins when every tensor is both, e.g. all
// with C == 1); CHECK-fails naming each tensor's shape and strides otherwise.
Layout common_layout(const char* op, std::initializer_list<const Tensor*> tensors);

// ---- Memory descriptors and memories ----------------------------------------------------------------

dnnl::memory::dims to_dims(const Shape& shape);
// Descriptor of `shape` with the dense strides of `layout` (4-D NCHW or NHWC; any rank contiguous).
// Strides come from the layout rather than the tensor so that size-1 dimensions (where a tensor may
// carry either stride) always give the same descriptor and the same cache entry.
dnnl::memory::desc dense_desc(const Shape& shape, Layout layout, DType dtype = DType::f32);
// 1-D descriptor of n elements: element-wise ops on tensors sharing one memory order.
dnnl::memory::desc flat_desc(int64_t n, DType dtype = DType::f32);
// A memory object without a buffer; bind one with set_data_handle before each execute.
dnnl::memory unbound_memory(const dnnl::memory::desc& desc);

// A buffer owned by a cache entry (from the tensor memory pool, so it shows in memory_stats()) and a
// memory object over it.
struct OwnedMemory {
  std::shared_ptr<Storage> storage;
  dnnl::memory memory;
};
OwnedMemory owned_memory(const dnnl::memory::desc& desc);

// Buffers a call needs only while it runs — scratchpads, bf16 copies of activations, weights in a
// primitive's blocked layout — are not kept per cache entry: each lives in one of this thread's staging
// buffers, shared by every entry and grown to the largest size seen (from the tensor pool at warm-up; the
// steady state allocates nothing). One slot per role, so that the buffers one call holds at once never
// alias; a slot's content lasts until the next use of the same slot on the same thread.
enum class Staging { none = -1, src, diff_dst, weights, diff_weights, scratchpad };
void* staging_buffer(Staging slot, size_t bytes);

// Binds a memory object to a tensor's buffer (oneDNN takes a non-const pointer even for inputs).
inline void bind(const dnnl::memory& m, const Tensor& t) {
  m.set_data_handle(t.raw());
}

// ---- Execution --------------------------------------------------------------------------------------

// An argument list built once per entry. Memory handles are stable: set_data_handle changes the buffer
// behind a handle, not the handle, so the list stays valid when the entry is rebound.
class ExecArgs {
 public:
  void add(int arg, const dnnl::memory& m) { args_.push_back({arg, m.get()}); }
  // The scratchpad `pd` asks for, bound to this thread's scratchpad staging buffer at each execute.
  template <class PrimitiveDesc>
  void add_scratchpad(const PrimitiveDesc& pd) {
    scratchpad_ = unbound_memory(pd.scratchpad_desc());
    scratchpad_bytes_ = pd.scratchpad_desc().get_size();
    add(DNNL_ARG_SCRATCHPAD, scratchpad_);
  }
  // Executes on this thread's stream; CPU execution is synchronous, so the results are there on return.
  void execute(const dnnl::primitive& p) const;

 private:
  std::vector<dnnl_exec_arg_t> args_;
  dnnl::memory scratchpad_;
  size_t scratchpad_bytes_ = 0;
};

// A reorder between a caller's plain buffer and a primitive's preferred format (e.g. OIHW weights to
// the blocked layout of oneDNN's AVX-512 conv kernels, or blocked diff_weights back to OIHW). When the
// two formats are equal it is a no-op and the primitive reads or writes the caller's buffer directly.
class FormatBridge {
 public:
  enum class Direction { to_primitive, from_primitive };
  FormatBridge() = default;
  // The converted copy lives in the staging buffer `slot` (bound by bind_user()), or with Staging::none in a
  // buffer of the bridge's own — for copies that must outlive the call.
  FormatBridge(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive, Direction direction,
               Staging slot);

  // Binds the caller's buffer (and the staging buffer); call before run() and before executing the
  // primitive.
  void bind_user(void* data);
  // The memory object to hand to the primitive.
  const dnnl::memory& primitive_memory() const { return needed_ ? owned_.memory : user_; }
  bool reorder_needed() const { return needed_; }
  // Runs the reorder when one is needed.
  void run() const;

 private:
  dnnl::memory user_;
  OwnedMemory owned_;
  dnnl::reorder reorder_;
  ExecArgs args_;
  bool needed_ = false;
  Staging slot_ = Staging::none;
};

// ---- The primitive cache ----------------------------------------------------------------------------

// Identifies one primitive configuration: op kind, shapes, layouts and parameters, as a short list of
// integers held inline (looking one up allocates nothing).
class CacheKey {
 public:
  explicit CacheKey(int op_kind) { add(op_kind); }
  CacheKey& add(int64_t v);
  CacheKey& add(const Shape& s);
  CacheKey& add(Layout layout) { return add(static_cast<int64_t>(layout)); }
  CacheKey& add(DType dtype) { return add(static_cast<int64_t>(dtype)); }
  CacheKey& add_double(double v);

  bool operator==(const CacheKey& o) const;
  size_t hash() const;

 private:
  static constexpr int kCapacity = 48;
  std::array<int64_t, kCapacity> values_{};
  int size_ = 0;
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const { return k.hash(); }
};

// Every entry carries a mutex held while it is rebound and executed, so two threads running the same
// shape at once do not rebind each other's buffers.
struct CachedEntry {
  std::mutex mutex;
};

// Entries are created on first use and live until exit (a network has a few dozen shapes). The cache
// mutex only guards the lookup; the entry's own mutex guards its use.
template <class Entry>
class PrimitiveCache {
 public:
  template <class Make>
  Entry& find_or_create(const CacheKey& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, make()).first;
    return *it->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<CacheKey, std::unique_ptr<Entry>, CacheKeyHash> entries_;
};

// The one cache of each entry type (a function-local static per type, created on first use).
template <class Entry>
PrimitiveCache<Entry>& cache() {
  static PrimitiveCache<Entry> instance;
  return instance;
}

// Op kinds for cache keys (one enum so keys of different ops never collide).
enum OpKind : int {
  kConvForward = 1,
  kConvBackward,
  kBatchNormForwardTraining,
  kBatchNormForwardInference,
  kBatchNormBackward,
  kReluForward,
  kReluBackward,
  kAddForward,
  kAddReluForward,
  kPoolForward,
  kPoolBackward,
  kGlobalAvgPoolForward,
  kGlobalAvgPoolBackward,
  kLinearForward,
  kLinearBackward,
  kFlattenReorder,
};

}  // namespace resnet::ops::cpu
