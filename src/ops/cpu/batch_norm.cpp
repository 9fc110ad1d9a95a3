// oneDNN batch normalisation: training forward (batch statistics), inference forward (running
// statistics), and the backward of each.
//
// oneDNN returns the batch mean and the *biased* variance, which are exactly what save_mean/save_var hold;
// the running statistics are then updated here with PyTorch's rule (unbiased variance, m/(m-1)).
// The backward of the inference forward uses oneDNN's use_global_stats flag, under which mean and
// variance are constants. The fused BN + ReLU uses fuse_norm_relu: the forward writes a workspace (the
// ReLU's mask, in oneDNN's own format, sized by the primitive) into relu_mask and the backward reads it.
// Data tensors (x, y, dy, dx) are f32 or bf16, one type per call; oneDNN computes the statistics and the
// normalisation in f32 either way, and the per-channel tensors are always f32.
#include <algorithm>

#include "ops/cpu/dnnl_context.h"
#include "resnet/ops/batch_norm.h"

namespace resnet::ops::cpu {
namespace {

using dnnl::memory;
using Flags = dnnl::normalization_flags;

memory::desc stat_desc(int64_t channels) {
  return memory::desc({channels}, memory::data_type::f32, memory::format_tag::a);
}

struct ForwardEntry : CachedEntry {
  dnnl::batch_normalization_forward bn;
  memory src, dst, mean, variance, scale, shift;
  memory workspace;  // fused ReLU only: bound to the caller's relu_mask
  size_t workspace_bytes = 0;
  ExecArgs args;
};

struct BackwardEntry : CachedEntry {
  dnnl::batch_normalization_backward bn;
  memory src, mean, variance, diff_dst, scale;
  memory workspace;  // fused ReLU only
  size_t workspace_bytes = 0;
  memory diff_src, diff_scale, diff_shift;                      // bound to the caller's tensors ...
  OwnedMemory diff_src_sink, diff_scale_sink, diff_shift_sink;  // ... or, for outputs not wanted, to these
  // With use_shift oneDNN counts SHIFT among the backward inputs although the gradients do not depend on it
  // (execute fails with invalid_arguments without it); the backward API has no bias, so it gets zeros.
  OwnedMemory unused_shift;
  ExecArgs args;
};

Flags affine_flags(bool with_scale, bool with_shift, bool fuse_relu) {
  Flags f = Flags::none;
  if (with_scale) f = f | Flags::use_scale;
  if (with_shift) f = f | Flags::use_shift;
  if (fuse_relu) f = f | Flags::fuse_norm_relu;
  return f;
}

// `global_stats`: inference (mean and variance are inputs) rather than training (they are outputs).
std::unique_ptr<ForwardEntry> make_forward_entry(const memory::desc& data, int64_t channels, double eps,
                                                 bool global_stats, bool with_scale, bool with_shift,
                                                 bool fuse_relu) {
  auto e = std::make_unique<ForwardEntry>();
  Flags flags = affine_flags(with_scale, with_shift, fuse_relu);
  if (global_stats) flags = flags | Flags::use_global_stats;
  const dnnl::batch_normalization_forward::desc desc(
      global_stats ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, data,
      static_cast<float>(eps), flags);
  const dnnl::batch_normalization_forward::primitive_desc pd(desc, user_scratchpad_attr(), engine());
  e->bn = create_primitive<dnnl::batch_normalization_forward>(pd);
  e->src = unbound_memory(data);
  e->dst = unbound_memory(data);
  e->mean = unbound_memory(stat_desc(channels));
  e->variance = unbound_memory(stat_desc(channels));
  e->args.add(DNNL_ARG_SRC, e->src);
  e->args.add(DNNL_ARG_DST, e->dst);
  e->args.add(DNNL_ARG_MEAN, e->mean);
  e->args.add(DNNL_ARG_VARIANCE, e->variance);
  if (with_scale) {
    e->scale = unbound_memory(stat_desc(channels));
    e->args.add(DNNL_ARG_SCALE, e->scale);
  }
  if (with_shift) {
    e->shift = unbound_memory(stat_desc(channels));
    e->args.add(DNNL_ARG_SHIFT, e->shift);
  }
  if (fuse_relu) {
    e->workspace = unbound_memory(pd.workspace_desc());
    e->workspace_bytes = pd.workspace_desc().get_size();
    e->args.add(DNNL_ARG_WORKSPACE, e->workspace);
  }
  e->args.add_scratchpad(pd);
  return e;
}

struct BackwardRequest {
  bool global_stats, with_scale, want_dx, want_dweight, want_dbias, fuse_relu;
};

std::unique_ptr<BackwardEntry> make_backward_entry(const memory::desc& data, int64_t channels, double eps,
                                                   const BackwardRequest& r) {
  auto e = std::make_unique<BackwardEntry>();
  // With scale, oneDNN 2.6 implements only prop backward (backward_data + use_scale has no
  // implementation), which also computes diff_scale/diff_shift: those go to sinks when not wanted.
  const bool prop_backward = r.with_scale;
  Flags flags = affine_flags(r.with_scale, r.with_scale, r.fuse_relu);
  if (r.global_stats) flags = flags | Flags::use_global_stats;
  const float epsilon = static_cast<float>(eps);
  const dnnl::batch_normalization_forward::desc hint_desc(dnnl::prop_kind::forward_training, data, epsilon,
                                                          flags);
  const dnnl::batch_normalization_forward::primitive_desc hint(hint_desc, user_scratchpad_attr(), engine());
  const dnnl::batch_normalization_backward::desc desc(
      prop_backward ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data, data, data, epsilon, flags);
  const dnnl::batch_normalization_backward::primitive_desc pd(desc, user_scratchpad_attr(), engine(), hint);
  e->bn = create_primitive<dnnl::batch_normalization_backward>(pd);
  e->src = unbound_memory(data);
  e->mean = unbound_memory(stat_desc(channels));
  e->variance = unbound_memory(stat_desc(channels));
  e->diff_dst = unbound_memory(data);
  e->args.add(DNNL_ARG_SRC, e->src);
  e->args.add(DNNL_ARG_MEAN, e->mean);
  e->args.add(DNNL_ARG_VARIANCE, e->variance);
  e->args.add(DNNL_ARG_DIFF_DST, e->diff_dst);
  if (r.fuse_relu) {
    e->workspace = unbound_memory(pd.workspace_desc());
    e->workspace_bytes = pd.workspace_desc().get_size();
    e->args.add(DNNL_ARG_WORKSPACE, e->workspace);
  }
  if (r.want_dx) {
    e->diff_src = unbound_memory(data);
    e->args.add(DNNL_ARG_DIFF_SRC, e->diff_src);
  } else {
    e->diff_src_sink = owned_memory(data);
    e->args.add(DNNL_ARG_DIFF_SRC, e->diff_src_sink.memory);
  }
  if (r.with_scale) {
    e->scale = unbound_memory(stat_desc(channels));
    e->args.add(DNNL_ARG_SCALE, e->scale);
  }
  if (prop_backward) {
    e->unused_shift = owned_memory(stat_desc(channels));
    std::fill_n(static_cast<float*>(e->unused_shift.storage->data()), channels, 0.0f);
    e->args.add(DNNL_ARG_SHIFT, e->unused_shift.memory);
    if (r.want_dweight) {
      e->diff_scale = unbound_memory(stat_desc(channels));
      e->args.add(DNNL_ARG_DIFF_SCALE, e->diff_scale);
    } else {
      e->diff_scale_sink = owned_memory(stat_desc(channels));
      e->args.add(DNNL_ARG_DIFF_SCALE, e->diff_scale_sink.memory);
    }
    if (r.want_dbias) {
      e->diff_shift = unbound_memory(stat_desc(channels));
      e->args.add(DNNL_ARG_DIFF_SHIFT, e->diff_shift);
    } else {
      e->diff_shift_sink = owned_memory(stat_desc(channels));
      e->args.add(DNNL_ARG_DIFF_SHIFT, e->diff_shift_sink.memory);
    }
  }
  e->args.add_scratchpad(pd);
  return e;
}

// CHECKs a [C] f32 contiguous per-channel tensor.
void check_channel_vector(const Tensor& t, int64_t channels, const char* op, const char* name) {
  check_f32(t, op, name);
  check_shape(t, Shape{channels}, op, name);
  RESNET_CHECK(t.is_contiguous()) << op << ": " << name << " must be contiguous, got " << t.str();
}

void check_data(const Tensor& x, const char* op) {
  check_float(x, op, "x");
  RESNET_CHECK(x.ndim() == 4) << op << ": x must be [N, C, H, W], got " << x.shape();
}

CacheKey bn_key(int kind, const Tensor& x, Layout layout, double eps) {
  CacheKey key(kind);
  key.add(x.shape()).add(layout).add(x.dtype()).add_double(eps);
  return key;
}

// CHECKs that the caller's mask buffer can hold the primitive's workspace.
void check_mask(const char* op, const Tensor& relu_mask, size_t workspace_bytes) {
  RESNET_CHECK(relu_mask.dtype() == DType::u8 && relu_mask.is_contiguous() &&
               relu_mask.nbytes() >= workspace_bytes)
      << op << ": relu_mask must be a contiguous u8 tensor of at least " << workspace_bytes << " bytes, got "
      << relu_mask.str();
}

void forward(const char* op, bool training, const Tensor& x, const Tensor* weight, const Tensor* bias,
             const Tensor& mean, const Tensor& variance, const BatchNormParams& p, Tensor& y,
             Tensor* relu_mask = nullptr) {
  const Layout layout = common_layout(op, {&x, &y});
  const int64_t channels = x.size(1);
  const CacheKey key =
      bn_key(training ? kBatchNormForwardTraining : kBatchNormForwardInference, x, layout, p.eps)
          .add(weight != nullptr)
          .add(bias != nullptr)
          .add(relu_mask != nullptr);
  ForwardEntry& e = cache<ForwardEntry>().find_or_create(key, [&] {
    return make_forward_entry(dense_desc(x.shape(), layout, x.dtype()), channels, p.eps, !training,
                              weight != nullptr, bias != nullptr, relu_mask != nullptr);
  });
  if (relu_mask) ensure(*relu_mask, Shape{static_cast<int64_t>(e.workspace_bytes)}, DType::u8);
  std::lock_guard<std::mutex> lock(e.mutex);
  if (relu_mask) bind(e.workspace, *relu_mask);
  bind(e.src, x);
  bind(e.dst, y);
  bind(e.mean, mean);
  bind(e.variance, variance);
  if (weight) bind(e.scale, *weight);
  if (bias) bind(e.shift, *bias);
  e.args.execute(e.bn);
}

void backward(const char* op, bool global_stats, const Tensor& dy, const Tensor& x, const Tensor* weight,
              const Tensor& mean, const Tensor& variance, const BatchNormParams& p, Tensor* dx,
              Tensor* dweight, Tensor* dbias, const Tensor* relu_mask = nullptr) {
  check_data(x, op);
  check_same_dtype(op, {{&x, "x"}, {&dy, "dy"}});
  check_shape(dy, x.shape(), op, "dy");
  const int64_t channels = x.size(1);
  if (weight) check_channel_vector(*weight, channels, op, "weight");
  check_channel_vector(mean, channels, op, global_stats ? "running_mean" : "save_mean");
  check_channel_vector(variance, channels, op, global_stats ? "running_var" : "save_var");
  if (dx) {
    check_same_dtype(op, {{&x, "x"}, {dx, "dx"}});
    check_shape(*dx, x.shape(), op, "dx");
  }
  RESNET_CHECK(weight || (!dweight && !dbias))
      << op << ": dweight/dbias requested for a batch norm without affine parameters (weight is null)";
  if (dweight) check_channel_vector(*dweight, channels, op, "dweight");
  if (dbias) check_channel_vector(*dbias, channels, op, "dbias");
  if (!dx && !dweight && !dbias) return;
  const Layout layout = dx ? common_layout(op, {&x, &dy, dx}) : common_layout(op, {&x, &dy});

  const BackwardRequest request{global_stats,       weight != nullptr, dx != nullptr,
                                dweight != nullptr, dbias != nullptr,  relu_mask != nullptr};
  const CacheKey key = bn_key(kBatchNormBackward, x, layout, p.eps)
                           .add(request.global_stats)
                           .add(request.with_scale)
                           .add(request.want_dx)
                           .add(request.want_dweight)
                           .add(request.want_dbias)
                           .add(request.fuse_relu);
  BackwardEntry& e = cache<BackwardEntry>().find_or_create(key, [&] {
    return make_backward_entry(dense_desc(x.shape(), layout, x.dtype()), channels, p.eps, request);
  });
  if (relu_mask) check_mask(op, *relu_mask, e.workspace_bytes);
  std::lock_guard<std::mutex> lock(e.mutex);
  if (relu_mask) bind(e.workspace, *relu_mask);
  bind(e.src, x);
  bind(e.mean, mean);
  bind(e.variance, variance);
  bind(e.diff_dst, dy);
  if (weight) bind(e.scale, *weight);
  if (dx) bind(e.diff_src, *dx);
  if (dweight) bind(e.diff_scale, *dweight);
  if (dbias) bind(e.diff_shift, *dbias);
  e.args.execute(e.bn);
}

void check_affine(const Tensor* weight, const Tensor* bias, int64_t channels, const char* op) {
  if (weight) check_channel_vector(*weight, channels, op, "weight");
  if (bias) check_channel_vector(*bias, channels, op, "bias");
}

void forward_training(const char* op, const Tensor& x, const Tensor* weight, const Tensor* bias,
                      Tensor& running_mean, Tensor& running_var, const BatchNormParams& p, Tensor& y,
                      Tensor& save_mean, Tensor& save_var, Tensor* relu_mask) {
  check_data(x, op);
  check_same_dtype(op, {{&x, "x"}, {&y, "y"}});
  check_shape(y, x.shape(), op, "y");
  const int64_t channels = x.size(1);
  check_affine(weight, bias, channels, op);
  check_channel_vector(running_mean, channels, op, "running_mean");
  check_channel_vector(running_var, channels, op, "running_var");
  check_channel_vector(save_mean, channels, op, "save_mean");
  check_channel_vector(save_var, channels, op, "save_var");
  const int64_t m = x.size(0) * x.size(2) * x.size(3);
  RESNET_CHECK(m > 1) << op << ": expected more than 1 value per channel when training, got x " << x.shape();

  forward(op, /*training=*/true, x, weight, bias, save_mean, save_var, p, y, relu_mask);

  // PyTorch's running-statistics update, with the unbiased variance.
  const double unbias = static_cast<double>(m) / static_cast<double>(m - 1);
  const double momentum = p.momentum;
  float* rm = running_mean.data<float>();
  float* rv = running_var.data<float>();
  const float* bm = save_mean.data<float>();
  const float* bv = save_var.data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    rm[c] = static_cast<float>((1.0 - momentum) * rm[c] + momentum * bm[c]);
    rv[c] = static_cast<float>((1.0 - momentum) * rv[c] + momentum * unbias * bv[c]);
  }
}

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                 Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                 Tensor& y, Tensor& save_mean, Tensor& save_var) {
  forward_training("cpu::batch_norm_forward_training", x, weight, bias, running_mean, running_var, p, y,
                   save_mean, save_var, nullptr);
}

