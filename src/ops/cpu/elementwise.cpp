// ReLU (oneDNN eltwise), the residual sum (oneDNN binary add), and the sum with a ReLU post-op.
//
// The tensors of one call share one memory order and one type, f32 or bf16 (CHECKed), so an element-wise
// op does not care which order: every primitive here sees its tensors as flat 1-D arrays, one cache entry
// per element count and type.
#include "resnet/ops/elementwise.h"
#include "ops/cpu/dnnl_context.h"
#include "ops/cpu/loops.h"

namespace resnet::ops::cpu {
namespace {

using dnnl::memory;

struct ReluForwardEntry : CachedEntry {
  dnnl::eltwise_forward relu;
  memory src, dst;
  ExecArgs args;
};

struct ReluBackwardEntry : CachedEntry {
  dnnl::eltwise_backward relu;
  memory dst, diff_dst, diff_src;
  ExecArgs args;
};

struct AddEntry : CachedEntry {
  dnnl::binary add;
  memory src0, src1, dst;
  ExecArgs args;
};

// relu_use_dst_for_bwd: the backward reads the forward output y (dx = dy where y > 0), so the module keeps
// y rather than x and ReLU can run in place.
dnnl::eltwise_forward::primitive_desc relu_forward_pd(const memory::desc& data) {
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_training,
                                         dnnl::algorithm::eltwise_relu_use_dst_for_bwd, data, 0.f, 0.f);
  return dnnl::eltwise_forward::primitive_desc(desc, user_scratchpad_attr(), engine());
}

std::unique_ptr<ReluForwardEntry> make_relu_forward(int64_t n, DType dtype) {
  auto e = std::make_unique<ReluForwardEntry>();
  const memory::desc data = flat_desc(n, dtype);
  const auto pd = relu_forward_pd(data);
  e->relu = create_primitive<dnnl::eltwise_forward>(pd);
  e->src = unbound_memory(data);
  e->dst = unbound_memory(data);
  e->args.add(DNNL_ARG_SRC, e->src);
  e->args.add(DNNL_ARG_DST, e->dst);
  e->args.add_scratchpad(pd);
  return e;
}

std::unique_ptr<ReluBackwardEntry> make_relu_backward(int64_t n, DType dtype) {
  auto e = std::make_unique<ReluBackwardEntry>();
  const memory::desc data = flat_desc(n, dtype);
  const dnnl::eltwise_backward::desc desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, data, data, 0.f,
                                          0.f);
  const dnnl::eltwise_backward::primitive_desc pd(desc, user_scratchpad_attr(), engine(),
                                                  relu_forward_pd(data));
  e->relu = create_primitive<dnnl::eltwise_backward>(pd);
  e->dst = unbound_memory(data);
  e->diff_dst = unbound_memory(data);
  e->diff_src = unbound_memory(data);
  e->args.add(DNNL_ARG_DST, e->dst);
  e->args.add(DNNL_ARG_DIFF_DST, e->diff_dst);
  e->args.add(DNNL_ARG_DIFF_SRC, e->diff_src);
  e->args.add_scratchpad(pd);
  return e;
}

std::unique_ptr<AddEntry> make_add(int64_t n, DType dtype, bool relu) {
  auto e = std::make_unique<AddEntry>();
  const memory::desc data = flat_desc(n, dtype);
  const dnnl::binary::desc desc(dnnl::algorithm::binary_add, data, data, data);
  dnnl::primitive_attr attr = user_scratchpad_attr();
  if (relu) {
    dnnl::post_ops post;
    post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(post);
  }
  const dnnl::binary::primitive_desc pd(desc, attr, engine());
  e->add = create_primitive<dnnl::binary>(pd);
  e->src0 = unbound_memory(data);
  e->src1 = unbound_memory(data);
  e->dst = unbound_memory(data);
  e->args.add(DNNL_ARG_SRC_0, e->src0);
  e->args.add(DNNL_ARG_SRC_1, e->src1);
  e->args.add(DNNL_ARG_DST, e->dst);
  e->args.add_scratchpad(pd);
  return e;
}

// CHECKs one type (f32 or bf16), one shape and one memory order for the tensors of an element-wise op.
void check_elementwise(const char* op, std::initializer_list<std::pair<const Tensor*, const char*>> tensors) {
  check_same_dtype(op, tensors);
  const Tensor* first = tensors.begin()->first;
  for (const auto& [t, name] : tensors) {
    check_shape(*t, first->shape(), op, name);
    RESNET_CHECK(t->is_dense()) << op << ": " << name << " must be dense, got " << t->str();
    RESNET_CHECK(layouts_match(*t, *first))
        << op << ": " << name << " " << t->str() << " is not in the layout of " << tensors.begin()->second
        << " " << first->str() << " (the cpu backend needs one layout)";
  }
}

}  // namespace

void relu_forward(const Tensor& x, Tensor& y) {
  check_elementwise("cpu::relu_forward", {{&x, "x"}, {&y, "y"}});
  const int64_t n = x.numel();
  if (n == 0) return;
  const CacheKey key = CacheKey(kReluForward).add(n).add(x.dtype());
  ReluForwardEntry& e =
      cache<ReluForwardEntry>().find_or_create(key, [&] { return make_relu_forward(n, x.dtype()); });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.src, x);
  bind(e.dst, y);
  e.args.execute(e.relu);
}

void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  check_elementwise("cpu::relu_backward", {{&dy, "dy"}, {&y, "y"}, {&dx, "dx"}});
  const int64_t n = dy.numel();
  if (n == 0) return;
  const CacheKey key = CacheKey(kReluBackward).add(n).add(dy.dtype());
  ReluBackwardEntry& e =
      cache<ReluBackwardEntry>().find_or_create(key, [&] { return make_relu_backward(n, dy.dtype()); });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.dst, y);
  bind(e.diff_dst, dy);
  bind(e.diff_src, dx);
  e.args.execute(e.relu);
}

namespace {

void add(const char* op, bool relu, const Tensor& a, const Tensor& b, Tensor& y) {
  check_elementwise(op, {{&a, "a"}, {&b, "b"}, {&y, "y"}});
  const int64_t n = a.numel();
  if (n == 0) return;
  const CacheKey key = CacheKey(relu ? kAddReluForward : kAddForward).add(n).add(a.dtype());
  AddEntry& e = cache<AddEntry>().find_or_create(key, [&] { return make_add(n, a.dtype(), relu); });
  // oneDNN runs binary in place only over src0: when y is b, b goes first (addition commutes).
  const bool swap = y.raw() == b.raw() && y.raw() != a.raw();
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.src0, swap ? b : a);
  bind(e.src1, swap ? a : b);
  bind(e.dst, y);
  e.args.execute(e.add);
}

}  // namespace

void add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  add("cpu::add_forward", /*relu=*/false, a, b, y);
}

void add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  add("cpu::add_relu_forward", /*relu=*/true, a, b, y);
}

void add_backward(const Tensor& dy, Tensor* da, Tensor* db) {
  constexpr const char* op = "cpu::add_backward";
  if (da) check_elementwise(op, {{&dy, "dy"}, {da, "da"}});
  if (db) check_elementwise(op, {{&dy, "dy"}, {db, "db"}});
  check_float(dy, op, "dy");
  if (da) parallel_copy(da->raw(), dy.raw(), dy.nbytes());
  if (db) parallel_copy(db->raw(), dy.raw(), dy.nbytes());
}

}  // namespace resnet::ops::cpu
