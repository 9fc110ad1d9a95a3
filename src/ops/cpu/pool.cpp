// oneDNN pooling: max (with its workspace), average, and global average (one window over the whole plane).
#include <algorithm>

#include "ops/cpu/dnnl_context.h"
#include "resnet/ops/pool.h"

namespace resnet::ops::cpu {
namespace {

using dnnl::memory;

struct ForwardEntry : CachedEntry {
  dnnl::pooling_forward pool;
  memory src, dst, workspace;
  size_t workspace_bytes = 0;
  ExecArgs args;
};

struct BackwardEntry : CachedEntry {
  dnnl::pooling_backward pool;
  memory diff_dst, diff_src, workspace;
  size_t workspace_bytes = 0;
  ExecArgs args;
};

// One pooling configuration in oneDNN's terms.
struct PoolDescs {
  dnnl::algorithm algorithm;
  memory::desc src, dst;
  memory::dims strides, kernel, padding_l, padding_r;
};

PoolDescs make_descs(dnnl::algorithm algorithm, const Shape& x, const Shape& y, const Pool2dParams& p,
                     Layout layout, DType dtype = DType::f32) {
  PoolDescs d;
  d.algorithm = algorithm;
  d.src = dense_desc(x, layout, dtype);
  d.dst = dense_desc(y, layout, dtype);
  d.strides = {p.stride[0], p.stride[1]};
  d.kernel = {p.kernel[0], p.kernel[1]};
  d.padding_l = {p.padding[0], p.padding[1]};
  d.padding_r = d.padding_l;  // symmetric; oneDNN checks the output size with the same floor formula
  return d;
}

// Global average pooling: one H x W window; y [N, C] is the [N, C, 1, 1] output, whose memory is the same
// in either layout.
PoolDescs global_descs(const Shape& x, Layout layout) {
  Pool2dParams p;
  p.kernel = {x[2], x[3]};
  p.stride = {1, 1};
  p.padding = {0, 0};
  return make_descs(dnnl::algorithm::pooling_avg_include_padding, x, Shape{x[0], x[1], 1, 1}, p, layout);
}

dnnl::pooling_forward::primitive_desc forward_pd(const PoolDescs& d, dnnl::prop_kind prop) {
  const dnnl::pooling_forward::desc desc(prop, d.algorithm, d.src, d.dst, d.strides, d.kernel, d.padding_l,
                                         d.padding_r);
  return dnnl::pooling_forward::primitive_desc(desc, user_scratchpad_attr(), engine());
}

// Max pooling runs forward_training so that oneDNN fills a workspace (where each maximum came from);
// average pooling needs none and runs forward_inference.
bool is_max(const PoolDescs& d) {
  return d.algorithm == dnnl::algorithm::pooling_max;
}

std::unique_ptr<ForwardEntry> make_forward_entry(const PoolDescs& d) {
  auto e = std::make_unique<ForwardEntry>();
  const auto pd =
      forward_pd(d, is_max(d) ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference);
  e->pool = create_primitive<dnnl::pooling_forward>(pd);
  e->src = unbound_memory(d.src);
  e->dst = unbound_memory(d.dst);
  e->args.add(DNNL_ARG_SRC, e->src);
  e->args.add(DNNL_ARG_DST, e->dst);
  if (is_max(d)) {
    e->workspace = unbound_memory(pd.workspace_desc());
    e->workspace_bytes = pd.workspace_desc().get_size();
    e->args.add(DNNL_ARG_WORKSPACE, e->workspace);
  }
  e->args.add_scratchpad(pd);
  return e;
}

std::unique_ptr<BackwardEntry> make_backward_entry(const PoolDescs& d) {
  auto e = std::make_unique<BackwardEntry>();
  const auto hint = forward_pd(d, dnnl::prop_kind::forward_training);
  const dnnl::pooling_backward::desc desc(d.algorithm, d.src, d.dst, d.strides, d.kernel, d.padding_l,
                                          d.padding_r);
  const dnnl::pooling_backward::primitive_desc pd(desc, user_scratchpad_attr(), engine(), hint);
  e->pool = create_primitive<dnnl::pooling_backward>(pd);
  e->diff_dst = unbound_memory(d.dst);
  e->diff_src = unbound_memory(d.src);
  e->args.add(DNNL_ARG_DIFF_DST, e->diff_dst);
  e->args.add(DNNL_ARG_DIFF_SRC, e->diff_src);
  if (is_max(d)) {
    e->workspace = unbound_memory(hint.workspace_desc());
    e->workspace_bytes = hint.workspace_desc().get_size();
    e->args.add(DNNL_ARG_WORKSPACE, e->workspace);
  }
  e->args.add_scratchpad(pd);
  return e;
}

CacheKey pool_key(int kind, dnnl::algorithm algorithm, const Tensor& x, Layout layout,
                  const Pool2dParams& p) {
  CacheKey key(kind);
  key.add(static_cast<int64_t>(algorithm)).add(x.shape()).add(layout).add(x.dtype());
  for (int i = 0; i < 2; ++i) key.add(p.kernel[i]).add(p.stride[i]).add(p.padding[i]);
  return key;
}

dnnl::algorithm avg_algorithm(const Pool2dParams& p) {
  return p.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                             : dnnl::algorithm::pooling_avg_exclude_padding;
}

void check_pair(const char* op, const Tensor& big, const char* big_name, const Tensor& small,
                const char* small_name, const Pool2dParams& p) {
  check_same_dtype(op, {{&big, big_name}, {&small, small_name}});
  check_shape(small, pool2d_output_shape(big.shape(), p), op, small_name);
}

// Forward of max or average pooling; `workspace` only for max.
void pool_forward(const char* op, dnnl::algorithm algorithm, const Tensor& x, const Pool2dParams& p,
                  Tensor& y, Tensor* workspace) {
  check_pair(op, x, "x", y, "y", p);
  const Layout layout = common_layout(op, {&x, &y});
  const CacheKey key = pool_key(kPoolForward, algorithm, x, layout, p);
  ForwardEntry& e = cache<ForwardEntry>().find_or_create(key, [&] {
    return make_forward_entry(make_descs(algorithm, x.shape(), y.shape(), p, layout, x.dtype()));
  });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.src, x);
  bind(e.dst, y);
  if (workspace) {
    ensure(*workspace, Shape{static_cast<int64_t>(e.workspace_bytes)}, DType::u8);
    bind(e.workspace, *workspace);
  }
  e.args.execute(e.pool);
}

void pool_backward(const char* op, dnnl::algorithm algorithm, const Tensor& dy, const Pool2dParams& p,
                   Tensor& dx, const Tensor* workspace) {
  check_pair(op, dx, "dx", dy, "dy", p);
  const Layout layout = common_layout(op, {&dx, &dy});
  const CacheKey key = pool_key(kPoolBackward, algorithm, dx, layout, p);
  BackwardEntry& e = cache<BackwardEntry>().find_or_create(key, [&] {
    return make_backward_entry(make_descs(algorithm, dx.shape(), dy.shape(), p, layout, dx.dtype()));
  });
  if (workspace) {
    RESNET_CHECK(workspace->defined() && workspace->dtype() == DType::u8 &&
                 workspace->nbytes() == e.workspace_bytes)
        << op << ": workspace " << workspace->str() << " was not filled by cpu::max_pool2d_forward for x "
        << dx.shape() << " (expected u8[" << e.workspace_bytes << "])";
  }
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.diff_dst, dy);
  bind(e.diff_src, dx);
  if (workspace) bind(e.workspace, *workspace);
  e.args.execute(e.pool);
}

