// Over 600 lines: the plan of one compiled network (fp32/bf16 and int8 convs, pooling, head, buffers by
// liveness) — each step builder reads and extends the same plan state.
// Builds the engine's plan by walking the network's typed architecture (models/architecture.h), finding
// each unit's modules by name, then assigns buffers.
//
// Planning works on "values" (activations) rather than buffers: each step reads and writes values, a
// conv with a sum post-op updates its shortcut value in place. Once every step exists, values get
// buffers by liveness (a buffer is reused once the value in it has been read for the last time), each
// buffer as large as the largest value it holds, and the memory objects are bound once.
#include "resnet/infer/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ops/cpu/dnnl_context.h"
#include "resnet/models/architecture.h"
#include "resnet/nn/fold.h"
#include "resnet/nn/layers.h"
#include "resnet/ops/backend.h"
#include "resnet/ops/conv2d.h"
#include "resnet/ops/pool.h"

namespace resnet::infer {

using dnnl::memory;
using Tag = memory::format_tag;
using ops::cpu::engine;
using ops::cpu::ExecArgs;

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::bf16:
      return "bf16";
    case Precision::int8:
      return "int8";
    default:
      return "fp32";
  }
}

Precision parse_precision(std::string_view name) {
  if (name == "fp32" || name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  if (name == "int8" || name == "s8") return Precision::int8;
  throw UserError("unknown precision '" + std::string(name) + "': use fp32, bf16 or int8");
}

bool precision_supported(Precision p) {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx2 = static_cast<unsigned>(dnnl::cpu_isa::avx2);
  switch (p) {
    case Precision::bf16:
      return ops::bf16_supported();  // the same kernels as bf16 training's
    case Precision::int8:
      return (isa & avx2) == avx2;
    default:
      return true;
  }
}

bool cpu_has_vnni() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  // The ISA values are bit sets; these bits are the VNNI extensions of AVX-512 and of AVX2.
  const auto vnni512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_vnni) &
                       ~static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  const auto vnni256 =
      static_cast<unsigned>(dnnl::cpu_isa::avx2_vnni) & ~static_cast<unsigned>(dnnl::cpu_isa::avx2);
  return (isa & vnni512) != 0 || (isa & vnni256) != 0;
}

std::string Calibration::to_json() const {
  nlohmann::json j;
  j["format"] = "resnet.cpp calibration";
  j["images"] = images;
  nlohmann::json r = nlohmann::json::object();
  for (const auto& [key, range] : ranges) r[key] = {range.min, range.max};
  j["ranges"] = r;
  return j.dump(1);
}

Calibration Calibration::from_json(const std::string& text, const std::string& source) {
  const auto bad = [&](const std::string& why) {
    return UserError("'" + source + "' is not a calibration file (" + why +
                     "): write one with `resnet quantize --checkpoint RUN`");
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("ranges") || !j["ranges"].is_object()) throw bad("no \"ranges\" object");
  Calibration c;
  c.images = j.value("images", int64_t{0});
  for (const auto& [key, value] : j["ranges"].items()) {
    if (!value.is_array() || value.size() != 2 || !value[0].is_number() || !value[1].is_number())
      throw bad("range of '" + key + "' is not [min, max]");
    const Range r{value[0].get<float>(), value[1].get<float>()};
    if (!std::isfinite(r.min) || !std::isfinite(r.max) || r.min > r.max)
      throw bad("range of '" + key + "' is not finite and ordered");
    c.ranges[key] = r;
  }
  return c;
}

namespace {

struct Value {
  memory::desc desc;
  int first = -1, last = -1;  // steps that touch it
  int buffer = -1;
  int alias_of = -1;  // int8: the same bytes as that value, read as another data type or scale
  float scale = 1.f;  // int8 values: real value = scale × stored integer
};

struct Step {
  std::string what;
  std::string key;    // calibration key (empty for reorders)
  int produces = -1;  // the value the step writes (calibration reads it)
  dnnl::primitive primitive;
  std::string impl;
  std::vector<std::pair<int, int>> value_args;  // (DNNL_ARG_*, value id)
  std::vector<std::pair<int, memory>> fixed_args;
  ExecArgs args;  // built once buffers are known
};

using Folded = nn::FoldedConv;

bool is_int8(memory::data_type t) {
  return t == memory::data_type::s8 || t == memory::data_type::u8;
}

memory::desc with_type(memory::desc d, memory::data_type t) {
  d.data.data_type = memory::convert_to_c(t);  // same layout, strides in elements
  return d;
}

// tensor_quantisation as the oneDNN data type and scale.
std::pair<memory::data_type, float> quantisation(const Calibration::Range& r) {
  const TensorQuantisation q = tensor_quantisation(r);
  return {q.is_unsigned ? memory::data_type::u8 : memory::data_type::s8, q.scale};
}

}  // namespace

