// Over 600 lines: the per-node evaluator of every ONNX op resnet.cpp accepts (onnx::supported_ops), one
// short function per op; they share the attribute and broadcasting helpers at the top.
#include "onnx/node_eval.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>

#include "resnet/ops/batch_norm.h"
#include "resnet/ops/conv2d.h"
#include "resnet/ops/elementwise.h"
#include "resnet/ops/linear.h"
#include "resnet/ops/pool.h"

namespace resnet::onnx {
namespace {

using Dims = std::vector<int64_t>;

Dims dims_of(const Tensor& t) {
  Dims d;
  for (int i = 0; i < t.ndim(); ++i) d.push_back(t.size(i));
  return d;
}

Shape shape_of(const Dims& d, const std::string& where) {
  if (d.size() > static_cast<size_t>(kMaxDims))
    throw UserError(where + ": " + std::to_string(d.size()) + "-D tensors are beyond resnet.cpp's " +
                    std::to_string(kMaxDims) + " dimensions");
  // Values computed at import time (constant folding: shapes, folded weights) are at most this many
  // elements — 16x the largest weight of any torchvision ResNet — so a hostile ConstantOfShape or Reshape
  // cannot ask for terabytes.
  constexpr int64_t kMaxElements = int64_t{1} << 26;
  Shape s;
  int64_t n = 1;
  for (int64_t v : d) {
    if (v < 0) throw UserError(where + ": negative dimension " + std::to_string(v) + " in an output shape");
    if (__builtin_mul_overflow(n, v, &n) || n > kMaxElements) n = kMaxElements + 1;
    s.push_back(v);
  }
  if (n > kMaxElements)
    throw UserError(where + ": an output of shape " + s.str() + " is beyond the " +
                    std::to_string(kMaxElements) + " elements resnet.cpp evaluates while importing");
  return s;
}

Dims row_major_strides(const Dims& d) {
  Dims s(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}

// The element count of `d`; INT64_MAX (no real tensor's) when a partial product overflows.
int64_t product(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d)
    if (__builtin_mul_overflow(n, v, &n)) return INT64_MAX;
  return n;
}

Tensor dense(const Tensor& t) {
  return t.is_contiguous() ? t : t.clone(Layout::contiguous);
}

std::vector<int64_t> int_values(const Tensor& t, const std::string& where, const char* what) {
  if (t.dtype() != DType::i64) throw UserError(where + ": input '" + what + "' must be int64");
  const Tensor d = dense(t);
  return {d.data<int64_t>(), d.data<int64_t>() + d.numel()};
}

int64_t normalise_axis(int64_t axis, int64_t rank, const std::string& where) {
  if (axis < -rank || axis >= rank)
    throw UserError(where + ": axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(rank) +
                    " tensor");
  return axis < 0 ? axis + rank : axis;
}

void require_f32(const Tensor& t, const std::string& where) {
  if (t.dtype() != DType::f32)
    throw UserError(where + ": only float32 data is supported here, got " +
                    std::string(dtype_name(t.dtype())));
}

// Visits every multi-index of `dims` in row-major order.
void for_each_index(const Dims& dims, const std::function<void(const Dims&, int64_t)>& visit) {
  const int64_t n = product(dims);
  Dims idx(dims.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    visit(idx, flat);
    for (int k = static_cast<int>(dims.size()) - 1; k >= 0; --k) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

// out[i] = in[source(i)] for an output of shape `out_dims`; source returns a flat input index or -1 (fill).
Tensor gather_elements(const Tensor& in, const Dims& out_dims, const std::string& where,
                       const std::function<int64_t(const Dims&)>& source, double fill = 0.0) {
  const Tensor x = dense(in);
  Tensor y = Tensor::empty(shape_of(out_dims, where), x.dtype());
  const size_t es = dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(y.raw());
  for_each_index(out_dims, [&](const Dims& idx, int64_t flat) {
    const int64_t s = source(idx);
    if (s < 0)
      y.set_flat(flat, fill);
    else
      std::memcpy(dst + flat * es, src + s * es, es);
  });
  return y;
}

Tensor reshaped(const Tensor& x, const Dims& d, const std::string& where) {
  if (product(d) != x.numel()) throw UserError(where + ": cannot reshape " + x.shape().str());
  return dense(x).clone(Layout::contiguous).view(shape_of(d, where));
}

struct Window {
  std::array<int64_t, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
};

// Reads kernel/strides/pads/dilations/auto_pad of a 2-D conv or pool on input x; rejects what our kernels
// cannot do exactly.
Window window(const pb::NodeProto& node, const Tensor& x, Dims kernel, const std::string& where) {
  if (x.ndim() != 4)
    throw UserError(where + ": only 2-D spatial inputs [N, C, H, W] are supported, got " + x.shape().str());
  Window w;
  kernel = attribute_ints(node, "kernel_shape", kernel);
  if (kernel.size() != 2) throw UserError(where + ": kernel_shape must have 2 values");
  const Dims strides = attribute_ints(node, "strides", {1, 1});
  const Dims dilations = attribute_ints(node, "dilations", {1, 1});
  Dims pads = attribute_ints(node, "pads", {0, 0, 0, 0});
  const std::string auto_pad = attribute_string(node, "auto_pad", "NOTSET");
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    throw UserError(where + ": strides/dilations/pads of the wrong length");
  for (int k = 0; k < 2; ++k) {
    w.kernel[k] = kernel[k], w.stride[k] = strides[k], w.dilation[k] = dilations[k];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t in = x.size(2 + k), out = (in + strides[k] - 1) / strides[k];
      const int64_t total =
          std::max<int64_t>((out - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - in, 0);
      if (total % 2 != 0)
        throw UserError(where + ": auto_pad " + auto_pad +
                        " needs asymmetric padding here, which resnet.cpp's kernels do not do");
      pads[k] = pads[k + 2] = total / 2;
    } else if (auto_pad == "VALID") {
      pads[k] = pads[k + 2] = 0;
    } else if (auto_pad != "NOTSET") {
      throw UserError(where + ": unknown auto_pad '" + auto_pad + "'");
    }
    if (pads[k] != pads[k + 2])
      throw UserError(where + ": asymmetric pads (" + std::to_string(pads[k]) + " vs " +
                      std::to_string(pads[k + 2]) + ") are not supported");
    w.padding[k] = pads[k];
  }
  return w;
}

Tensor conv(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = dense(in.at(0)), weight = dense(in.at(1));
  require_f32(x, where);
  if (weight.ndim() != 4) throw UserError(where + ": weight must be 4-D");
  const Window w = window(node, x, {weight.size(2), weight.size(3)}, where);
  if (w.kernel[0] != weight.size(2) || w.kernel[1] != weight.size(3))
    throw UserError(where + ": kernel_shape disagrees with the weight's shape");
  ops::Conv2dParams p{.stride = w.stride,
                      .padding = w.padding,
                      .dilation = w.dilation,
                      .groups = attribute_int(node, "group", 1)};
  Tensor y = Tensor::empty(ops::conv2d_output_shape(x.shape(), weight.shape(), p));
  const Tensor bias = in.size() > 2 && in[2].defined() ? dense(in[2]) : Tensor();
  ops::cpu::conv2d_forward(x, weight, bias.defined() ? &bias : nullptr, p, y);
  return y;
}

Tensor pool(const pb::NodeProto& node, const std::vector<Tensor>& in, bool max, const std::string& where) {
  const Tensor x = dense(in.at(0));
  require_f32(x, where);
  if (attribute_int(node, "ceil_mode", 0) != 0) throw UserError(where + ": ceil_mode = 1 is not supported");
  if (max && attribute_int(node, "storage_order", 0) != 0)
    throw UserError(where + ": storage_order = 1 is not supported");
  if (node.output_size() > 1 && !node.output(1).empty())
    throw UserError(where + ": the Indices output of MaxPool is not supported");
  const Window w = window(node, x, {}, where);
  if (w.dilation[0] != 1 || w.dilation[1] != 1) throw UserError(where + ": dilated pooling is not supported");
  for (int k = 0; k < 2; ++k)
    if (w.padding[k] > w.kernel[k] / 2)
      throw UserError(where + ": padding larger than half the kernel is not supported");
  ops::Pool2dParams p{.kernel = w.kernel,
                      .stride = w.stride,
                      .padding = w.padding,
                      .count_include_pad = attribute_int(node, "count_include_pad", 0) != 0};
  Tensor y = Tensor::empty(ops::pool2d_output_shape(x.shape(), p));
  if (max) {
    Tensor workspace;
    ops::cpu::max_pool2d_forward(x, p, y, workspace);
  } else {
    ops::cpu::avg_pool2d_forward(x, p, y);
  }
  return y;
}

Dims broadcast_dims(const Dims& a, const Dims& b, const std::string& where) {
  const size_t n = std::max(a.size(), b.size());
  Dims out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) throw UserError(where + ": shapes do not broadcast");
    out[i] = std::max(da, db);
  }
  return out;
}

// Flat index into a tensor of `dims` broadcast to `out` at multi-index idx.
int64_t broadcast_index(const Dims& dims, const Dims& out, const Dims& idx) {
  const Dims strides = row_major_strides(dims);
  int64_t flat = 0;
  const size_t offset = out.size() - dims.size();
  for (size_t i = 0; i < dims.size(); ++i) flat += (dims[i] == 1 ? 0 : idx[i + offset]) * strides[i];
  return flat;
}

Tensor add(const Tensor& a_in, const Tensor& b_in, const std::string& where) {
  const Tensor a = dense(a_in), b = dense(b_in);
  require_f32(a, where);
  require_f32(b, where);
  if (a.shape() == b.shape()) {
    Tensor y = Tensor::empty(a.shape());
    ops::cpu::add_forward(a, b, y);
    return y;
  }
  const Dims da = dims_of(a), db = dims_of(b), out = broadcast_dims(da, db, where);
  Tensor y = Tensor::empty(shape_of(out, where));
  const float *pa = a.data<float>(), *pb_ = b.data<float>();
  float* py = y.data<float>();
  for_each_index(out, [&](const Dims& idx, int64_t flat) {
    py[flat] = pa[broadcast_index(da, out, idx)] + pb_[broadcast_index(db, out, idx)];
  });
  return y;
}

Tensor transpose2d(const Tensor& m) {
  const Tensor d = dense(m);
  Tensor t = Tensor::empty({d.size(1), d.size(0)});
  for (int64_t i = 0; i < d.size(0); ++i)
    for (int64_t j = 0; j < d.size(1); ++j)
      t.data<float>()[j * d.size(0) + i] = d.data<float>()[i * d.size(1) + j];
  return t;
}

// a [M, K] · b [K, N] with our linear op (which computes x · wᵀ).
Tensor matmul2d(const Tensor& a, const Tensor& b) {
  Tensor y = Tensor::empty({a.size(0), b.size(1)});
  ops::cpu::linear_forward(dense(a), transpose2d(b), nullptr, y);
  return y;
}

Tensor gemm(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  Tensor a = dense(in.at(0)), b = dense(in.at(1));
  require_f32(a, where);
  require_f32(b, where);
  if (a.ndim() != 2 || b.ndim() != 2) throw UserError(where + ": Gemm needs 2-D A and B");
  if (attribute_int(node, "transA", 0)) a = transpose2d(a);
  if (attribute_int(node, "transB", 0)) b = transpose2d(b);
  if (a.size(1) != b.size(0)) throw UserError(where + ": inner dimensions differ");
  Tensor y = matmul2d(a, b);
  const float alpha = attribute_float(node, "alpha", 1.0f), beta = attribute_float(node, "beta", 1.0f);
  float* py = y.data<float>();
  for (int64_t i = 0; i < y.numel(); ++i) py[i] *= alpha;
  if (in.size() > 2 && in[2].defined()) {
    const Tensor c = dense(in[2]);
    const Dims dc = dims_of(c), out = dims_of(y);
    broadcast_dims(dc, out, where);
    for_each_index(out, [&](const Dims& idx, int64_t flat) {
      py[flat] += beta * c.data<float>()[broadcast_index(dc, out, idx)];
    });
  }
  return y;
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in, const std::string& where) {
  const Tensor a = dense(a_in), b = dense(b_in);
  require_f32(a, where);
  require_f32(b, where);
  if (a.ndim() < 2 || b.ndim() < 2) throw UserError(where + ": 1-D MatMul operands are not supported");
  if (a.ndim() == 2 && b.ndim() == 2) return matmul2d(a, b);
  if (a.ndim() != b.ndim()) throw UserError(where + ": batched MatMul needs operands of one rank");
  const Dims da = dims_of(a), db = dims_of(b);
  const int r = a.ndim();
  for (int i = 0; i < r - 2; ++i)
    if (da[i] != db[i]) throw UserError(where + ": broadcast batch dimensions are not supported");
  const int64_t m = da[r - 2], k = da[r - 1], n = db[r - 1],
                batches = product(Dims(da.begin(), da.end() - 2));
  Dims out = da;
  out[r - 1] = n;
  Tensor y = Tensor::empty(shape_of(out, where));
  for (int64_t i = 0; i < batches; ++i) {
    Tensor ai = Tensor::empty({m, k}), bi = Tensor::empty({k, n});
    std::memcpy(ai.data<float>(), a.data<float>() + i * m * k, m * k * 4);
    std::memcpy(bi.data<float>(), b.data<float>() + i * k * n, k * n * 4);
    const Tensor yi = matmul2d(ai, bi);
    std::memcpy(y.data<float>() + i * m * n, yi.data<float>(), m * n * 4);
  }
  return y;
}

Tensor pad(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = dense(in.at(0));
  const int64_t r = x.ndim();
  Dims pads =
      in.size() > 1 && in[1].defined() ? int_values(in[1], where, "pads") : attribute_ints(node, "pads");
  if (static_cast<int64_t>(pads.size()) != 2 * r) throw UserError(where + ": pads must have 2 × rank values");
  double value = attribute_float(node, "value", 0.0f);
  if (in.size() > 2 && in[2].defined()) value = in[2].get_flat(0);
  const std::string mode = attribute_string(node, "mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    throw UserError(where + ": unknown Pad mode '" + mode + "'");
  const Dims d = dims_of(x), strides = row_major_strides(d);
  Dims out(r);
  for (int64_t i = 0; i < r; ++i) {
    if (pads[i] < 0 || pads[i + r] < 0)
      throw UserError(where + ": negative pads (cropping) are not supported");
    out[i] = d[i] + pads[i] + pads[i + r];
  }
  return gather_elements(
      x, out, where,
      [&](const Dims& idx) -> int64_t {
        int64_t flat = 0;
        for (int64_t i = 0; i < r; ++i) {
          int64_t s = idx[i] - pads[i];
          if (s < 0 || s >= d[i]) {
            if (mode == "constant") return -1;
            if (mode == "edge")
              s = std::clamp<int64_t>(s, 0, d[i] - 1);
            else
              s = s < 0 ? -s : 2 * (d[i] - 1) - s;  // reflect (pads smaller than the dimension)
          }
          flat += s * strides[i];
        }
        return flat;
      },
      value);
}

Tensor slice(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = in.at(0);
  const int64_t r = x.ndim();
  const Dims starts = int_values(in.at(1), where, "starts"), ends = int_values(in.at(2), where, "ends");
  Dims axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (in.size() > 3 && in[3].defined()) axes = int_values(in[3], where, "axes");
  if (in.size() > 4 && in[4].defined()) steps = int_values(in[4], where, "steps");
  const Dims d = dims_of(x), strides = row_major_strides(d);
  Dims first(r, 0), step(r, 1), out = d;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = normalise_axis(axes[i], r, where), n = d[a], s = steps[i];
    if (s == 0) throw UserError(where + ": a step of 0");
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + n : v, lo, hi); };
    const int64_t b = s > 0 ? clamp(starts[i], 0, n) : clamp(starts[i], -1, n - 1);
    const int64_t e = s > 0 ? clamp(ends[i], 0, n) : clamp(ends[i], -1, n - 1);
    first[a] = b, step[a] = s;
    out[a] = s > 0 ? std::max<int64_t>(0, (e - b + s - 1) / s) : std::max<int64_t>(0, (b - e - s - 1) / -s);
  }
  return gather_elements(x, out, where, [&](const Dims& idx) {
    int64_t flat = 0;
    for (int64_t i = 0; i < r; ++i) flat += (first[i] + idx[i] * step[i]) * strides[i];
    return flat;
  });
}

