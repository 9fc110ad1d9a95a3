// The fully connected layer with oneDNN (matmul forward, inner product backward) and flatten.
//
// Weights stay in our plain [out, in] buffer, read in place: no reorder per call. The forward is a matmul
// x · Wᵀ with W seen through transposed strides: at ResNet-50's head (N32, 2048 -> 1000) oneDNN runs it
// with brgemm at ~270 GFLOP/s, where inner_product_forward with plain weights falls back to gemm:jit at
// ~60 (and with blocked weights the per-call reorder of 8 MB costs 2.6 ms). The inner-product backward
// primitives are fast with plain weights (~350 GFLOP/s) and give the bias gradient too.
#include "resnet/ops/linear.h"
#include "ops/cpu/dnnl_context.h"
#include "ops/cpu/loops.h"

namespace resnet::ops::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

struct LinearDescs {
  memory::desc src, weights, bias, dst;
};

LinearDescs make_descs(int64_t batch, int64_t in, int64_t out, bool with_bias) {
  LinearDescs d;
  d.src = memory::desc({batch, in}, kF32, Tag::nc);
  d.weights = memory::desc({out, in}, kF32, Tag::oi);
  if (with_bias) d.bias = memory::desc({out}, kF32, Tag::a);
  d.dst = memory::desc({batch, out}, kF32, Tag::nc);
  return d;
}

// The hint the backward primitives are created with.
dnnl::inner_product_forward::primitive_desc forward_pd(const LinearDescs& d) {
  const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_training, d.src, d.weights, d.bias,
                                               d.dst);
  return dnnl::inner_product_forward::primitive_desc(desc, user_scratchpad_attr(), engine());
}

struct ForwardEntry : CachedEntry {
  dnnl::matmul matmul;
  memory src, weights, bias, dst;
  ExecArgs args;
};

struct BackwardEntry : CachedEntry {
  memory diff_dst;

  bool has_data = false;
  dnnl::inner_product_backward_data data;
  memory weights, diff_src;
  ExecArgs data_args;

  bool has_weights = false;
  dnnl::inner_product_backward_weights weights_grad;
  memory src, diff_weights, diff_bias;
  OwnedMemory diff_weights_sink;  // when only the bias gradient is wanted
  ExecArgs weights_args;
};

struct ReorderEntry : CachedEntry {
  dnnl::reorder reorder;
  memory from, to;
  ExecArgs args;
};

std::unique_ptr<ForwardEntry> make_forward_entry(int64_t batch, int64_t in, int64_t out, bool with_bias) {
  auto e = std::make_unique<ForwardEntry>();
  const memory::desc src({batch, in}, kF32, Tag::ab);
  const memory::desc weights_transposed({in, out}, kF32, Tag::ba);  // our [out, in] buffer as Wᵀ [in, out]
  const memory::desc bias = with_bias ? memory::desc({1, out}, kF32, Tag::ab) : memory::desc();
  const memory::desc dst({batch, out}, kF32, Tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights_transposed, bias, dst),
                                        user_scratchpad_attr(), engine());
  e->matmul = create_primitive<dnnl::matmul>(pd);
  e->src = unbound_memory(src);
  e->weights = unbound_memory(weights_transposed);
  e->dst = unbound_memory(dst);
  e->args.add(DNNL_ARG_SRC, e->src);
  e->args.add(DNNL_ARG_WEIGHTS, e->weights);
  e->args.add(DNNL_ARG_DST, e->dst);
  if (with_bias) {
    e->bias = unbound_memory(bias);
    e->args.add(DNNL_ARG_BIAS, e->bias);
  }
  e->args.add_scratchpad(pd);
  return e;
}