// u8 for tensors calibration never saw negative (ReLU outputs), s8 otherwise; the scale maps the range's
// magnitude onto the type's largest value. An all-zero tensor gets scale 1.
TensorQuantisation tensor_quantisation(const Calibration::Range& r) {
  const bool non_negative = r.min >= 0.f;
  const float magnitude = non_negative ? r.max : std::max(-r.min, r.max);
  const float scale = magnitude / (non_negative ? 255.f : 127.f);
  return {.is_unsigned = non_negative, .scale = std::isfinite(scale) && scale > 0.f ? scale : 1.f};
}

float weight_scale(const float* w, int64_t n, float weight_max) {
  float magnitude = 0.f;
  for (int64_t i = 0; i < n; ++i) magnitude = std::max(magnitude, std::abs(w[i]));
  return magnitude > 0.f ? magnitude / weight_max : 1.f;
}

struct Engine::Plan {
  Shape input;
  Precision precision = Precision::f32;
  memory::data_type act_type = memory::data_type::f32;
  const Calibration* calibration = nullptr;  // int8 only
  bool int8 = false;
  std::vector<Value> values;
  std::vector<Step> steps;
  std::vector<std::shared_ptr<Storage>> buffers;  // activation buffers
  std::vector<std::shared_ptr<Storage>> weights;  // folded, reordered weights and biases
  std::shared_ptr<Storage> scratchpad;
  size_t scratchpad_bytes = 0;
  memory scratchpad_memory;
  memory input_memory;  // the user's x, rebound on every run
  int input_value = -1;
  int64_t reorder_count = 0;
  Tensor logits;
  Tensor input_copy;
  int logits_value = -1;
  std::vector<memory> value_memory;

  int new_value(const memory::desc& d, float scale = 1.f) {
    values.push_back(Value{d});
    values.back().scale = scale;
    return static_cast<int>(values.size()) - 1;
  }
  int root(int v) const {
    while (values[static_cast<size_t>(v)].alias_of >= 0) v = values[static_cast<size_t>(v)].alias_of;
    return v;
  }
  // A new value over v's bytes, read as `desc` (same layout and element size) with `scale`.
  int alias(int v, const memory::desc& desc, float scale) {
    const int a = new_value(desc, scale);
    values[static_cast<size_t>(a)].alias_of = root(v);
    return a;
  }

  const Calibration::Range& range(const std::string& key) const {
    const auto it = calibration->ranges.find(key);
    if (it == calibration->ranges.end())
      throw UserError("the calibration has no range for step '" + key +
                      "': it was made for another model; calibrate this one (resnet quantize)");
    return it->second;
  }

  // Adds a step; value_args name the values it reads or writes; `key` and `produces` name the step's
  // output for calibration.
  template <class PrimitiveDesc, class Primitive>
  void add_step(std::string what, const PrimitiveDesc& pd, Primitive primitive,
                std::vector<std::pair<int, int>> value_args, std::vector<std::pair<int, memory>> fixed = {},
                std::string key = {}, int produces = -1) {
    ops::cpu::note_primitive_created();
    Step s;
    s.what = std::move(what);
    s.key = std::move(key);
    s.produces = produces;
    s.primitive = std::move(primitive);
    s.impl = pd.impl_info_str();
    s.value_args = std::move(value_args);
    s.fixed_args = std::move(fixed);
    scratchpad_bytes = std::max(scratchpad_bytes, pd.scratchpad_desc().get_size());
    const int index = static_cast<int>(steps.size());
    for (const auto& [arg, v] : s.value_args) {
      Value& value = values[static_cast<size_t>(root(v))];
      if (value.first < 0) value.first = index;
      value.last = index;
    }
    steps.push_back(std::move(s));
  }

  // A fixed (weight) memory in `desc`, filled from plain f32 data in `plain` by a one-time reorder.
  memory constant(const memory::desc& desc, const memory::desc& plain, const float* data) {
    auto storage = Storage::allocate(desc.get_size());
    weights.push_back(storage);
    memory dst(desc, engine(), storage->data());
    if (desc == plain) {
      std::memcpy(storage->data(), data, desc.get_size());
    } else {
      memory src(plain, engine(), const_cast<float*>(data));
      dnnl::reorder(src, dst).execute(ops::cpu::stream(), src, dst);
    }
    return dst;
  }