Tensor transpose(const pb::NodeProto& node, const Tensor& x, const std::string& where) {
  const int64_t r = x.ndim();
  Dims perm(r);
  for (int64_t i = 0; i < r; ++i) perm[i] = r - 1 - i;
  perm = attribute_ints(node, "perm", perm);
  if (static_cast<int64_t>(perm.size()) != r) throw UserError(where + ": perm has the wrong length");
  const Dims d = dims_of(x), strides = row_major_strides(d);
  Dims out(r);
  for (int64_t i = 0; i < r; ++i) out[i] = d[normalise_axis(perm[i], r, where)];
  return gather_elements(x, out, where, [&](const Dims& idx) {
    int64_t flat = 0;
    for (int64_t i = 0; i < r; ++i) flat += idx[i] * strides[perm[i]];
    return flat;
  });
}

Tensor concat(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const int64_t r = in.at(0).ndim();
  const int64_t axis = normalise_axis(attribute_int(node, "axis", 0), r, where);
  Dims out = dims_of(in[0]);
  out[axis] = 0;
  for (const auto& t : in) out[axis] += t.size(static_cast<int>(axis));
  Tensor y = Tensor::empty(shape_of(out, where), in[0].dtype());
  const int64_t outer = product(Dims(out.begin(), out.begin() + axis));
  const int64_t inner = product(Dims(out.begin() + axis + 1, out.end())) * dtype_size(y.dtype());
  char* dst = static_cast<char*>(y.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (const auto& t : in) {
      if (t.dtype() != y.dtype()) throw UserError(where + ": inputs of different types");
      const Tensor dt = dense(t);
      const int64_t bytes = dt.size(static_cast<int>(axis)) * inner;
      std::memcpy(dst, static_cast<const char*>(dt.raw()) + o * bytes, bytes);
      dst += bytes;
    }
  return y;
}

Tensor gather(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = in.at(0);
  const int64_t r = x.ndim();
  const int64_t axis = normalise_axis(attribute_int(node, "axis", 0), r, where);
  const Dims indices = int_values(in.at(1), where, "indices"), d = dims_of(x), strides = row_major_strides(d);
  const Dims id = dims_of(in[1]);
  Dims out(d.begin(), d.begin() + axis);
  out.insert(out.end(), id.begin(), id.end());
  out.insert(out.end(), d.begin() + axis + 1, d.end());
  const Dims istrides = row_major_strides(id);
  return gather_elements(x, out, where, [&](const Dims& idx) {
    int64_t flat = 0, k = 0;
    for (int64_t i = 0; i < axis; ++i) flat += idx[i] * strides[i];
    for (size_t j = 0; j < id.size(); ++j) k += idx[axis + j] * istrides[j];
    int64_t pick = indices[k];
    if (pick < -d[axis] || pick >= d[axis]) throw UserError(where + ": index out of range");
    flat += (pick < 0 ? pick + d[axis] : pick) * strides[axis];
    for (int64_t i = axis + 1; i < r; ++i) flat += idx[i - 1 + id.size()] * strides[i];
    return flat;
  });
}

Tensor reduce_mean(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = dense(in.at(0));
  require_f32(x, where);
  const int64_t r = x.ndim();
  Dims axes = attribute_ints(node, "axes");
  std::set<int64_t> reduce;
  for (int64_t a : axes) reduce.insert(normalise_axis(a, r, where));
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i) reduce.insert(i);
  const bool keep = attribute_int(node, "keepdims", 1) != 0;
  const Dims d = dims_of(x);
  Dims kept = d;
  for (int64_t a : reduce) kept[a] = 1;
  std::vector<double> sums(product(kept), 0.0);
  for_each_index(d, [&](const Dims& idx, int64_t flat) {
    sums[broadcast_index(kept, d, idx)] += x.data<float>()[flat];
  });
  int64_t count = 1;
  for (int64_t a : reduce) count *= d[a];
  Dims out;
  for (int64_t i = 0; i < r; ++i)
    if (keep || !reduce.count(i)) out.push_back(kept[i]);
  Tensor y = Tensor::empty(shape_of(out, where));
  for (size_t i = 0; i < sums.size(); ++i) y.data<float>()[i] = static_cast<float>(sums[i] / count);
  return y;
}

