// Shape: up to 5 dimensions, held inline (no heap).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>

#include "resnet/core/check.h"

namespace resnet {

constexpr int kMaxDims = 5;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    RESNET_CHECK(dims.size() <= kMaxDims) << "at most " << kMaxDims << " dimensions, got " << dims.size();
    for (int64_t d : dims) push_back(d);
  }

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const {
    RESNET_CHECK(i >= 0 && i < ndim_) << "dim " << i << " of a " << ndim_ << "-D shape";
    return dims_[i];
  }
  int64_t& operator[](int i) {
    RESNET_CHECK(i >= 0 && i < ndim_) << "dim " << i << " of a " << ndim_ << "-D shape";
    return dims_[i];
  }
  void push_back(int64_t d) {
    RESNET_CHECK(ndim_ < kMaxDims) << "at most " << kMaxDims << " dimensions";
    RESNET_CHECK(d >= 0) << "negative dimension " << d;
    dims_[ndim_++] = d;
  }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim_; ++i) n *= dims_[i];
    return n;
  }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + ndim_; }

  bool operator==(const Shape& o) const {
    if (ndim_ != o.ndim_) return false;
    for (int i = 0; i < ndim_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  std::string str() const;  // "[2, 3, 4]"

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace resnet