  Shape shape_of(int v) const {
    const memory::dims d = values[static_cast<size_t>(v)].desc.dims();
    return Shape{d[0], d[1], d[2], d[3]};
  }

  // Returns `v`, or a new value holding v reordered into `wanted` (a reorder step) when they differ.
  // int8: a reorder into an integer type quantises with `scale` (from f32) or keeps v's scale (from
  // another integer layout); a reorder into f32 dequantises.
  int conform(int v, const memory::desc& wanted, const std::string& what, float scale = 0.f) {
    const Value& from = values[static_cast<size_t>(v)];
    if (from.desc == wanted) return v;
    const bool to_int = is_int8(wanted.data_type()), from_int = is_int8(from.desc.data_type());
    const float out_scale = to_int ? (from_int ? from.scale : scale) : 1.f;
    RESNET_CHECK(out_scale > 0.f) << "inference engine: no scale to quantise " << what;
    dnnl::primitive_attr attr = ops::cpu::user_scratchpad_attr();
    const float factor = (from_int ? from.scale : 1.f) / out_scale;
    if (factor != 1.f) attr.set_output_scales(0, {factor});
    const dnnl::reorder::primitive_desc pd(engine(), from.desc, engine(), wanted, attr);
    const int out = new_value(wanted, out_scale);
    add_step((to_int && !from_int   ? "quantize "
              : !to_int && from_int ? "dequantize "
                                    : "reorder ") +
                 what,
             pd, dnnl::reorder(pd), {{DNNL_ARG_FROM, v}, {DNNL_ARG_TO, out}});
    ++reorder_count;
    return out;
  }

  // A conv (+ folded BN) (+ sum onto `sum_into`) (+ ReLU). Returns the output value (sum_into if given).
  int conv(const std::string& name, nn::Conv2d& conv_module, nn::BatchNorm2d* bn, int src, bool relu,
           int sum_into = -1) {
    return conv_with(name, conv_module.weight().value().shape(), conv_module.params(),
                     nn::fold_batch_norm(conv_module, bn), src, relu, sum_into);
  }