Tensor constant(const pb::NodeProto& node, const std::string& where) {
  if (const auto* a = find_attribute(node, "value")) return tensor_from_proto(a->t(), where, where);
  if (const auto* a = find_attribute(node, "value_float")) return Tensor::full(Shape{}, a->f());
  if (const auto* a = find_attribute(node, "value_int"))
    return Tensor::full(Shape{}, static_cast<double>(a->i()), DType::i64);
  if (const auto* a = find_attribute(node, "value_floats")) {
    Tensor t = Tensor::empty({a->floats_size()});
    std::copy(a->floats().begin(), a->floats().end(), t.data<float>());
    return t;
  }
  if (const auto* a = find_attribute(node, "value_ints")) {
    Tensor t = Tensor::empty({a->ints_size()}, DType::i64);
    std::copy(a->ints().begin(), a->ints().end(), t.data<int64_t>());
    return t;
  }
  throw UserError(where + ": only tensor, float(s) and int(s) Constant values are supported");
}

// QuantizeLinear / DequantizeLinear (opset 13): a scalar scale (per tensor) or a 1-D one along `axis`
// (per axis, default 1), zero point u8 or s8 of the scale's shape (absent: u8 0). Quantize is
// saturate(round_half_to_even(x / scale) + zero_point); dequantize (q - zero_point) × scale. They exist to
// check the exporter's int8 files (onnx/export.h): the importer does not accept them (not in supported_ops).
struct QuantParams {
  Tensor scale, zero_point;        // dense; zero_point undefined when absent
  int64_t axis = 0, per_axis = 0;  // per_axis: the scale's length along `axis` (0: per tensor)
};

