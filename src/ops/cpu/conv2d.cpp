// oneDNN convolution: forward, backward data, backward weights (the bias gradient comes from the
// backward-weights primitive).
//
// Activations are bound in the caller's layout (NCHW or NHWC). Weights are left to oneDNN (format any):
// its AVX-512 kernels want a blocked layout, so each call reorders our OIHW weights into the primitive's
// format (a cached reorder into this thread's weights staging buffer, dnnl_context.h: the copy lives for
// one call, so the entries share it) and the blocked diff_weights back into the caller's OIHW tensor. When
// oneDNN picks plain OIHW the reorders vanish and the caller's buffers are used directly.
//
// Mixed precision (the *_bf16 entry points, the cpu-bf16 op table): the master weights and their
// gradients stay f32; the convolution multiplies bf16 and accumulates in f32. Activations may come in
// either type: an f32 x or dy is rounded into a bf16 copy by a cached reorder (nearest-even), a bf16 one is
// read as it is, and y and dx are written in the caller's type (bf16 activations end to end: the
// modules under cpu-bf16 give every convolution a bf16 output, as PyTorch's CPU autocast does). The
// weights' cast is folded into the reorder a blocked-layout kernel needs anyway.
#include "resnet/ops/conv2d.h"
#include "ops/cpu/dnnl_context.h"

namespace resnet::ops::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr auto kBf16 = memory::data_type::bf16;

memory::desc with_type(const memory::desc& d, memory::data_type type) {
  memory::desc out = d;
  out.data.data_type = static_cast<dnnl_data_type_t>(type);
  return out;
}

// Everything oneDNN needs to describe one convolution, built from our shapes and parameters.
struct ConvDescs {
  memory::desc src, dst;                  // the caller's x (and dx) and y (and dy), in their own types
  memory::desc compute_src, compute_dst;  // what the primitive reads: src/dst, or their bf16 twins
  memory::data_type compute = kF32;       // type of the inputs the primitive multiplies
  memory::desc user_weights;              // our [O, I/g, kH, kW] buffer: oihw, or goihw with groups split off
  memory::desc any_weights;               // same dims and compute type, format left to the primitive
  memory::desc any_diff_weights;          // same dims, f32, format left to the primitive
  memory::desc bias;                      // [O], or empty without bias
  memory::dims strides, dilates, padding_l, padding_r;
};

ConvDescs make_descs(const Tensor& x, DType y_type, const Shape& w, const Shape& y, const Conv2dParams& p,
                     Layout layout, bool with_bias, memory::data_type compute) {
  ConvDescs d;
  d.src = dense_desc(x.shape(), layout, x.dtype());
  d.dst = dense_desc(y, layout, y_type);
  d.compute = compute;
  d.compute_src = with_type(d.src, compute);
  d.compute_dst = with_type(d.dst, compute);
  const int64_t g = p.groups;
  const memory::dims weight_dims =
      g == 1 ? memory::dims{w[0], w[1], w[2], w[3]} : memory::dims{g, w[0] / g, w[1], w[2], w[3]};
  d.user_weights = memory::desc(weight_dims, kF32, g == 1 ? Tag::oihw : Tag::goihw);
  d.any_weights = memory::desc(weight_dims, compute, Tag::any);
  d.any_diff_weights = memory::desc(weight_dims, kF32, Tag::any);
  if (with_bias) d.bias = memory::desc({w[0]}, kF32, Tag::a);
  d.strides = {p.stride[0], p.stride[1]};
  d.dilates = {p.dilation[0] - 1, p.dilation[1] - 1};  // oneDNN counts the gaps: 0 = dense kernel
  d.padding_l = {p.padding[0], p.padding[1]};
  // Symmetric padding; oneDNN checks the output size with the same floor formula as ours.
  d.padding_r = d.padding_l;
  return d;
}

dnnl::convolution_forward::primitive_desc forward_pd(const ConvDescs& d, bool with_bias) {
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.compute_src, d.any_weights,
      with_bias ? d.bias : memory::desc(), d.dst, d.strides, d.dilates, d.padding_l, d.padding_r);
  return dnnl::convolution_forward::primitive_desc(desc, user_scratchpad_attr(), engine());
}

CacheKey conv_key(int kind, const Tensor& x, DType y_type, const Shape& w, const Conv2dParams& p,
                  Layout layout, memory::data_type compute) {
  CacheKey key(kind);
  key.add(x.shape()).add(w).add(layout).add(p.groups).add(static_cast<int64_t>(compute));
  key.add(x.dtype()).add(y_type);
  for (int i = 0; i < 2; ++i) key.add(p.stride[i]).add(p.padding[i]).add(p.dilation[i]);
  return key;
}

struct ForwardEntry : CachedEntry {
  dnnl::convolution_forward conv;
  memory dst, bias;
  FormatBridge src;  // f32 x, or its bf16 copy
  FormatBridge weights;
  ExecArgs args;
};