  // w: the weight's shape [O, I/g, kh, kw]; the folded data in `f` is laid out as that.
  int conv_with(const std::string& name, const Shape& w, const ops::Conv2dParams& p, const Folded& f, int src,
                bool relu, int sum_into) {
    if (int8) return conv_int8(name, w, p, f, src, relu, sum_into);
    const Shape in = shape_of(src);
    const Shape out = ops::conv2d_output_shape(in, w, p);
    const int64_t g = p.groups;
    const memory::dims wdims =
        g == 1 ? memory::dims{w[0], w[1], w[2], w[3]} : memory::dims{g, w[0] / g, w[1], w[2], w[3]};
    const memory::desc plain_w(wdims, memory::data_type::f32, g == 1 ? Tag::oihw : Tag::goihw);
    const memory::desc any_w(wdims, act_type, Tag::any);
    const memory::desc bias_desc({w[0]}, memory::data_type::f32, Tag::a);
    const memory::desc any_src(ops::cpu::to_dims(in), act_type, Tag::any);
    const memory::desc dst_desc = sum_into >= 0 ? values[static_cast<size_t>(sum_into)].desc
                                                : memory::desc(ops::cpu::to_dims(out), act_type, Tag::any);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any_src, any_w, bias_desc,
        dst_desc, {p.stride[0], p.stride[1]}, {p.dilation[0] - 1, p.dilation[1] - 1},
        {p.padding[0], p.padding[1]}, {p.padding[0], p.padding[1]});
    dnnl::primitive_attr attr = ops::cpu::user_scratchpad_attr();
    dnnl::post_ops post;
    if (sum_into >= 0) post.append_sum(1.f);
    if (relu) post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(post);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine());
    const int x = conform(src, pd.src_desc(), "to " + name);
    const memory weights = constant(pd.weights_desc(), plain_w, f.weight.data());
    const memory bias = constant(bias_desc, bias_desc, f.bias.data());
    const int dst = sum_into >= 0 ? sum_into : new_value(pd.dst_desc());
    std::string what = name + (sum_into >= 0 ? " +sum" : "") + (relu ? " +relu" : "");
    add_step(what, pd, dnnl::convolution_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, dst}},
             {{DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}}, name, dst);
    return dst;
  }

  // The int8 conv: src u8/s8 with its tensor scale s_x, weights s8 with per-output-channel scales s_w,
  // s32 accumulation; oneDNN 2.x adds the bias to the accumulator and then multiplies by the output scale,
  // so bias_q = b / (s_x s_w) and output scale = s_x s_w / s_y. A sum post-op adds the shortcut rescaled
  // from its own scale (s_sc / s_y), then the ReLU; the result saturates into dst's type.
  int conv_int8(const std::string& name, const Shape& w, const ops::Conv2dParams& p, const Folded& f, int src,
                bool relu, int sum_into) {
    const Shape in = shape_of(src);
    const Shape out = ops::conv2d_output_shape(in, w, p);
    const int64_t g = p.groups, outs = w[0], per_out = w.numel() / outs;
    const memory::dims wdims =
        g == 1 ? memory::dims{w[0], w[1], w[2], w[3]} : memory::dims{g, w[0] / g, w[1], w[2], w[3]};
    const memory::desc plain_w(wdims, memory::data_type::f32, g == 1 ? Tag::oihw : Tag::goihw);
    const memory::desc any_w(wdims, memory::data_type::s8, Tag::any);
    const memory::desc bias_desc({outs}, memory::data_type::f32, Tag::a);

    const Value& source = values[static_cast<size_t>(src)];
    const auto [src_type, src_scale] = is_int8(source.desc.data_type())
                                           ? std::pair{source.desc.data_type(), source.scale}
                                           : quantisation(range("input"));
    // Not a structured binding: a lambda below captures dst_scale, which clang before 16 cannot do.
    const auto dst_quantisation = quantisation(range(name));
    const memory::data_type dst_type = dst_quantisation.first;
    const float dst_scale = dst_quantisation.second;
    const bool has_shortcut = sum_into >= 0;
    const float shortcut_scale = has_shortcut ? values[static_cast<size_t>(sum_into)].scale : dst_scale;
    const memory::desc shortcut_desc =
        has_shortcut ? values[static_cast<size_t>(sum_into)].desc : memory::desc();
    const memory::desc any_src(ops::cpu::to_dims(in), src_type, Tag::any);
    const memory::desc dst_desc = has_shortcut ? with_type(shortcut_desc, dst_type)
                                               : memory::desc(ops::cpu::to_dims(out), dst_type, Tag::any);

    const float weight_max = cpu_has_vnni() ? 127.f : 63.f;  // see cpu_has_vnni()
    Folded q;
    q.weight.resize(f.weight.size());
    q.bias.resize(f.bias.size());
    std::vector<double> accumulator_scales(static_cast<size_t>(outs));  // s_x s_w per output channel
    for (int64_t o = 0; o < outs; ++o) {
      const float* wo = f.weight.data() + o * per_out;
      const float w_scale = weight_scale(wo, per_out, weight_max);
      for (int64_t i = 0; i < per_out; ++i)
        q.weight[static_cast<size_t>(o * per_out + i)] = std::nearbyint(wo[i] / w_scale);  // exact in s8
      q.bias[o] =
          static_cast<float>(static_cast<double>(f.bias[o]) / (static_cast<double>(src_scale) * w_scale));
      accumulator_scales[o] = static_cast<double>(src_scale) * w_scale;
    }

    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any_src, any_w, bias_desc,
        dst_desc, {p.stride[0], p.stride[1]}, {p.dilation[0] - 1, p.dilation[1] - 1},
        {p.padding[0], p.padding[1]}, {p.padding[0], p.padding[1]});
    // The shortcut is added by a binary post-op where oneDNN has a kernel for it: the conv's result is
    // scaled into the shortcut's units (s_sc), the shortcut's integers are added, and eltwise_linear
    // (s_sc / s_y) takes the sum into dst's units. oneDNN 2.6's sum post-op (the in-place alternative) costs
    // 2-3x the conv itself on the memory-bound 1x1 convs of layer1 (8.5 against 2.5 ms for the 64->256 conv3
    // at batch 32 on Zen 5); the binary post-op about 1.3 ms more than no sum.
    auto make_pd = [&](bool binary) {
      const double out_unit = binary ? shortcut_scale : dst_scale;
      std::vector<float> output_scales(static_cast<size_t>(outs));
      for (int64_t o = 0; o < outs; ++o)
        output_scales[o] = static_cast<float>(accumulator_scales[o] / out_unit);
      dnnl::primitive_attr attr = ops::cpu::user_scratchpad_attr();
      attr.set_output_scales(1 << 1, output_scales);  // per channel of dst (dim 1)
      dnnl::post_ops post;
      if (binary) {
        post.append_binary(dnnl::algorithm::binary_add, shortcut_desc);
        post.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, shortcut_scale / dst_scale, 0.f);
      } else if (has_shortcut) {
        post.append_sum(shortcut_scale / dst_scale, shortcut_desc.data_type());
      }
      if (relu) post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(post);
      return dnnl::convolution_forward::primitive_desc(desc, attr, engine());
    };
    bool binary_sum = has_shortcut;
    dnnl::convolution_forward::primitive_desc pd = make_pd(binary_sum);
    if (binary_sum && std::string(pd.impl_info_str()).starts_with("ref")) {  // no fast kernel: sum in place
      binary_sum = false;
      pd = make_pd(false);
    }
    const int x = conform(src, pd.src_desc(), "to " + name, src_scale);
    const memory weights = constant(pd.weights_desc(), plain_w, q.weight.data());
    const memory bias = constant(bias_desc, bias_desc, q.bias.data());
    const int dst = has_shortcut && !binary_sum ? alias(sum_into, pd.dst_desc(), dst_scale)
                                                : new_value(pd.dst_desc(), dst_scale);
    std::string what = name + (has_shortcut ? " +sum" : "") + (relu ? " +relu" : "") + " int8";
    std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, dst}};
    if (binary_sum) args.push_back({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, sum_into});
    add_step(what, pd, dnnl::convolution_forward(pd), std::move(args),
             {{DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}}, name, dst);
    return dst;
  }

  // The option-A shortcut as a 1×1 conv with 0/1 weights: exact (each output is one input times 1).
  int shortcut_a(const std::string& name, int src, int64_t in_c, int64_t out_c, int64_t stride) {
    Folded f{models::option_a_selection(in_c, out_c), std::vector<float>(static_cast<size_t>(out_c), 0.f)};
    const ops::Conv2dParams p{.stride = {stride, stride}, .padding = {0, 0}, .dilation = {1, 1}, .groups = 1};
    return conv_with(name, Shape{out_c, in_c, 1, 1}, p, f, src, /*relu=*/false, -1);
  }

  // Inference batch norm with the ReLU fused (pre-activation nets), into a new value.
  int norm_relu(const std::string& name, nn::BatchNorm2d& bn, int src) {
    const memory::desc data = values[static_cast<size_t>(src)].desc;
    const int64_t c = data.dims()[1];
    const dnnl::batch_normalization_forward::desc desc(
        dnnl::prop_kind::forward_inference, data, static_cast<float>(bn.eps()),
        dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
            dnnl::normalization_flags::use_shift | dnnl::normalization_flags::fuse_norm_relu);
    const dnnl::batch_normalization_forward::primitive_desc pd(desc, ops::cpu::user_scratchpad_attr(),
                                                               engine());
    const memory::desc stat({c}, memory::data_type::f32, Tag::a);
    std::vector<float> ones(static_cast<size_t>(c), 1.f), zeros(static_cast<size_t>(c), 0.f);
    const float* gamma = bn.weight() ? bn.weight()->value().data<float>() : ones.data();
    const float* beta = bn.bias() ? bn.bias()->value().data<float>() : zeros.data();
    const int out = new_value(pd.dst_desc());
    add_step(name + " +relu", pd, dnnl::batch_normalization_forward(pd),
             {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}},
             {{DNNL_ARG_MEAN, constant(stat, stat, bn.running_mean().data<float>())},
              {DNNL_ARG_VARIANCE, constant(stat, stat, bn.running_var().data<float>())},
              {DNNL_ARG_SCALE, constant(stat, stat, gamma)},
              {DNNL_ARG_SHIFT, constant(stat, stat, beta)}},
             name, out);
    return out;
  }

  int pool(const std::string& name, dnnl::algorithm alg, int src, const ops::Pool2dParams& p) {
    // The output keeps the input's type (and, for int8, its scale: max and average stay in range).
    const memory::desc data = values[static_cast<size_t>(src)].desc;
    const memory::desc dst(ops::cpu::to_dims(ops::pool2d_output_shape(shape_of(src), p)), data.data_type(),
                           Tag::any);
    const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, data, dst,
                                           {p.stride[0], p.stride[1]}, {p.kernel[0], p.kernel[1]},
                                           {p.padding[0], p.padding[1]}, {p.padding[0], p.padding[1]});
    const dnnl::pooling_forward::primitive_desc pd(desc, ops::cpu::user_scratchpad_attr(), engine());
    const int out = new_value(pd.dst_desc(), values[static_cast<size_t>(src)].scale);
    add_step(name, pd, dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}}, {}, name, out);
    return out;
  }

  // Global average pool (one H×W window) then the classifier, logits in f32.
  void head(nn::Linear& fc, int src) {
    const Shape in = shape_of(src);
    // int8: the last feature map is dequantised (one small reorder) and pooled and classified in f32.
    if (int8)
      src = conform(src, with_type(values[static_cast<size_t>(src)].desc, memory::data_type::f32),
                    "the last feature map");
    const memory::data_type head_type = int8 ? memory::data_type::f32 : act_type;
    const int pooled = pool("avgpool", dnnl::algorithm::pooling_avg_exclude_padding, src,
                            {.kernel = {in[2], in[3]}, .stride = {1, 1}, .padding = {0, 0}});
    const Tensor& w = fc.weight().value();
    const int64_t k = w.size(0), c = w.size(1);
    const memory::desc plain_w({k, c, 1, 1}, memory::data_type::f32, Tag::oihw);
    const memory::desc any_w({k, c, 1, 1}, head_type, Tag::any);
    const memory::desc bias_desc({k}, memory::data_type::f32, Tag::a);
    const memory::desc dst({in[0], k}, memory::data_type::f32, Tag::nc);
    const dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference, values[static_cast<size_t>(pooled)].desc, any_w, bias_desc, dst);
    const dnnl::inner_product_forward::primitive_desc pd(desc, ops::cpu::user_scratchpad_attr(), engine());
    const int x = conform(pooled, pd.src_desc(), "to fc");
    std::vector<float> zeros(static_cast<size_t>(k), 0.f);
    const memory weights = constant(pd.weights_desc(), plain_w, w.data<float>());
    const memory bias =
        constant(bias_desc, bias_desc, fc.bias() ? fc.bias()->value().data<float>() : zeros.data());
    logits_value = new_value(pd.dst_desc());
    add_step("fc", pd, dnnl::inner_product_forward(pd), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, logits_value}},
             {{DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}}, "fc", logits_value);
  }

  // Gives every value a buffer by liveness, allocates them, and binds every step's arguments.
  void assign_buffers() {
    std::vector<size_t> sizes;
    std::vector<int> busy_until;  // last step using the buffer's current value
    std::vector<int> order(values.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return values[a].first < values[b].first; });
    std::vector<size_t> need(values.size());  // a value's bytes, and any alias's over it
    for (size_t v = 0; v < values.size(); ++v) {
      const size_t r = static_cast<size_t>(root(static_cast<int>(v)));
      need[r] = std::max(need[r], values[v].desc.get_size());
    }
    for (int v : order) {
      Value& value = values[static_cast<size_t>(v)];
      if (v == input_value || v == logits_value || value.first < 0 || value.alias_of >= 0) continue;
      int chosen = -1;
      for (size_t b = 0; b < sizes.size(); ++b)
        if (busy_until[b] < value.first && (chosen < 0 || sizes[b] > sizes[static_cast<size_t>(chosen)]))
          chosen = static_cast<int>(b);
      if (chosen < 0) {
        sizes.push_back(0);
        busy_until.push_back(-1);
        chosen = static_cast<int>(sizes.size()) - 1;
      }
      sizes[static_cast<size_t>(chosen)] =
          std::max(sizes[static_cast<size_t>(chosen)], need[static_cast<size_t>(v)]);
      busy_until[static_cast<size_t>(chosen)] = value.last;
      value.buffer = chosen;
    }
    for (size_t size : sizes) buffers.push_back(Storage::allocate(size));
    scratchpad = Storage::allocate(std::max<size_t>(scratchpad_bytes, 64));
    scratchpad_memory =
        memory(memory::desc({static_cast<int64_t>(scratchpad->bytes())}, memory::data_type::u8, Tag::a),
               engine(), scratchpad->data());

    logits = Tensor::empty({input[0], values[static_cast<size_t>(logits_value)].desc.dims()[1]});
    value_memory.resize(values.size());
    for (size_t v = 0; v < values.size(); ++v) {
      if (static_cast<int>(v) == input_value) {
        value_memory[v] = ops::cpu::unbound_memory(values[v].desc);
        input_memory = value_memory[v];
      } else if (static_cast<int>(v) == logits_value) {
        value_memory[v] = memory(values[v].desc, engine(), logits.raw());
      } else if (const int b = values[static_cast<size_t>(root(static_cast<int>(v)))].buffer; b >= 0) {
        value_memory[v] = memory(values[v].desc, engine(), buffers[static_cast<size_t>(b)]->data());
      }
    }
    for (Step& s : steps) {
      for (const auto& [arg, v] : s.value_args) s.args.add(arg, value_memory[static_cast<size_t>(v)]);
      for (const auto& [arg, m] : s.fixed_args) s.args.add(arg, m);
      s.args.add(DNNL_ARG_SCRATCHPAD, scratchpad_memory);
    }
  }
};

