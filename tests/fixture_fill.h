// The C++ twin of the formulas in tests/fixtures/generate.py: parameters, buffers, inputs and targets are
// computed on both sides instead of being stored. Keep the two in step.
#pragma once

#include <cmath>
#include <string>

#include "resnet/core/tensor.h"
#include "resnet/nn/module.h"

namespace resnet::testing {

inline int64_t name_salt(const std::string& name) {
  int64_t s = 0;
  for (unsigned char c : name) s += c;
  return s;
}

// Fills `t` (contiguous f32) by the role its torchvision-style name implies.
inline void fill_by_name(const std::string& name, const Tensor& t) {
  const std::string leaf = name.substr(name.rfind('.') + 1);
  // A BN parameter: some module on the path is named bn* or *_bn, or it is a projection's BN.
  bool is_bn = name.find(".downsample.1.") != std::string::npos;
  for (size_t start = 0, dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1) {
    const std::string module = name.substr(start, dot - start);
    is_bn = is_bn || module.starts_with("bn") || module.ends_with("_bn");
  }
  const Shape& s = t.shape();
  const double salt = 0.11 * static_cast<double>(name_salt(name));
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = std::sin(0.37 * static_cast<double>(i) + salt);
    if (leaf == "weight" && s.ndim() == 4) {
      v *= 2.0 / std::sqrt(static_cast<double>(s[1] * s[2] * s[3]));
    } else if (leaf == "weight" && s.ndim() == 2) {
      v /= std::sqrt(static_cast<double>(s[1]));
    } else if (leaf == "weight" && name.ends_with("bn3.weight")) {
      v = 0.05 + 0.02 * v;  // a bottleneck's last BN: keeps deep eval-mode stacks bounded
    } else if (leaf == "weight" && is_bn) {
      v = 1.0 + 0.2 * v;
    } else if (leaf == "bias" || leaf == "running_mean") {
      v = 0.1 * v;
    } else if (leaf == "running_var") {
      v = 1.0 + 0.25 * (v + 1.0);
    } else {
      ADD_FAILURE() << "no fill rule for " << name;
    }
    t.set_flat(i, static_cast<float>(v));
  }
}

inline void fill_module(nn::Module& m) {
  for (auto& [name, p] : m.named_parameters()) fill_by_name(name, p->value());
  for (auto& [name, b] : m.named_buffers())
    if (name.find("num_batches_tracked") == std::string::npos) fill_by_name(name, *b);
}

inline Tensor fill_input(const Shape& shape, double phase = 0.5) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.set_flat(i, static_cast<float>(1.5 * std::sin(0.013 * static_cast<double>(i) + phase)));
  return t;
}

inline Tensor fill_targets(int64_t n, int64_t classes) {
  Tensor t = Tensor::empty({n}, DType::i64);
  for (int64_t k = 0; k < n; ++k) t.data<int64_t>()[k] = (3 * k + 1) % classes;
  return t;
}

}  // namespace resnet::testing
