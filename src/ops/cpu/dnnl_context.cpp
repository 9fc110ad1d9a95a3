#include "ops/cpu/dnnl_context.h"

#include <array>

#include <atomic>
#include <bit>
#include <cstring>
#include <sstream>

namespace resnet::ops::cpu {

namespace {
std::atomic<int64_t> g_primitives_created{0};
}  // namespace

const dnnl::engine& engine() {
  static const dnnl::engine instance(dnnl::engine::kind::cpu, 0);
  return instance;
}

const dnnl::stream& stream() {
  thread_local const dnnl::stream instance(engine());
  return instance;
}

int64_t primitives_created() {
  return g_primitives_created.load(std::memory_order_relaxed);
}

void note_primitive_created() {
  g_primitives_created.fetch_add(1, std::memory_order_relaxed);
}

dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void check_f32(const Tensor& t, const char* op, const char* name) {
  RESNET_CHECK(t.dtype() == DType::f32)
      << op << ": " << name << " is " << dtype_name(t.dtype()) << t.shape()
      << "; the cpu backend computes in f32 only (use the ref backend for f64)";
}

void check_float(const Tensor& t, const char* op, const char* name) {
  RESNET_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::bf16)
      << op << ": " << name << " is " << dtype_name(t.dtype()) << t.shape()
      << "; the cpu backend takes f32 or bf16 activations (use the ref backend for f64)";
}

void check_same_dtype(const char* op, std::initializer_list<std::pair<const Tensor*, const char*>> tensors) {
  const auto& [first, first_name] = *tensors.begin();
  for (const auto& [t, name] : tensors) {
    check_float(*t, op, name);
    RESNET_CHECK(t->dtype() == first->dtype())
        << op << ": " << name << " is " << dtype_name(t->dtype()) << " but " << first_name << " is "
        << dtype_name(first->dtype()) << "; this op reads and writes one type";
  }
}

dnnl::memory::data_type dnnl_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return dnnl::memory::data_type::f32;
    case DType::bf16:
      return dnnl::memory::data_type::bf16;
    default:
      RESNET_CHECK(false) << "the cpu backend has no oneDNN type for " << dtype_name(dtype);
  }
  return dnnl::memory::data_type::undef;
}

void check_shape(const Tensor& t, const Shape& expected, const char* op, const char* name) {
  RESNET_CHECK(t.shape() == expected)
      << op << ": " << name << " has shape " << t.shape() << ", expected " << expected;
}

Layout common_layout(const char* op, std::initializer_list<const Tensor*> tensors) {
  bool all_channels_last = true, all_contiguous = true;
  for (const Tensor* t : tensors) {
    all_channels_last = all_channels_last && t->is_channels_last();
    all_contiguous = all_contiguous && t->is_contiguous();
  }
  if (all_channels_last) return Layout::channels_last;
  if (all_contiguous) return Layout::contiguous;
  std::ostringstream got;
  for (const Tensor* t : tensors) got << " " << t->str();
  RESNET_CHECK(false) << op
                      << " needs its tensors dense in one layout (all contiguous or all channels_last), got"
                      << got.str();
  return Layout::contiguous;
}

dnnl::memory::dims to_dims(const Shape& shape) {
  return dnnl::memory::dims(shape.begin(), shape.end());
}

dnnl::memory::desc dense_desc(const Shape& shape, Layout layout, DType dtype) {
  const auto strides = dense_strides(shape, layout);
  return dnnl::memory::desc(to_dims(shape), dnnl_type(dtype),
                            dnnl::memory::dims(strides.begin(), strides.begin() + shape.ndim()));
}

dnnl::memory::desc flat_desc(int64_t n, DType dtype) {
  return dnnl::memory::desc({n}, dnnl_type(dtype), dnnl::memory::format_tag::a);
}

dnnl::memory unbound_memory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, engine(), DNNL_MEMORY_NONE);
}

OwnedMemory owned_memory(const dnnl::memory::desc& desc) {
  OwnedMemory m;
  m.storage = Storage::allocate(desc.get_size());
  m.memory = dnnl::memory(desc, engine(), m.storage->data());
  return m;
}

void ExecArgs::execute(const dnnl::primitive& p) const {
  if (scratchpad_bytes_ > 0)
    scratchpad_.set_data_handle(staging_buffer(Staging::scratchpad, scratchpad_bytes_));
  const dnnl_status_t status =
      dnnl_primitive_execute(p.get(), stream().get(), static_cast<int>(args_.size()), args_.data());
  RESNET_CHECK(status == dnnl_success) << "oneDNN primitive execution failed with status " << status;
}

void* staging_buffer(Staging slot, size_t bytes) {
  constexpr size_t kSlots = static_cast<size_t>(Staging::scratchpad) + 1;
  thread_local std::array<std::shared_ptr<Storage>, kSlots> buffers;
  RESNET_CHECK(slot != Staging::none) << "staging_buffer: Staging::none has no buffer";
  std::shared_ptr<Storage>& b = buffers.at(static_cast<size_t>(slot));
  if (!b || b->bytes() < bytes) b = Storage::allocate(bytes);
  return b->data();
}

FormatBridge::FormatBridge(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive,
                           Direction direction, Staging slot)
    : user_(unbound_memory(user)), needed_(user != primitive), slot_(slot) {
  if (!needed_) return;
  if (slot_ != Staging::none)
    owned_.memory = unbound_memory(primitive);
  else
    owned_ = owned_memory(primitive);
  const bool to_primitive = direction == Direction::to_primitive;
  const dnnl::memory& from = to_primitive ? user_ : owned_.memory;
  const dnnl::memory& to = to_primitive ? owned_.memory : user_;
  const dnnl::reorder::primitive_desc pd(engine(), from.get_desc(), engine(), to.get_desc(),
                                         user_scratchpad_attr());
  reorder_ = create_primitive<dnnl::reorder>(pd);
  args_.add(DNNL_ARG_FROM, from);
  args_.add(DNNL_ARG_TO, to);
  args_.add_scratchpad(pd);
}

void FormatBridge::bind_user(void* data) {
  user_.set_data_handle(data);
  // The staging buffer is bound here, not in run(): a from_primitive bridge's primitive writes into it
  // before run() reorders it out.
  if (needed_ && slot_ != Staging::none)
    owned_.memory.set_data_handle(staging_buffer(slot_, owned_.memory.get_desc().get_size()));
}

void FormatBridge::run() const {
  if (needed_) args_.execute(reorder_);
}

CacheKey& CacheKey::add(int64_t v) {
  RESNET_CHECK(size_ < kCapacity) << "cache key longer than " << kCapacity << " values";
  values_[size_++] = v;
  return *this;
}

CacheKey& CacheKey::add(const Shape& s) {
  add(s.ndim());
  for (int64_t d : s) add(d);
  return *this;
}

CacheKey& CacheKey::add_double(double v) {
  return add(std::bit_cast<int64_t>(v));
}

bool CacheKey::operator==(const CacheKey& o) const {
  return size_ == o.size_ && std::memcmp(values_.data(), o.values_.data(), size_ * sizeof(int64_t)) == 0;
}

size_t CacheKey::hash() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int i = 0; i < size_; ++i) {
    h ^= static_cast<uint64_t>(values_[i]);
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return static_cast<size_t>(h);
}

}  // namespace resnet::ops::cpu
