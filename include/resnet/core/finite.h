// Healthy numbers: where a tensor read from a file (weights, BN statistics, an input) holds NaN or ±Inf,
// found before it is used, so that a damaged file is refused by name instead of evaluating to 10 % and a
// loss of -nan, or a NaN image turning into finite but meaningless logits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "resnet/core/tensor.h"

namespace resnet {

// The logical (row-major) index of the first NaN or ±Inf value, or nullopt when every value is finite.
// Integer tensors are always finite. Any layout or strides.
std::optional<int64_t> first_nonfinite(const Tensor& t);
// The logical index of the first negative value (or NaN), or nullopt.
std::optional<int64_t> first_negative(const Tensor& t);

// "[0, 2, 5, 1] (flat 1234)" for a logical index of `shape`.
std::string describe_index(const Shape& shape, int64_t flat);
// "NaN", "inf", "-inf" or the value.
std::string describe_value(double v);

}  // namespace resnet