// Global average pooling of bf16 activations into f32 [N, C] (the classifier head stays f32) and its
// backward. oneDNN 2.6's pooling reads and writes one type, so these are plain loops, summing in f32.
void global_avg_pool_forward_bf16(const Tensor& x, Layout layout, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  const uint16_t* in = x.data_bf16();
  float* out = y.data<float>();
  const float scale = 1.0f / static_cast<float>(HW);
  if (layout == Layout::contiguous) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const uint16_t* plane = in + (n * C + c) * HW;
        float sum = 0.0f;
        for (int64_t i = 0; i < HW; ++i) sum += bf16_to_f32(plane[i]);
        out[n * C + c] = sum * scale;
      }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* row = out + n * C;
    std::fill(row, row + C, 0.0f);
    for (int64_t i = 0; i < HW; ++i) {
      const uint16_t* pixel = in + (n * HW + i) * C;
      for (int64_t c = 0; c < C; ++c) row[c] += bf16_to_f32(pixel[c]);
    }
    for (int64_t c = 0; c < C; ++c) row[c] *= scale;
  }
}

void global_avg_pool_backward_bf16(const Tensor& dy, Layout layout, Tensor& dx) {
  const int64_t N = dx.size(0), C = dx.size(1), HW = dx.size(2) * dx.size(3);
  const float* in = dy.data<float>();
  uint16_t* out = dx.data_bf16();
  const float scale = 1.0f / static_cast<float>(HW);
  if (layout == Layout::contiguous) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const uint16_t g = f32_to_bf16(in[n * C + c] * scale);
        std::fill_n(out + (n * C + c) * HW, HW, g);
      }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i) {
      uint16_t* pixel = out + (n * HW + i) * C;
      for (int64_t c = 0; c < C; ++c) pixel[c] = f32_to_bf16(in[n * C + c] * scale);
    }
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y, Tensor& workspace) {
  pool_forward("cpu::max_pool2d_forward", dnnl::algorithm::pooling_max, x, p, y, &workspace);
}

