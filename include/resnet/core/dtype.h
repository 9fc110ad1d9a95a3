// Element types. f32 is the training type; bf16/s8/u8/s32 serve reduced-precision paths and data;
// i64 holds class labels (and torchvision's num_batches_tracked); f64 exists for the reference ops'
// finite-difference gradient checks.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace resnet {

enum class DType : uint8_t { f32, f64, bf16, s8, u8, s32, i64 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::bf16:
      return 2;
    case DType::s8:
      return 1;
    case DType::u8:
      return 1;
    case DType::s32:
      return 4;
    case DType::i64:
      return 8;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::bf16:
      return "bf16";
    case DType::s8:
      return "s8";
    case DType::u8:
      return "u8";
    case DType::s32:
      return "s32";
    case DType::i64:
      return "i64";
  }
  return "?";
}

// The C++ type stored for a DType (bf16 is stored as its raw 16 bits).
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::s8;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::u8;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::s32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}

// bf16 <-> f32, round-to-nearest-even (NaN stays NaN). Inline: loops over activations call them per element.
inline uint16_t f32_to_bf16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu))
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);  // round half to even
  return static_cast<uint16_t>((bits + rounding) >> 16);
}
inline float bf16_to_f32(uint16_t x) {
  return std::bit_cast<float>(static_cast<uint32_t>(x) << 16);
}
// IEEE half (its raw 16 bits) -> f32, exact (subnormals, infinities and NaN included).
float f16_to_f32(uint16_t h);

}  // namespace resnet