std::unique_ptr<BackwardEntry> make_backward_entry(const LinearDescs& d, bool want_dx, bool want_dweight,
                                                   bool want_dbias) {
  auto e = std::make_unique<BackwardEntry>();
  const auto hint = forward_pd(d);
  e->diff_dst = unbound_memory(d.dst);
  if (want_dx) {
    e->has_data = true;
    const dnnl::inner_product_backward_data::desc desc(d.src, d.weights, d.dst);
    const dnnl::inner_product_backward_data::primitive_desc pd(desc, user_scratchpad_attr(), engine(), hint);
    e->data = create_primitive<dnnl::inner_product_backward_data>(pd);
    e->weights = unbound_memory(d.weights);
    e->diff_src = unbound_memory(d.src);
    e->data_args.add(DNNL_ARG_DIFF_DST, e->diff_dst);
    e->data_args.add(DNNL_ARG_WEIGHTS, e->weights);
    e->data_args.add(DNNL_ARG_DIFF_SRC, e->diff_src);
    e->data_args.add_scratchpad(pd);
  }
  if (want_dweight || want_dbias) {
    e->has_weights = true;
    const dnnl::inner_product_backward_weights::desc desc(d.src, d.weights,
                                                          want_dbias ? d.bias : memory::desc(), d.dst);
    const dnnl::inner_product_backward_weights::primitive_desc pd(desc, user_scratchpad_attr(), engine(),
                                                                  hint);
    e->weights_grad = create_primitive<dnnl::inner_product_backward_weights>(pd);
    e->src = unbound_memory(d.src);
    e->weights_args.add(DNNL_ARG_SRC, e->src);
    e->weights_args.add(DNNL_ARG_DIFF_DST, e->diff_dst);
    if (want_dweight) {
      e->diff_weights = unbound_memory(d.weights);
      e->weights_args.add(DNNL_ARG_DIFF_WEIGHTS, e->diff_weights);
    } else {
      e->diff_weights_sink = owned_memory(d.weights);
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

// CHECKs an f32 contiguous tensor of the given shape.
void check_plain(const Tensor& t, const Shape& shape, const char* op, const char* name) {
  check_f32(t, op, name);
  check_shape(t, shape, op, name);
  RESNET_CHECK(t.is_contiguous()) << op << ": " << name << " must be contiguous, got " << t.str();
}

// Copies the elements of a 4-D `shape` from one layout to the other with a cached oneDNN reorder (NHWC <->
// NCHW transposes); `from` and `to` may carry other shapes of the same memory (e.g. the flat [N, C*H*W]).
void reorder_layout(const Shape& shape, const Tensor& from, Layout from_layout, const Tensor& to,
                    Layout to_layout) {
  const CacheKey key = CacheKey(kFlattenReorder).add(shape).add(from_layout).add(to_layout);
  ReorderEntry& e = cache<ReorderEntry>().find_or_create(key, [&] {
    auto entry = std::make_unique<ReorderEntry>();
    entry->from = unbound_memory(dense_desc(shape, from_layout));
    entry->to = unbound_memory(dense_desc(shape, to_layout));
    const dnnl::reorder::primitive_desc pd(engine(), entry->from.get_desc(), engine(), entry->to.get_desc(),
                                           user_scratchpad_attr());
    entry->reorder = create_primitive<dnnl::reorder>(pd);
    entry->args.add(DNNL_ARG_FROM, entry->from);
    entry->args.add(DNNL_ARG_TO, entry->to);
    entry->args.add_scratchpad(pd);
    return entry;
  });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.from, from);
  bind(e.to, to);
  e.args.execute(e.reorder);
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  constexpr const char* op = "cpu::linear_forward";
  RESNET_CHECK(x.ndim() == 2 && weight.ndim() == 2 && weight.size(1) == x.size(1))
      << op << ": wants x [N, in] and weight [out, in], got x " << x.shape() << ", weight " << weight.shape();
  const int64_t batch = x.size(0), in = x.size(1), out = weight.size(0);
  check_plain(x, x.shape(), op, "x");
  check_plain(weight, weight.shape(), op, "weight");
  if (bias) check_plain(*bias, Shape{out}, op, "bias");
  check_plain(y, Shape{batch, out}, op, "y");

  const CacheKey key = CacheKey(kLinearForward).add(batch).add(in).add(out).add(bias != nullptr);
  ForwardEntry& e = cache<ForwardEntry>().find_or_create(
      key, [&] { return make_forward_entry(batch, in, out, bias != nullptr); });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.src, x);
  bind(e.weights, weight);
  if (bias) bind(e.bias, *bias);
  bind(e.dst, y);
  e.args.execute(e.matmul);
}

void linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, Tensor* dx, Tensor* dweight,
                     Tensor* dbias) {
  constexpr const char* op = "cpu::linear_backward";
  RESNET_CHECK(x.ndim() == 2 && weight.ndim() == 2 && weight.size(1) == x.size(1))
      << op << ": wants x [N, in] and weight [out, in], got x " << x.shape() << ", weight " << weight.shape();
  const int64_t batch = x.size(0), in = x.size(1), out = weight.size(0);
  check_plain(x, x.shape(), op, "x");
  check_plain(weight, weight.shape(), op, "weight");
  check_plain(dy, Shape{batch, out}, op, "dy");
  if (dx) check_plain(*dx, x.shape(), op, "dx");
  if (dweight) check_plain(*dweight, weight.shape(), op, "dweight");
  if (dbias) check_plain(*dbias, Shape{out}, op, "dbias");
  if (!dx && !dweight && !dbias) return;

  const CacheKey key = CacheKey(kLinearBackward)
                           .add(batch)
                           .add(in)
                           .add(out)
                           .add(dx != nullptr)
                           .add(dweight != nullptr)
                           .add(dbias != nullptr);
  BackwardEntry& e = cache<BackwardEntry>().find_or_create(key, [&] {
    return make_backward_entry(make_descs(batch, in, out, dbias != nullptr), dx != nullptr,
                               dweight != nullptr, dbias != nullptr);
  });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.diff_dst, dy);
  if (e.has_data) {
    bind(e.weights, weight);
    bind(e.diff_src, *dx);
    e.data_args.execute(e.data);
  }
  if (e.has_weights) {
    bind(e.src, x);
    if (dweight) bind(e.diff_weights, *dweight);
    if (dbias) bind(e.diff_bias, *dbias);
    e.weights_args.execute(e.weights_grad);
  }
}

