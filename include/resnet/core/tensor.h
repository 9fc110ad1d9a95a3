// Tensor: a typed, strided view of a Storage.
//
// Contracts
//  - Logical shape is always in PyTorch order: activations are [N, C, H, W], conv weights [O, I/groups, kH,
//  kW],
//    linear weights [out, in]. Memory order is given by the strides; two orders are produced by this library:
//      Layout::contiguous    row-major in logical order (NCHW for 4-D);
//      Layout::channels_last NHWC in memory for 4-D tensors (the layout oneDNN's fast kernels use here).
//  - Copying a Tensor copies the handle, not the data (shared ownership of the Storage). clone() copies data.
//  - Views (view, narrow, select) share storage with their source.
//  - Storage is 64-byte aligned at offset 0.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "resnet/core/check.h"
#include "resnet/core/dtype.h"
#include "resnet/core/memory.h"
#include "resnet/core/shape.h"

namespace resnet {

enum class Layout : uint8_t { contiguous, channels_last };

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Layout layout = Layout::contiguous);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Layout layout = Layout::contiguous);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Layout layout = Layout::contiguous);
  // A tensor over existing storage (shared), e.g. a memory-mapped weights file or a parameter arena.
  static Tensor from_storage(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                             DType dtype, Layout layout = Layout::contiguous);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t size(int dim) const { return shape_[dim]; }
  int64_t stride(int dim) const {
    RESNET_CHECK(dim >= 0 && dim < ndim()) << "dim " << dim << " of a " << ndim() << "-D tensor";
    return strides_[dim];
  }
  const std::array<int64_t, kMaxDims>& strides() const { return strides_; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  size_t nbytes() const { return numel() * dtype_size(dtype_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // True when the elements are dense and row-major in logical order.
  bool is_contiguous() const;
  // True for a 4-D tensor dense in NHWC memory order (a 4-D tensor with C == 1 or H == W == 1 can be both).
  bool is_channels_last() const;
  // Dense in some order this library produces; CHECK-fails on other strides.
  Layout layout() const;
  bool is_dense() const { return is_contiguous() || is_channels_last(); }

  void* raw() const { return static_cast<char*>(storage_->data()) + offset_ * dtype_size(dtype_); }
  template <class T>
  T* data() const {
    RESNET_CHECK(dtype_ == dtype_of<T>())
        << "tensor is " << dtype_name(dtype_) << ", asked for " << dtype_name(dtype_of<T>());
    return static_cast<T*>(raw());
  }
  uint16_t* data_bf16() const {
    RESNET_CHECK(dtype_ == DType::bf16) << "tensor is " << dtype_name(dtype_);
    return static_cast<uint16_t*>(raw());
  }

  // Element offset (in elements, from raw()) of a logical index.
  int64_t offset_of(std::initializer_list<int64_t> index) const;
  // Typed element access through the strides — for tests and reference code, not hot loops.
  template <class T>
  T& at(std::initializer_list<int64_t> index) const {
    return data<T>()[offset_of(index)];
  }
  // Element at a flat logical (row-major) index, converted to/from double; any dtype, any strides.
  double get_flat(int64_t logical_index) const;
  void set_flat(int64_t logical_index, double value) const;

  // Views.
  Tensor view(const Shape& shape) const;                        // needs is_contiguous()
  Tensor narrow(int dim, int64_t start, int64_t length) const;  // sub-range along one dim
  Tensor select(int64_t index) const;                           // drops dim 0

  // Copies.
  Tensor clone(Layout layout) const;  // dense copy in the given layout
  Tensor clone() const {
    return clone(is_channels_last() && !is_contiguous() ? Layout::channels_last : Layout::contiguous);
  }
  Tensor to(Layout layout) const;           // this if already in `layout`, else a copy
  Tensor to(DType dtype) const;             // converted copy (same layout); this if already of that type
  void copy_from(const Tensor& src) const;  // same shape and dtype, any strides on either side
  void fill(double value) const;
  void zero() const;

  std::string str() const;  // "f32[2, 3] (contiguous)"

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  std::array<int64_t, kMaxDims> strides_{};
  DType dtype_ = DType::f32;
};

// Dense strides of `shape` in `layout`.
std::array<int64_t, kMaxDims> dense_strides(const Shape& shape, Layout layout);

// A 4-D tensor with C == 1 (or H == W == 1) is both contiguous and channels_last. These resolve the
// ambiguity: layouts_match is true when both tensors are dense in one common order; activation_layout
// names the layout an op's output should take after input x (channels_last wins when x is both).
bool layouts_match(const Tensor& a, const Tensor& b);
Layout activation_layout(const Tensor& x);

// Re-allocates `t` only when its shape, dtype or layout differ from the requested ones; keeps the
// buffer otherwise. Modules hold their activations this way so the steady state allocates nothing.
// Returns true when it allocated.
bool ensure(Tensor& t, const Shape& shape, DType dtype = DType::f32, Layout layout = Layout::contiguous);

}  // namespace resnet
