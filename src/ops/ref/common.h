// Helpers shared by the reference ops: element access through strides and dispatch on f32/f64.
#pragma once

#include "resnet/core/tensor.h"

namespace resnet::ops::ref {

// Strided 4-D view of a tensor's elements: x(n, c, h, w).
template <class T>
struct View4 {
  T* data;
  int64_t s0, s1, s2, s3;
  explicit View4(const Tensor& t)
      : data(static_cast<T*>(t.raw())), s0(t.stride(0)), s1(t.stride(1)), s2(t.stride(2)), s3(t.stride(3)) {}
  T& operator()(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return data[n * s0 + c * s1 + h * s2 + w * s3];
  }
};

// Strided 2-D view: x(i, j).
template <class T>
struct View2 {
  T* data;
  int64_t s0, s1;
  explicit View2(const Tensor& t) : data(static_cast<T*>(t.raw())), s0(t.stride(0)), s1(t.stride(1)) {}
  T& operator()(int64_t i, int64_t j) const { return data[i * s0 + j * s1]; }
};

// Strided 1-D view.
template <class T>
struct View1 {
  T* data;
  int64_t s0;
  explicit View1(const Tensor& t) : data(static_cast<T*>(t.raw())), s0(t.stride(0)) {}
  T& operator()(int64_t i) const { return data[i * s0]; }
};

// CHECKs x is defined and of a floating dtype the ref ops compute on (f32 or f64); returns whether f64.
inline bool is_f64(const char* op, const Tensor& x) {
  RESNET_CHECK(x.defined()) << op << ": input is undefined";
  RESNET_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64)
      << op << ": ref ops compute on f32 or f64, got " << dtype_name(x.dtype());
  return x.dtype() == DType::f64;
}

inline void check_same(const char* op, const char* name, const Tensor& t, const Tensor& x,
                       const Shape& shape) {
  RESNET_CHECK(t.defined()) << op << ": " << name << " is undefined";
  RESNET_CHECK(t.dtype() == x.dtype())
      << op << ": " << name << " is " << dtype_name(t.dtype()) << ", x is " << dtype_name(x.dtype());
  RESNET_CHECK(t.shape() == shape) << op << ": " << name << " has shape " << t.shape() << ", expected "
                                   << shape;
}

// Runs `body` with the alias T = float or double, chosen by x's dtype (CHECKed to be one of them).
#define RESNET_REF_DISPATCH(op, x, body)     \
  do {                                       \
    if (::resnet::ops::ref::is_f64(op, x)) { \
      using T = double;                      \
      body;                                  \
    } else {                                 \
      using T = float;                       \
      body;                                  \
    }                                        \
  } while (0)

}  // namespace resnet::ops::ref