QuantParams quant_params(const pb::NodeProto& node, const Tensor& x, const std::vector<Tensor>& in,
                         const std::string& where) {
  QuantParams q;
  q.scale = dense(in[1]);
  require_f32(q.scale, where);
  if (in.size() > 2 && in[2].defined()) {
    q.zero_point = dense(in[2]);
    if (q.zero_point.dtype() != DType::u8 && q.zero_point.dtype() != DType::s8)
      throw UserError(where + ": zero point must be uint8 or int8");
    if (q.zero_point.numel() != q.scale.numel())
      throw UserError(where + ": zero point and scale differ in size");
  }
  if (q.scale.ndim() == 1 && q.scale.numel() > 1) {
    q.axis = normalise_axis(attribute_int(node, "axis", 1), x.ndim(), where);
    q.per_axis = q.scale.numel();
    if (x.size(static_cast<int>(q.axis)) != q.per_axis)
      throw UserError(where + ": scale of " + std::to_string(q.per_axis) + " values for axis " +
                      std::to_string(q.axis) + " of " + x.shape().str());
  } else if (q.scale.numel() != 1) {
    throw UserError(where + ": scale must be a scalar or 1-D");
  }
  return q;
}

// The per-axis index of each element of a row-major tensor of x's shape: (i / inner) % per_axis.
int64_t quant_inner(const Tensor& x, const QuantParams& q) {
  int64_t inner = 1;
  for (int d = static_cast<int>(q.axis) + 1; d < x.ndim(); ++d) inner *= x.size(d);
  return inner;
}