void batch_norm_relu_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                      Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                      Tensor& y, Tensor& save_mean, Tensor& save_var, Tensor& relu_mask) {
  forward_training("cpu::batch_norm_relu_forward_training", x, weight, bias, running_mean, running_var, p, y,
                   save_mean, save_var, &relu_mask);
}

void batch_norm_relu_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                       const Tensor& save_mean, const Tensor& save_var,
                                       const Tensor& relu_mask, const BatchNormParams& p, Tensor* dx,
                                       Tensor* dweight, Tensor* dbias) {
  backward("cpu::batch_norm_relu_backward_training", /*global_stats=*/false, dy, x, weight, save_mean,
           save_var, p, dx, dweight, dbias, &relu_mask);
}

void batch_norm_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                  const Tensor& save_mean, const Tensor& save_var, const BatchNormParams& p,
                                  Tensor* dx, Tensor* dweight, Tensor* dbias) {
  backward("cpu::batch_norm_backward_training", /*global_stats=*/false, dy, x, weight, save_mean, save_var, p,
           dx, dweight, dbias);
}

void batch_norm_forward_inference(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  const BatchNormParams& p, Tensor& y) {
  constexpr const char* op = "cpu::batch_norm_forward_inference";
  check_data(x, op);
  check_same_dtype(op, {{&x, "x"}, {&y, "y"}});
  check_shape(y, x.shape(), op, "y");
  const int64_t channels = x.size(1);
  check_affine(weight, bias, channels, op);
  check_channel_vector(running_mean, channels, op, "running_mean");
  check_channel_vector(running_var, channels, op, "running_var");
  forward(op, /*training=*/false, x, weight, bias, running_mean, running_var, p, y);
}

void batch_norm_backward_inference(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormParams& p, Tensor* dx, Tensor* dweight, Tensor* dbias) {
  backward("cpu::batch_norm_backward_inference", /*global_stats=*/true, dy, x, weight, running_mean,
           running_var, p, dx, dweight, dbias);
}

}  // namespace resnet::ops::cpu