namespace {

template <class M>
M& module_as(models::ResNet& model, const std::string& name) {
  nn::Module* m = model.find_module(name);
  RESNET_CHECK(m) << "inference engine: the model has no module '" << name << "'";
  M* typed = dynamic_cast<M*>(m);
  RESNET_CHECK(typed) << "inference engine: module '" << name << "' is a " << m->type_name();
  return *typed;
}

}  // namespace

Engine::Engine(models::ResNet& model, const Shape& input, Precision precision, const Calibration* calibration)
    : plan_(std::make_unique<Plan>()) {
  const models::ResNetSpec& spec = model.spec();
  RESNET_CHECK(input.ndim() == 4 && input[1] == spec.in_channels)
      << "inference engine: input must be [N, " << spec.in_channels << ", H, W], got " << input;
  const bool preact = spec.pre_activation();
  if (!precision_supported(precision))
    throw UserError(std::string(precision_name(precision)) + " inference needs a CPU with " +
                    (precision == Precision::bf16 ? "AVX-512" : "AVX2") +
                    ", which this one lacks (oneDNN has no kernels for it here): use fp32");
  if (precision == Precision::int8) {
    if (!calibration)
      throw UserError(
          "int8 inference needs a calibration of the model's activation ranges: make one with "
          "`resnet quantize --checkpoint RUN` (or infer::Engine::observe)");
    if (preact)
      throw UserError(
          "int8 inference supports post-activation ResNets; this pre-activation net runs in fp32 "
          "or bf16");
  }
  Plan& p = *plan_;
  p.input = input;
  p.precision = precision;
  p.int8 = precision == Precision::int8;
  p.calibration = calibration;
  p.act_type = precision == Precision::bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  // The user's input: f32 in NCHW (run() also accepts NHWC through a reorder of its own).
  p.input_value = p.new_value(memory::desc(ops::cpu::to_dims(input), memory::data_type::f32, Tag::nchw));
  const models::Architecture& a = model.architecture();
  auto norm = [&](const std::string& name) {
    return name.empty() ? nullptr : &module_as<nn::BatchNorm2d>(model, name);
  };
  // A conv unit: the conv with its BN folded in and its ReLU fused; `sum_into` adds the shortcut first.
  auto unit = [&](const models::ConvUnit& u, int src, bool relu, int sum_into = -1,
                  const std::string& step = {}) {
    return p.conv(step.empty() ? u.conv.name : step, module_as<nn::Conv2d>(model, u.conv.name), norm(u.norm),
                  src, relu, sum_into);
  };
  int x = unit(a.stem, p.input_value, !a.stem.relu.empty());
  if (a.max_pool)
    x = p.pool("maxpool", dnnl::algorithm::pooling_max, x,
               {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
  for (const models::Block& b : a.blocks) {
    // Pre-activation: bn1 → relu on the block input; the projection (if any) reads that, the identity x.
    const int t = b.pre_norm.empty() ? x : p.norm_relu(b.pre_norm, *norm(b.pre_norm), x);
    // The shortcut first, so that the block's last conv can accumulate onto it.
    int identity = -1;
    switch (b.shortcut) {
      case models::Shortcut::identity:
        identity = x;
        break;
      case models::Shortcut::option_a:
        identity =
            p.shortcut_a(b.name + ".downsample (option A)", x, b.in_channels, b.out_channels, b.stride);
        break;
      case models::Shortcut::projection:
        // The step (and calibration key) is the block's "downsample", as calibration files name it.
        identity =
            unit(b.projection, b.projection_reads_preactivation ? t : x, false, -1, b.name + ".downsample");
        break;
      case models::Shortcut::none:
        break;
    }
    int h = t;
    for (size_t i = 0; i + 1 < b.branch.size(); ++i) h = unit(b.branch[i], h, !b.branch[i].relu.empty());
    x = unit(b.branch.back(), h, !b.relu_after.empty(), identity);
  }
  if (!a.final_norm.empty()) x = p.norm_relu(a.final_norm, *norm(a.final_norm), x);
  p.head(module_as<nn::Linear>(model, "fc"), x);
  p.assign_buffers();
}

Engine::~Engine() = default;

void Engine::bind_input(const Tensor& x) {
  Plan& p = *plan_;
  RESNET_CHECK(x.shape() == p.input) << "inference engine built for input " << p.input << ", got "
                                     << x.shape();
  RESNET_CHECK(x.dtype() == DType::f32)
      << "inference engine: input must be f32, got " << dtype_name(x.dtype());
  if (x.is_contiguous()) {
    p.input_memory.set_data_handle(x.raw());
  } else {
    p.input_copy = x.to(Layout::contiguous);  // NHWC input: one copy (NCHW needs none)
    p.input_memory.set_data_handle(p.input_copy.raw());
  }
}

const Tensor& Engine::run(const Tensor& x) {
  bind_input(x);
  for (const Step& s : plan_->steps) s.args.execute(s.primitive);
  return plan_->logits;
}

namespace {

void widen(Calibration& c, const std::string& key, const float* data, int64_t n) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
#pragma omp parallel for reduction(min : lo) reduction(max : hi)
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, data[i]);
    hi = std::max(hi, data[i]);
  }
  auto [it, fresh] = c.ranges.try_emplace(key, Calibration::Range{lo, hi});
  if (!fresh) it->second = {std::min(it->second.min, lo), std::max(it->second.max, hi)};
}

}  // namespace