Tensor quantize_linear(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = dense(in[0]);
  require_f32(x, where);
  const QuantParams q = quant_params(node, x, in, where);
  const DType type = q.zero_point.defined() ? q.zero_point.dtype() : DType::u8;
  const double lo = type == DType::u8 ? 0 : -128, hi = type == DType::u8 ? 255 : 127;
  const int64_t inner = quant_inner(x, q);
  Tensor y = Tensor::empty(x.shape(), type);
  const float* xs = x.data<float>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const int64_t k = q.per_axis ? (i / inner) % q.per_axis : 0;
    const float scale = q.scale.data<float>()[k];
    const double zp = q.zero_point.defined() ? q.zero_point.get_flat(k) : 0.0;
    // x / scale in f32, as the ONNX reference computes it; nearbyint rounds half to even.
    const double v = std::clamp(static_cast<double>(std::nearbyint(xs[i] / scale)) + zp, lo, hi);
    if (type == DType::u8)
      y.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else
      y.data<int8_t>()[i] = static_cast<int8_t>(v);
  }
  return y;
}

Tensor dequantize_linear(const pb::NodeProto& node, const std::vector<Tensor>& in, const std::string& where) {
  const Tensor x = dense(in[0]);
  if (x.dtype() != DType::u8 && x.dtype() != DType::s8)
    throw UserError(where + ": DequantizeLinear of " + std::string(dtype_name(x.dtype())) +
                    " (uint8 and int8 only)");
  const QuantParams q = quant_params(node, x, in, where);
  if (q.zero_point.defined() && q.zero_point.dtype() != x.dtype())
    throw UserError(where + ": zero point and input differ in type");
  const int64_t inner = quant_inner(x, q);
  Tensor y = Tensor::empty(x.shape());
  float* ys = y.data<float>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const int64_t k = q.per_axis ? (i / inner) % q.per_axis : 0;
    const float zp = q.zero_point.defined() ? static_cast<float>(q.zero_point.get_flat(k)) : 0.f;
    const float v = x.dtype() == DType::u8 ? x.data<uint8_t>()[i] : x.data<int8_t>()[i];
    ys[i] = (v - zp) * q.scale.data<float>()[k];
  }
  return y;
}

}  // namespace