struct BackwardEntry : CachedEntry {
  FormatBridge diff_dst;  // shared by both primitives (same descriptor): f32 dy, or its bf16 copy

  bool has_data = false;
  dnnl::convolution_backward_data data;
  memory diff_src;
  FormatBridge data_weights;
  ExecArgs data_args;

  bool has_weights = false;
  bool has_diff_weights_output = false;  // false: diff_weights go to `diff_weights_sink`
  dnnl::convolution_backward_weights weights;
  FormatBridge src;
  memory diff_bias;
  FormatBridge diff_weights;
  OwnedMemory diff_weights_sink;
  ExecArgs weights_args;
};

std::unique_ptr<ForwardEntry> make_forward_entry(const ConvDescs& d, bool with_bias) {
  auto e = std::make_unique<ForwardEntry>();
  const auto pd = forward_pd(d, with_bias);
  e->conv = create_primitive<dnnl::convolution_forward>(pd);
  e->src = FormatBridge(d.src, d.compute_src, FormatBridge::Direction::to_primitive, Staging::src);
  e->dst = unbound_memory(d.dst);
  e->weights = FormatBridge(d.user_weights, pd.weights_desc(), FormatBridge::Direction::to_primitive,
                            Staging::weights);
  e->args.add(DNNL_ARG_SRC, e->src.primitive_memory());
  e->args.add(DNNL_ARG_WEIGHTS, e->weights.primitive_memory());
  e->args.add(DNNL_ARG_DST, e->dst);
  if (with_bias) {
    e->bias = unbound_memory(d.bias);
    e->args.add(DNNL_ARG_BIAS, e->bias);
  }
  e->args.add_scratchpad(pd);
  return e;
}

std::unique_ptr<BackwardEntry> make_backward_entry(const ConvDescs& d, bool want_dx, bool want_dweight,
                                                   bool want_dbias) {
  auto e = std::make_unique<BackwardEntry>();
  e->diff_dst = FormatBridge(d.dst, d.compute_dst, FormatBridge::Direction::to_primitive, Staging::diff_dst);
  const auto hint = forward_pd(d, want_dbias);

  if (want_dx) {
    e->has_data = true;
    const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src,
                                                     d.any_weights, d.compute_dst, d.strides, d.dilates,
                                                     d.padding_l, d.padding_r);
    const dnnl::convolution_backward_data::primitive_desc pd(desc, user_scratchpad_attr(), engine(), hint);
    e->data = create_primitive<dnnl::convolution_backward_data>(pd);
    e->diff_src = unbound_memory(d.src);
    e->data_weights = FormatBridge(d.user_weights, pd.weights_desc(), FormatBridge::Direction::to_primitive,
                                   Staging::weights);
    e->data_args.add(DNNL_ARG_DIFF_DST, e->diff_dst.primitive_memory());
    e->data_args.add(DNNL_ARG_WEIGHTS, e->data_weights.primitive_memory());
    e->data_args.add(DNNL_ARG_DIFF_SRC, e->diff_src);
    e->data_args.add_scratchpad(pd);
  }

  if (want_dweight || want_dbias) {
    e->has_weights = true;
    const dnnl::convolution_backward_weights::desc desc(
        dnnl::algorithm::convolution_direct, d.compute_src, d.any_diff_weights,
        want_dbias ? d.bias : memory::desc(), d.compute_dst, d.strides, d.dilates, d.padding_l, d.padding_r);
    const dnnl::convolution_backward_weights::primitive_desc pd(desc, user_scratchpad_attr(), engine(), hint);
    e->weights = create_primitive<dnnl::convolution_backward_weights>(pd);
    e->src = FormatBridge(d.src, d.compute_src, FormatBridge::Direction::to_primitive, Staging::src);
    e->weights_args.add(DNNL_ARG_SRC, e->src.primitive_memory());
    e->weights_args.add(DNNL_ARG_DIFF_DST, e->diff_dst.primitive_memory());
    e->has_diff_weights_output = want_dweight;
    if (want_dweight) {
      e->diff_weights = FormatBridge(d.user_weights, pd.diff_weights_desc(),
                                     FormatBridge::Direction::from_primitive, Staging::diff_weights);
      e->weights_args.add(DNNL_ARG_DIFF_WEIGHTS, e->diff_weights.primitive_memory());
    } else {
      // Only the bias gradient is wanted; the primitive still writes diff_weights somewhere.
      e->diff_weights_sink = owned_memory(pd.diff_weights_desc());
      e->weights_args.add(DNNL_ARG_DIFF_WEIGHTS, e->diff_weights_sink.memory);
    }
    if (want_dbias) {
      e->diff_bias = unbound_memory(d.bias);
      e->weights_args.add(DNNL_ARG_DIFF_BIAS, e->diff_bias);
    }
    e->weights_args.add_scratchpad(pd);
  }
  return e;
}