void flatten_forward(const Tensor& x, Tensor& y) {
  constexpr const char* op = "cpu::flatten_forward";
  check_f32(x, op, "x");
  RESNET_CHECK(x.ndim() >= 1 && x.is_dense()) << op << ": x must be dense, got " << x.str();
  const int64_t batch = x.size(0);
  check_plain(y, Shape{batch, batch == 0 ? 0 : x.numel() / batch}, op, "y");
  if (x.is_contiguous()) {
    parallel_copy(y.raw(), x.raw(), x.nbytes());
  } else {
    // channels_last: transpose each sample's (H*W, C) plane to PyTorch's (C, H*W) order.
    reorder_layout(x.shape(), x, Layout::channels_last, y, Layout::contiguous);
  }
}

void flatten_backward(const Tensor& dy, Tensor& dx) {
  constexpr const char* op = "cpu::flatten_backward";
  check_f32(dx, op, "dx");
  RESNET_CHECK(dx.ndim() >= 1 && dx.is_dense()) << op << ": dx must be dense, got " << dx.str();
  const int64_t batch = dx.size(0);
  check_plain(dy, Shape{batch, batch == 0 ? 0 : dx.numel() / batch}, op, "dy");
  if (dx.is_contiguous()) {
    parallel_copy(dx.raw(), dy.raw(), dy.nbytes());
  } else {
    reorder_layout(dx.shape(), dy, Layout::contiguous, dx, Layout::channels_last);
  }
}

}  // namespace resnet::ops::cpu