void max_pool2d_backward(const Tensor& dy, const Tensor& workspace, const Pool2dParams& p, Tensor& dx) {
  pool_backward("cpu::max_pool2d_backward", dnnl::algorithm::pooling_max, dy, p, dx, &workspace);
}

void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y) {
  pool_forward("cpu::avg_pool2d_forward", avg_algorithm(p), x, p, y, nullptr);
}

void avg_pool2d_backward(const Tensor& dy, const Pool2dParams& p, Tensor& dx) {
  pool_backward("cpu::avg_pool2d_backward", avg_algorithm(p), dy, p, dx, nullptr);
}

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  constexpr const char* op = "cpu::global_avg_pool_forward";
  check_float(x, op, "x");
  check_f32(y, op, "y");
  RESNET_CHECK(x.ndim() == 4) << op << ": x must be [N, C, H, W], got " << x.shape();
  check_shape(y, Shape{x.size(0), x.size(1)}, op, "y");
  RESNET_CHECK(y.is_contiguous()) << op << ": y must be contiguous, got " << y.str();
  const Layout layout = common_layout(op, {&x});
  if (x.dtype() == DType::bf16) {
    global_avg_pool_forward_bf16(x, layout, y);
    return;
  }
  const CacheKey key = CacheKey(kGlobalAvgPoolForward).add(x.shape()).add(layout);
  ForwardEntry& e = cache<ForwardEntry>().find_or_create(
      key, [&] { return make_forward_entry(global_descs(x.shape(), layout)); });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.src, x);
  bind(e.dst, y);
  e.args.execute(e.pool);
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  constexpr const char* op = "cpu::global_avg_pool_backward";
  check_f32(dy, op, "dy");
  check_float(dx, op, "dx");
  RESNET_CHECK(dx.ndim() == 4) << op << ": dx must be [N, C, H, W], got " << dx.shape();
  check_shape(dy, Shape{dx.size(0), dx.size(1)}, op, "dy");
  RESNET_CHECK(dy.is_contiguous()) << op << ": dy must be contiguous, got " << dy.str();
  const Layout layout = common_layout(op, {&dx});
  if (dx.dtype() == DType::bf16) {
    global_avg_pool_backward_bf16(dy, layout, dx);
    return;
  }
  const CacheKey key = CacheKey(kGlobalAvgPoolBackward).add(dx.shape()).add(layout);
  BackwardEntry& e = cache<BackwardEntry>().find_or_create(
      key, [&] { return make_backward_entry(global_descs(dx.shape(), layout)); });
  std::lock_guard<std::mutex> lock(e.mutex);
  bind(e.diff_dst, dy);
  bind(e.diff_src, dx);
  e.args.execute(e.pool);
}

}  // namespace resnet::ops::cpu