const std::vector<SupportedOp>& supported_ops() {
  static const std::vector<SupportedOp> ops{{"Conv", true},        {"BatchNormalization", true},
                                            {"Relu", true},        {"MaxPool", true},
                                            {"AveragePool", true}, {"GlobalAveragePool", true},
                                            {"ReduceMean", true},  {"Add", true},
                                            {"Gemm", true},        {"MatMul", true},
                                            {"Flatten", true},     {"Reshape", true},
                                            {"Squeeze", true},     {"Unsqueeze", true},
                                            {"Pad", true},         {"Slice", true},
                                            {"Constant", true},    {"Identity", true},
                                            {"Dropout", true},     {"Transpose", true},
                                            {"Shape", true},       {"Gather", true},
                                            {"Concat", true},      {"ConstantOfShape", false},
                                            {"Cast", false}};
  return ops;
}

bool node_supported(const std::string& op) {
  const auto& ops = supported_ops();
  return std::any_of(ops.begin(), ops.end(), [&](const SupportedOp& s) { return op == s.name; });
}

std::vector<Tensor> evaluate_node(const pb::NodeProto& node, const std::vector<Tensor>& in,
                                  const std::string& where) {
  const std::string& op = node.op_type();
  auto need = [&](size_t n) {
    if (in.size() < n || !in[n - 1].defined())
      throw UserError(where + ": " + op + " needs " + std::to_string(n) + " input(s)");
  };
  if (op == "Conv") return need(2), std::vector<Tensor>{conv(node, in, where)};
  if (op == "BatchNormalization") {
    need(5);
    if (attribute_int(node, "training_mode", 0) != 0)
      throw UserError(where + ": training_mode = 1 (batch statistics) is not supported: export in eval mode");
    const Tensor x = dense(in[0]);
    require_f32(x, where);
    if (x.ndim() != 4)
      throw UserError(where + ": BatchNormalization on " + x.shape().str() + " (only [N, C, H, W])");
    Tensor y = Tensor::empty(x.shape());
    const Tensor w = dense(in[1]), b = dense(in[2]), mean = dense(in[3]), var = dense(in[4]);
    ops::cpu::batch_norm_forward_inference(x, &w, &b, mean, var,
                                           {.eps = attribute_float(node, "epsilon", 1e-5f)}, y);
    return {y};
  }
  if (op == "Relu") {
    need(1);
    const Tensor x = dense(in[0]);
    require_f32(x, where);
    Tensor y = Tensor::empty(x.shape());
    ops::cpu::relu_forward(x, y);
    return {y};
  }
  if (op == "MaxPool" || op == "AveragePool")
    return need(1), std::vector<Tensor>{pool(node, in, op == "MaxPool", where)};
  if (op == "GlobalAveragePool") {
    need(1);
    const Tensor x = dense(in[0]);
    require_f32(x, where);
    if (x.ndim() != 4) throw UserError(where + ": only [N, C, H, W] inputs");
    Tensor y = Tensor::empty({x.size(0), x.size(1)});
    ops::cpu::global_avg_pool_forward(x, y);
    return {y.view({x.size(0), x.size(1), 1, 1})};
  }
  if (op == "ReduceMean") return need(1), std::vector<Tensor>{reduce_mean(node, in, where)};
  if (op == "Add") return need(2), std::vector<Tensor>{add(in[0], in[1], where)};
  if (op == "Gemm") return need(2), std::vector<Tensor>{gemm(node, in, where)};
  if (op == "MatMul") return need(2), std::vector<Tensor>{matmul(in[0], in[1], where)};
  if (op == "Flatten") {
    need(1);
    const Dims d = dims_of(in[0]);
    const int64_t r = static_cast<int64_t>(d.size());
    int64_t axis = attribute_int(node, "axis", 1);
    if (axis < -r || axis > r) throw UserError(where + ": axis out of range");
    if (axis < 0) axis += r;
    return {reshaped(in[0],
                     {product(Dims(d.begin(), d.begin() + axis)), product(Dims(d.begin() + axis, d.end()))},
                     where)};
  }
  if (op == "Reshape") {
    need(2);
    Dims target = int_values(in[1], where, "shape");
    const Dims d = dims_of(in[0]);
    const bool allow_zero = attribute_int(node, "allowzero", 0) != 0;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < target.size(); ++i) {
      if (target[i] == 0 && !allow_zero) {
        if (i >= d.size()) throw UserError(where + ": 0 in shape beyond the input's rank");
        target[i] = d[i];
      }
      if (target[i] == -1) {
        if (infer >= 0) throw UserError(where + ": more than one -1 in shape");
        infer = static_cast<int64_t>(i);
      } else {
        if (target[i] < 0)
          throw UserError(where + ": negative dimension " + std::to_string(target[i]) +
                          " in the target shape");
        if (__builtin_mul_overflow(known, target[i], &known))
          throw UserError(where + ": the target shape's element count overflows 64 bits");
      }
    }
    if (infer >= 0) target[infer] = known == 0 ? 0 : in[0].numel() / known;
    return {reshaped(in[0], target, where)};
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    need(1);
    Dims axes =
        in.size() > 1 && in[1].defined() ? int_values(in[1], where, "axes") : attribute_ints(node, "axes");
    Dims d = dims_of(in[0]);
    if (op == "Squeeze") {
      std::set<int64_t> drop;
      for (int64_t a : axes) drop.insert(normalise_axis(a, static_cast<int64_t>(d.size()), where));
      Dims out;
      for (size_t i = 0; i < d.size(); ++i) {
        const bool dropped = axes.empty() ? d[i] == 1 : drop.count(static_cast<int64_t>(i)) > 0;
        if (dropped && d[i] != 1)
          throw UserError(where + ": cannot squeeze a dimension of size " + std::to_string(d[i]));
        if (!dropped) out.push_back(d[i]);
      }
      return {reshaped(in[0], out, where)};
    }
    const int64_t r = static_cast<int64_t>(d.size() + axes.size());
    std::set<int64_t> add_at;
    for (int64_t a : axes) add_at.insert(normalise_axis(a, r, where));
    Dims out;
    for (int64_t i = 0, k = 0; i < r; ++i) out.push_back(add_at.count(i) ? 1 : d[k++]);
    return {reshaped(in[0], out, where)};
  }
  if (op == "Pad") return need(1), std::vector<Tensor>{pad(node, in, where)};
  if (op == "Slice") return need(3), std::vector<Tensor>{slice(node, in, where)};
  if (op == "Constant") return {constant(node, where)};
  if (op == "Identity") return need(1), std::vector<Tensor>{in[0]};
  if (op == "Dropout") {
    need(1);
    if (in.size() > 2 && in[2].defined() && in[2].get_flat(0) != 0)
      throw UserError(where + ": training-mode Dropout is not supported: export in eval mode");
    std::vector<Tensor> out{in[0]};
    if (node.output_size() > 1) out.push_back(Tensor::full(in[0].shape(), 1.0, DType::u8));
    return out;
  }
  if (op == "Transpose") return need(1), std::vector<Tensor>{transpose(node, in[0], where)};
  if (op == "Shape") {
    need(1);
    const int64_t r = in[0].ndim();
    auto clip = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
    const int64_t start = clip(attribute_int(node, "start", 0)), end = clip(attribute_int(node, "end", r));
    Tensor y = Tensor::empty({std::max<int64_t>(0, end - start)}, DType::i64);
    for (int64_t i = start; i < end; ++i) y.data<int64_t>()[i - start] = in[0].size(static_cast<int>(i));
    return {y};
  }
  if (op == "ConstantOfShape") {
    const Dims d = in.size() > 0 && in[0].defined() ? int_values(in[0], where, "input") : Dims{};
    const auto* a = find_attribute(node, "value");
    const Tensor value = a ? tensor_from_proto(a->t(), where, where) : Tensor::zeros({1});
    Tensor y = Tensor::empty(shape_of(d, where), value.dtype());
    for (int64_t i = 0; i < y.numel(); ++i) y.set_flat(i, value.get_flat(0));
    return {y};
  }
  if (op == "Cast") {
    need(1);
    const int64_t to = attribute_int(node, "to", 0);
    DType dtype;
    switch (to) {
      case pb::TensorProto::FLOAT:
        dtype = DType::f32;
        break;
      case pb::TensorProto::DOUBLE:
        dtype = DType::f64;
        break;
      case pb::TensorProto::INT64:
      case pb::TensorProto::INT32:
        dtype = DType::i64;
        break;
      case pb::TensorProto::BOOL:
      case pb::TensorProto::UINT8:
        dtype = DType::u8;
        break;
      default:
        throw UserError(where + ": Cast to ONNX type " + std::to_string(to) + " is not supported");
    }
    Tensor y = Tensor::empty(in[0].shape(), dtype);
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double v = in[0].get_flat(i);
      y.set_flat(i, dtype == DType::u8 && (to == pb::TensorProto::BOOL) ? (v != 0) : v);
    }
    return {y};
  }
  if (op == "QuantizeLinear") return need(2), std::vector<Tensor>{quantize_linear(node, in, where)};
  if (op == "DequantizeLinear") return need(2), std::vector<Tensor>{dequantize_linear(node, in, where)};
  if (op == "Gather") return need(2), std::vector<Tensor>{gather(node, in, where)};
  if (op == "Concat") return need(1), std::vector<Tensor>{concat(node, in, where)};
  throw UserError(where + ": op " + op + " is not supported by resnet.cpp");
}

}  // namespace resnet::onnx
