#include "resnet/core/tensor.h"

#include <sstream>

namespace resnet {

std::array<int64_t, kMaxDims> dense_strides(const Shape& shape, Layout layout) {
  std::array<int64_t, kMaxDims> st{};
  const int nd = shape.ndim();
  if (layout == Layout::channels_last) {
    RESNET_CHECK(nd == 4) << "channels_last needs a 4-D shape, got " << shape;
    const int64_t C = shape[1], H = shape[2], W = shape[3];
    st[1] = 1;
    st[3] = C;
    st[2] = C * W;
    st[0] = C * W * H;
    return st;
  }
  int64_t s = 1;
  for (int i = nd - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Layout layout) {
  Tensor t;
  t.storage_ = Storage::allocate(shape.numel() * dtype_size(dtype));
  t.shape_ = shape;
  t.strides_ = dense_strides(shape, layout);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Layout layout) {
  Tensor t = empty(shape, dtype, layout);
  t.zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Layout layout) {
  Tensor t = empty(shape, dtype, layout);
  t.fill(value);
  return t;
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                            DType dtype, Layout layout) {
  RESNET_CHECK(storage != nullptr);
  RESNET_CHECK(byte_offset % dtype_size(dtype) == 0)
      << "offset " << byte_offset << " not aligned to " << dtype_name(dtype);
  RESNET_CHECK(byte_offset + shape.numel() * dtype_size(dtype) <= storage->bytes())
      << "view of " << shape << " at byte " << byte_offset << " overruns a storage of " << storage->bytes();
  Tensor t;
  t.storage_ = std::move(storage);
  t.offset_ = static_cast<int64_t>(byte_offset / dtype_size(dtype));
  t.shape_ = shape;
  t.strides_ = dense_strides(shape, layout);
  t.dtype_ = dtype;
  return t;
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Tensor::is_channels_last() const {
  if (ndim() != 4) return false;
  const int order[4] = {1, 3, 2, 0};  // innermost first: C, W, H, N
  int64_t expected = 1;
  for (int i : order) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Layout Tensor::layout() const {
  if (is_contiguous()) return Layout::contiguous;
  if (is_channels_last()) return Layout::channels_last;
  RESNET_CHECK(false) << "tensor " << str() << " is not dense in a known layout";
  return Layout::contiguous;
}

int64_t Tensor::offset_of(std::initializer_list<int64_t> index) const {
  RESNET_CHECK(static_cast<int>(index.size()) == ndim()) << index.size() << " indices for " << shape_;
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    RESNET_CHECK(i >= 0 && i < shape_[d])
        << "index " << i << " out of range for dim " << d << " of " << shape_;
    off += i * strides_[d++];
  }
  return off;
}

namespace {

// Element offset of a flat logical index.
int64_t strided_offset(const Tensor& t, int64_t flat) {
  int64_t off = 0;
  for (int d = t.ndim() - 1; d >= 0; --d) {
    const int64_t n = t.shape()[d];
    off += (flat % n) * t.strides()[d];
    flat /= n;
  }
  return off;
}

double load(const void* base, DType dt, int64_t off) {
  switch (dt) {
    case DType::f32:
      return static_cast<const float*>(base)[off];
    case DType::f64:
      return static_cast<const double*>(base)[off];
    case DType::bf16:
      return bf16_to_f32(static_cast<const uint16_t*>(base)[off]);
    case DType::s8:
      return static_cast<const int8_t*>(base)[off];
    case DType::u8:
      return static_cast<const uint8_t*>(base)[off];
    case DType::s32:
      return static_cast<const int32_t*>(base)[off];
    case DType::i64:
      return static_cast<double>(static_cast<const int64_t*>(base)[off]);
  }
  return 0;
}

void store(void* base, DType dt, int64_t off, double v) {
  switch (dt) {
    case DType::f32:
      static_cast<float*>(base)[off] = static_cast<float>(v);
      break;
    case DType::f64:
      static_cast<double*>(base)[off] = v;
      break;
    case DType::bf16:
      static_cast<uint16_t*>(base)[off] = f32_to_bf16(static_cast<float>(v));
      break;
    case DType::s8:
      static_cast<int8_t*>(base)[off] = static_cast<int8_t>(v);
      break;
    case DType::u8:
      static_cast<uint8_t*>(base)[off] = static_cast<uint8_t>(v);
      break;
    case DType::s32:
      static_cast<int32_t*>(base)[off] = static_cast<int32_t>(v);
      break;
    case DType::i64:
      static_cast<int64_t*>(base)[off] = static_cast<int64_t>(v);
      break;
  }
}

// Strided element copy of equal dtypes, element size known at compile time.
template <size_t kSize>
void strided_copy(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  char* d = static_cast<char*>(dst.raw());
  const char* s = static_cast<const char*>(src.raw());
  if (dst.ndim() == 4) {
    const int64_t N = dst.size(0), C = dst.size(1), H = dst.size(2), W = dst.size(3);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t i = 0; i < N; ++i)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const int64_t od =
                i * dst.strides()[0] + c * dst.strides()[1] + h * dst.strides()[2] + w * dst.strides()[3];
            const int64_t os =
                i * src.strides()[0] + c * src.strides()[1] + h * src.strides()[2] + w * src.strides()[3];
            std::memcpy(d + od * kSize, s + os * kSize, kSize);
          }
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(d + strided_offset(dst, i) * kSize, s + strided_offset(src, i) * kSize, kSize);
}

}  // namespace

double Tensor::get_flat(int64_t i) const {
  return load(raw(), dtype_, strided_offset(*this, i));
}
void Tensor::set_flat(int64_t i, double v) const {
  store(raw(), dtype_, strided_offset(*this, i), v);
}

Tensor Tensor::view(const Shape& shape) const {
  RESNET_CHECK(is_contiguous()) << "view() needs a contiguous tensor, got " << str();
  RESNET_CHECK(shape.numel() == numel()) << "view " << shape << " of " << shape_;
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = dense_strides(shape, Layout::contiguous);
  return t;
}

Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const {
  RESNET_CHECK(dim >= 0 && dim < ndim()) << "dim " << dim << " of " << shape_;
  RESNET_CHECK(start >= 0 && length >= 0 && start + length <= shape_[dim])
      << "narrow(" << dim << ", " << start << ", " << length << ") of " << shape_;
  Tensor t = *this;
  t.offset_ += start * strides_[dim];
  t.shape_[dim] = length;
  return t;
}

Tensor Tensor::select(int64_t index) const {
  RESNET_CHECK(ndim() >= 1 && index >= 0 && index < shape_[0]) << "select(" << index << ") of " << shape_;
  Tensor t;
  t.storage_ = storage_;
  t.dtype_ = dtype_;
  t.offset_ = offset_ + index * strides_[0];
  for (int d = 1; d < ndim(); ++d) {
    t.shape_.push_back(shape_[d]);
    t.strides_[d - 1] = strides_[d];
  }
  return t;
}

void Tensor::copy_from(const Tensor& src) const {
  RESNET_CHECK(src.shape() == shape_) << "copy " << src.shape() << " into " << shape_;
  RESNET_CHECK(src.dtype() == dtype_)
      << "copy " << dtype_name(src.dtype()) << " into " << dtype_name(dtype_) << " (use to(dtype))";
  if (numel() == 0) return;
  const bool same_dense = (is_contiguous() && src.is_contiguous()) ||
                          (is_channels_last() && src.is_channels_last() && ndim() == 4);
  if (same_dense) {
    std::memcpy(raw(), src.raw(), nbytes());
    return;
  }
  switch (dtype_size(dtype_)) {
    case 1:
      strided_copy<1>(*this, src);
      break;
    case 2:
      strided_copy<2>(*this, src);
      break;
    case 4:
      strided_copy<4>(*this, src);
      break;
    case 8:
      strided_copy<8>(*this, src);
      break;
  }
}

Tensor Tensor::clone(Layout layout) const {
  Tensor t = empty(shape_, dtype_, layout);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(Layout layout) const {
  if (layout == Layout::contiguous ? is_contiguous() : is_channels_last()) return *this;
  return clone(layout);
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor t = empty(shape_, dtype,
                   is_channels_last() && !is_contiguous() ? Layout::channels_last : Layout::contiguous);
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) t.set_flat(i, get_flat(i));
  return t;
}

void Tensor::fill(double value) const {
  const int64_t n = numel();
  if (is_dense()) {
    void* base = raw();
    if (dtype_ == DType::f32) {
      float* p = static_cast<float*>(base);
      const float v = static_cast<float>(value);
      for (int64_t i = 0; i < n; ++i) p[i] = v;
      return;
    }
    for (int64_t i = 0; i < n; ++i) store(base, dtype_, i, value);
    return;
  }
  for (int64_t i = 0; i < n; ++i) set_flat(i, value);
}

void Tensor::zero() const {
  if (is_dense()) {
    std::memset(raw(), 0, nbytes());
    return;
  }
  fill(0.0);
}

std::string Tensor::str() const {
  std::ostringstream os;
  if (!defined()) return "undefined tensor";
  os << dtype_name(dtype_) << shape_;
  if (is_contiguous()) {
    os << " (contiguous)";
  } else if (is_channels_last()) {
    os << " (channels_last)";
  } else {
    os << " (strides";
    for (int d = 0; d < ndim(); ++d) os << ' ' << strides_[d];
    os << ')';
  }
  return os.str();
}

bool layouts_match(const Tensor& a, const Tensor& b) {
  return (a.is_contiguous() && b.is_contiguous()) || (a.is_channels_last() && b.is_channels_last());
}

Layout activation_layout(const Tensor& x) {
  return x.is_channels_last() ? Layout::channels_last : Layout::contiguous;
}

bool ensure(Tensor& t, const Shape& shape, DType dtype, Layout layout) {
  if (t.defined() && t.shape() == shape && t.dtype() == dtype &&
      (layout == Layout::contiguous ? t.is_contiguous() : t.is_channels_last()))
    return false;
  t = Tensor::empty(shape, dtype, layout);
  return true;
}

}  // namespace resnet