void check_weight(const char* op, const Tensor& weight, const Conv2dParams& p) {
  check_f32(weight, op, "weight");
  RESNET_CHECK(weight.ndim() == 4 && weight.is_contiguous())
      << op << ": weight must be a contiguous [O, C/groups, kH, kW] tensor, got " << weight.str();
}

// CHECKs an activation's type: f32 for the f32 convolution, f32 or bf16 for the bf16 one.
void check_activation(const Tensor& t, memory::data_type compute, const char* op, const char* name) {
  if (compute == kF32)
    check_f32(t, op, name);
  else
    check_float(t, op, name);
}

void forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p, Tensor& y,
             memory::data_type compute) {
  const char* op = compute == kF32 ? "cpu::conv2d_forward" : "cpu::conv2d_forward_bf16";
  check_activation(x, compute, op, "x");
  check_activation(y, compute, op, "y");
  check_weight(op, weight, p);
  const Shape y_shape = conv2d_output_shape(x.shape(), weight.shape(), p);
  check_shape(y, y_shape, op, "y");
  if (bias) {
    check_f32(*bias, op, "bias");
    check_shape(*bias, Shape{weight.size(0)}, op, "bias");
  }
  const Layout layout = common_layout(op, {&x, &y});

  const CacheKey key =
      conv_key(kConvForward, x, y.dtype(), weight.shape(), p, layout, compute).add(bias != nullptr);
  ForwardEntry& e = cache<ForwardEntry>().find_or_create(key, [&] {
    return make_forward_entry(
        make_descs(x, y.dtype(), weight.shape(), y_shape, p, layout, bias != nullptr, compute),
        bias != nullptr);
  });
  std::lock_guard<std::mutex> lock(e.mutex);
  e.src.bind_user(x.raw());
  e.src.run();
  bind(e.dst, y);
  if (bias) bind(e.bias, *bias);
  e.weights.bind_user(weight.raw());
  e.weights.run();
  e.args.execute(e.conv);
}

void backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p, Tensor* dx,
              Tensor* dweight, Tensor* dbias, memory::data_type compute) {
  const char* op = compute == kF32 ? "cpu::conv2d_backward" : "cpu::conv2d_backward_bf16";
  check_activation(dy, compute, op, "dy");
  check_activation(x, compute, op, "x");
  check_weight(op, weight, p);
  const Shape y_shape = conv2d_output_shape(x.shape(), weight.shape(), p);
  check_shape(dy, y_shape, op, "dy");
  if (dx) {
    check_same_dtype(op, {{&x, "x"}, {dx, "dx"}});  // dx shares x's descriptor
    check_shape(*dx, x.shape(), op, "dx");
  }
  if (dweight) {
    check_f32(*dweight, op, "dweight");
    check_shape(*dweight, weight.shape(), op, "dweight");
    RESNET_CHECK(dweight->is_contiguous()) << op << ": dweight must be contiguous, got " << dweight->str();
  }
  if (dbias) {
    check_f32(*dbias, op, "dbias");
    check_shape(*dbias, Shape{weight.size(0)}, op, "dbias");
  }
  if (!dx && !dweight && !dbias) return;
  const Layout layout = dx ? common_layout(op, {&x, &dy, dx}) : common_layout(op, {&x, &dy});

  CacheKey key = conv_key(kConvBackward, x, dy.dtype(), weight.shape(), p, layout, compute);
  key.add(dx != nullptr).add(dweight != nullptr).add(dbias != nullptr);
  BackwardEntry& e = cache<BackwardEntry>().find_or_create(key, [&] {
    return make_backward_entry(
        make_descs(x, dy.dtype(), weight.shape(), y_shape, p, layout, dbias != nullptr, compute),
        dx != nullptr, dweight != nullptr, dbias != nullptr);
  });
  std::lock_guard<std::mutex> lock(e.mutex);
  e.diff_dst.bind_user(dy.raw());
  e.diff_dst.run();
  if (e.has_data) {
    bind(e.diff_src, *dx);
    e.data_weights.bind_user(weight.raw());
    e.data_weights.run();
    e.data_args.execute(e.data);
  }
  if (e.has_weights) {
    e.src.bind_user(x.raw());
    e.src.run();
    if (dbias) bind(e.diff_bias, *dbias);
    if (e.has_diff_weights_output) e.diff_weights.bind_user(dweight->raw());
    e.weights_args.execute(e.weights);
    if (e.has_diff_weights_output) e.diff_weights.run();
  }
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                    Tensor& y) {
  forward(x, weight, bias, p, y, kF32);
}

void conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                     Tensor* dx, Tensor* dweight, Tensor* dbias) {
  backward(dy, x, weight, p, dx, dweight, dbias, kF32);
}

void conv2d_forward_bf16(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                         Tensor& y) {
  forward(x, weight, bias, p, y, kBf16);
}

void conv2d_backward_bf16(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                          Tensor* dx, Tensor* dweight, Tensor* dbias) {
  backward(dy, x, weight, p, dx, dweight, dbias, kBf16);
}

}  // namespace resnet::ops::cpu