void Engine::observe(const Tensor& x, Calibration& into) {
  Plan& p = *plan_;
  RESNET_CHECK(p.precision == Precision::f32)
      << "calibration observes an fp32 engine, not " << precision_name(p.precision);
  bind_input(x);
  widen(into, "input", static_cast<const float*>(p.input_memory.get_data_handle()), p.input.numel());
  for (const Step& s : p.steps) {
    s.args.execute(s.primitive);
    if (s.key.empty() || s.produces < 0) continue;
    const memory& m = p.value_memory[static_cast<size_t>(s.produces)];
    // Blocked layouts pad channels with zeros; zeros never widen a range that a ReLU net's data reach.
    widen(into, s.key, static_cast<const float*>(m.get_data_handle()),
          static_cast<int64_t>(m.get_desc().get_size() / sizeof(float)));
  }
  into.images += p.input[0];
}

std::vector<double> Engine::profile(const Tensor& x, int repeats) {
  run(x);  // binds the input, touches every buffer
  Plan& p = *plan_;
  std::vector<std::vector<double>> times(p.steps.size());
  for (int r = 0; r < repeats; ++r) {
    for (size_t i = 0; i < p.steps.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      p.steps[i].args.execute(p.steps[i].primitive);
      times[i].push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::vector<double> medians;
  for (auto& t : times) {
    std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

const Shape& Engine::input_shape() const {
  return plan_->input;
}
Precision Engine::precision() const {
  return plan_->precision;
}
int64_t Engine::reorders() const {
  return plan_->reorder_count;
}
int64_t Engine::primitives() const {
  return static_cast<int64_t>(plan_->steps.size());
}
size_t Engine::activation_bytes() const {
  size_t n = plan_->scratchpad ? plan_->scratchpad->bytes() : 0;
  for (const auto& b : plan_->buffers) n += b->bytes();
  return n;
}
size_t Engine::weight_bytes() const {
  size_t n = 0;
  for (const auto& w : plan_->weights) n += w->bytes();
  return n;
}

std::string Engine::describe() const {
  std::ostringstream out;
  for (const Step& s : plan_->steps) out << s.what << "  [" << s.impl << "]\n";
  return out.str();
}

}  // namespace resnet::infer

namespace resnet::infer {

Engine& EngineSet::engine_for(const Shape& input) {
  std::vector<int64_t> key(input.begin(), input.end());
  auto& slot = engines_[key];
  if (!slot) slot = std::make_unique<Engine>(model_, input, precision_, calibration_);
  return *slot;
}

const Tensor& EngineSet::run(const Tensor& x) {
  return engine_for(x.shape()).run(x);
}

}  // namespace resnet::infer
