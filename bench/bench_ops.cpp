// Op benchmarks of the cpu (oneDNN) backend at ResNet shapes, channels_last, 2 threads.
//
// Convolutions run three ways, side by side, so the wrapper's cost is visible in one process (these VMs
// drift 10-20 % between processes; compare ratios within a run):
//   ours         resnet::ops::cpu::conv2d_* (cache lookup, rebinding, and a weights reorder per call:
//                OIHW -> the primitive's blocked format in forward and backward data, blocked diff_weights
//                -> OIHW in backward weights);
//   bare         a oneDNN primitive created here, same descriptors, weights already in its format;
//   bare+reorder the bare primitive plus the same weights reorder as ours: ours / bare+reorder is the
//                wrapper's own overhead, bare+reorder / bare the price of the reorder.
// Counters are rates: GFLOP/s and % of the machine's 450 GFLOP/s FP32 peak (ANCHORS.md) for compute-bound
// ops; GB/s of compulsory traffic for memory-bound ones.
//
//   bench_ops --benchmark_min_time=0.2 [--benchmark_filter=conv] [--benchmark_format=json]
//   For ratios: --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true (spreads the VM's drift
//   over ours and bare alike).
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "resnet/core/parallel.h"
#include "resnet/core/rng.h"
#include "resnet/ops/backend.h"

using namespace resnet;

namespace {

constexpr double kPeakFlops = 450e9;  // 2 Zen 5 cores x 64 FP32 FLOP/cycle x 3.5 GHz

const ops::OpTable& cpu() {
  return ops::op_table(ops::Backend::cpu);
}

// Fast deterministic fill (the benchmarks need values, not statistics).
void fill(const Tensor& t, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  if (t.dtype() == DType::f32) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      p[i] = lo + (hi - lo) * static_cast<float>(counter_uniform(seed, static_cast<uint64_t>(i)));
  }
}

Tensor random(const Shape& shape, uint64_t seed, Layout layout = Layout::contiguous, float lo = -1.f,
              float hi = 1.f) {
  Tensor t = Tensor::empty(shape, DType::f32, layout);
  fill(t, seed, lo, hi);
  return t;
}

void set_flop_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(flops_per_iteration * 100.0 / kPeakFlops,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

void set_bandwidth_counter(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] =
      benchmark::Counter(bytes_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ============================================================================================ conv

struct ConvShape {
  const char* name;
  int64_t batch, in_channels, out_channels, height, width, kernel, stride, padding;
};

constexpr ConvShape kConvShapes[] = {
    {"cifar_N128_16x32x32_3x3", 128, 16, 16, 32, 32, 3, 1, 1},
    {"cifar_N128_32x16x16_3x3", 128, 32, 32, 16, 16, 3, 1, 1},
    {"cifar_N128_64x8x8_3x3", 128, 64, 64, 8, 8, 3, 1, 1},
    {"r50_N32_256x14x14_3x3", 32, 256, 256, 14, 14, 3, 1, 1},
    {"r50_N8_64to256x56x56_1x1", 8, 64, 256, 56, 56, 1, 1, 0},
    {"r50_N8_stem_3to64x224_7x7s2", 8, 3, 64, 224, 224, 7, 2, 3},
};

// One conv shape's buffers, for our wrapper and for the bare primitives.
struct ConvBench {
  using memory = dnnl::memory;
  using Tag = memory::format_tag;

  ops::Conv2dParams params;
  double flops = 0;  // one pass (fwd, bwd data or bwd weights all cost the same)

  // Ours.
  Tensor x, w, y, dy, dx, dw;

  // Bare oneDNN.
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  memory src, dst, diff_dst, diff_src, user_weights, user_diff_weights;
  memory fwd_weights, bwd_data_weights, diff_weights;  // the primitives' own formats
  dnnl::reorder to_fwd_weights, to_bwd_data_weights, from_diff_weights;
  std::string impl_fwd, impl_bwd_data, impl_bwd_weights;

  explicit ConvBench(const ConvShape& s) {
    params.stride = {s.stride, s.stride};
    params.padding = {s.padding, s.padding};
    const Shape x_shape{s.batch, s.in_channels, s.height, s.width};
    const Shape w_shape{s.out_channels, s.in_channels, s.kernel, s.kernel};
    const Shape y_shape = ops::conv2d_output_shape(x_shape, w_shape, params);
    flops =
        2.0 * static_cast<double>(y_shape.numel()) * static_cast<double>(s.in_channels * s.kernel * s.kernel);

    x = random(x_shape, 1, Layout::channels_last);
    w = random(w_shape, 2, Layout::contiguous, -0.1f, 0.1f);
    y = Tensor::empty(y_shape, DType::f32, Layout::channels_last);
    dy = random(y_shape, 3, Layout::channels_last);
    dx = Tensor::empty(x_shape, DType::f32, Layout::channels_last);
    dw = Tensor::empty(w_shape);

    // The same descriptors as the wrapper: NHWC activations, weights format left to oneDNN.
    const auto dims = [](const Shape& sh) { return memory::dims(sh.begin(), sh.end()); };
    const auto f32 = memory::data_type::f32;
    const memory::desc src_md(dims(x_shape), f32, Tag::nhwc), dst_md(dims(y_shape), f32, Tag::nhwc);
    const memory::desc any_w(dims(w_shape), f32, Tag::any), oihw(dims(w_shape), f32, Tag::oihw);
    const memory::dims strides{s.stride, s.stride}, dil{0, 0}, pad{s.padding, s.padding};
    const dnnl::convolution_forward::primitive_desc fwd_pd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_md, any_w,
         memory::desc(), dst_md, strides, dil, pad, pad},
        engine);
    const dnnl::convolution_backward_data::primitive_desc bwd_data_pd(
        {dnnl::algorithm::convolution_direct, src_md, any_w, dst_md, strides, dil, pad, pad}, engine, fwd_pd);
    const dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd(
        {dnnl::algorithm::convolution_direct, src_md, any_w, dst_md, strides, dil, pad, pad}, engine, fwd_pd);
    fwd = dnnl::convolution_forward(fwd_pd);
    bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
    bwd_weights = dnnl::convolution_backward_weights(bwd_weights_pd);
    impl_fwd = fwd_pd.impl_info_str();
    impl_bwd_data = bwd_data_pd.impl_info_str();
    impl_bwd_weights = bwd_weights_pd.impl_info_str();

    // Bare buffers hold the same values as ours.
    src = memory(src_md, engine, x.raw());
    diff_dst = memory(dst_md, engine, dy.raw());
    dst = memory(dst_md, engine);
    diff_src = memory(src_md, engine);
    user_weights = memory(oihw, engine, w.raw());
    user_diff_weights = memory(oihw, engine);
    fwd_weights = memory(fwd_pd.weights_desc(), engine);
    bwd_data_weights = memory(bwd_data_pd.weights_desc(), engine);
    diff_weights = memory(bwd_weights_pd.diff_weights_desc(), engine);
    to_fwd_weights = dnnl::reorder(user_weights, fwd_weights);
    to_bwd_data_weights = dnnl::reorder(user_weights, bwd_data_weights);
    from_diff_weights = dnnl::reorder(diff_weights, user_diff_weights);
    to_fwd_weights.execute(stream, user_weights, fwd_weights);
    to_bwd_data_weights.execute(stream, user_weights, bwd_data_weights);
  }

  void bare_forward() {
    fwd.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, fwd_weights}, {DNNL_ARG_DST, dst}});
  }
  void bare_backward_data() {
    bwd_data.execute(
        stream,
        {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, bwd_data_weights}, {DNNL_ARG_DIFF_SRC, diff_src}});
  }
  void bare_backward_weights() {
    bwd_weights.execute(
        stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
  }
};

// Built on first use and kept (all shapes together hold ~400 MB), so that
// --benchmark_enable_random_interleaving can alternate ours and bare without rebuilding anything.
ConvBench& conv_bench(const ConvShape& s) {
  static std::unordered_map<const ConvShape*, std::unique_ptr<ConvBench>> benches;
  auto& bench = benches[&s];
  if (!bench) bench = std::make_unique<ConvBench>(s);
  return *bench;
}

enum class Pass { forward, backward_data, backward_weights, training };
enum class Variant { ours, bare, bare_with_reorder };

void run_conv(benchmark::State& state, const ConvShape& s, Pass pass, Variant variant) {
  ConvBench& b = conv_bench(s);
  const bool reorder = variant == Variant::bare_with_reorder;
  const auto forward = [&] {
    if (variant == Variant::ours) return cpu().conv2d_forward(b.x, b.w, nullptr, b.params, b.y);
    if (reorder) b.to_fwd_weights.execute(b.stream, b.user_weights, b.fwd_weights);
    b.bare_forward();
  };
  const auto backward_data = [&] {
    if (variant == Variant::ours)
      return cpu().conv2d_backward(b.dy, b.x, b.w, b.params, &b.dx, nullptr, nullptr);
    if (reorder) b.to_bwd_data_weights.execute(b.stream, b.user_weights, b.bwd_data_weights);
    b.bare_backward_data();
  };
  const auto backward_weights = [&] {
    if (variant == Variant::ours)
      return cpu().conv2d_backward(b.dy, b.x, b.w, b.params, nullptr, &b.dw, nullptr);
    b.bare_backward_weights();
    if (reorder) b.from_diff_weights.execute(b.stream, b.diff_weights, b.user_diff_weights);
  };
  const auto once = [&] {
    switch (pass) {
      case Pass::forward:
        return forward();
      case Pass::backward_data:
        return backward_data();
      case Pass::backward_weights:
        return backward_weights();
      case Pass::training:
        forward();
        backward_data();
        backward_weights();
        return;
    }
  };
  once();  // warm-up: creates our primitives, touches every buffer
  for (auto _ : state) once();
  set_flop_counters(state, b.flops * (pass == Pass::training ? 3.0 : 1.0));
  state.SetLabel(pass == Pass::forward         ? b.impl_fwd
                 : pass == Pass::backward_data ? b.impl_bwd_data
                 : pass == Pass::backward_weights
                     ? b.impl_bwd_weights
                     : b.impl_fwd + "/" + b.impl_bwd_data + "/" + b.impl_bwd_weights);
}

void register_conv_benchmarks() {
  const std::pair<Pass, const char*> passes[] = {{Pass::forward, "fwd"},
                                                 {Pass::backward_data, "bwd_data"},
                                                 {Pass::backward_weights, "bwd_weights"},
                                                 {Pass::training, "fwd+bwd"}};
  const std::pair<Variant, const char*> variants[] = {
      {Variant::ours, "ours"}, {Variant::bare, "bare"}, {Variant::bare_with_reorder, "bare+reorder"}};
  for (const ConvShape& s : kConvShapes)
    for (const auto& [pass, pass_name] : passes)
      for (const auto& [variant, variant_name] : variants) {
        const std::string name = std::string("conv_") + pass_name + "/" + s.name + "/" + variant_name;
        benchmark::RegisterBenchmark(
            name.c_str(),
            [&s, pass = pass, variant = variant](benchmark::State& st) { run_conv(st, s, pass, variant); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
}

// ====================================================================================== other ops

// Registers `body(state)` (which sets up, warms up, loops and sets counters) under `name`.
void add(const std::string& name, std::function<void(benchmark::State&)> body) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(body))->UseRealTime()->Unit(benchmark::kMicrosecond);
}

constexpr double kF = sizeof(float);

void register_other_benchmarks() {
  const Shape cifar{128, 16, 32, 32};  // the first CIFAR stage's activations
  const double act_bytes = static_cast<double>(cifar.numel()) * kF;

  add("batch_norm_train_fwd/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last), w = random({16}, 2), b = random({16}, 3);
    Tensor rm = Tensor::zeros({16}), rv = Tensor::full({16}, 1.0), mean = Tensor::empty({16}),
           var = Tensor::empty({16});
    Tensor y = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    cpu().batch_norm_forward_training(x, &w, &b, rm, rv, {}, y, mean, var);
    for (auto _ : st) cpu().batch_norm_forward_training(x, &w, &b, rm, rv, {}, y, mean, var);
    set_bandwidth_counter(st, 2 * act_bytes);  // read x, write y
  });
  add("batch_norm_train_bwd/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last), dy = random(cifar, 4, Layout::channels_last);
    const Tensor w = random({16}, 2), mean = Tensor::zeros({16}), var = Tensor::full({16}, 0.3);
    Tensor dx = Tensor::empty(cifar, DType::f32, Layout::channels_last), dw = Tensor::empty({16}),
           db = Tensor::empty({16});
    cpu().batch_norm_backward_training(dy, x, &w, mean, var, {}, &dx, &dw, &db);
    for (auto _ : st) cpu().batch_norm_backward_training(dy, x, &w, mean, var, {}, &dx, &dw, &db);
    set_bandwidth_counter(st, 3 * act_bytes);  // read x and dy, write dx
  });
  add("batch_norm_eval_fwd/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last), w = random({16}, 2), b = random({16}, 3);
    const Tensor rm = Tensor::zeros({16}), rv = Tensor::full({16}, 1.0);
    Tensor y = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    cpu().batch_norm_forward_inference(x, &w, &b, rm, rv, {}, y);
    for (auto _ : st) cpu().batch_norm_forward_inference(x, &w, &b, rm, rv, {}, y);
    set_bandwidth_counter(st, 2 * act_bytes);
  });
  add("relu_fwd/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last);
    Tensor y = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    cpu().relu_forward(x, y);
    for (auto _ : st) cpu().relu_forward(x, y);
    set_bandwidth_counter(st, 2 * act_bytes);
  });
  add("relu_bwd/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor y = random(cifar, 1, Layout::channels_last), dy = random(cifar, 2, Layout::channels_last);
    Tensor dx = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    cpu().relu_backward(dy, y, dx);
    for (auto _ : st) cpu().relu_backward(dy, y, dx);
    set_bandwidth_counter(st, 3 * act_bytes);
  });
  add("add_fwd_inplace/cifar_N128_16x32x32", [=](benchmark::State& st) {
    const Tensor a = random(cifar, 1, Layout::channels_last);
    Tensor y = random(cifar, 2, Layout::channels_last);
    cpu().add_forward(a, y, y);
    for (auto _ : st) cpu().add_forward(a, y, y);
    set_bandwidth_counter(st, 3 * act_bytes);
  });
  add("shortcut_a_fwd/cifar_N128_16x32x32_to_32x16x16", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last);
    const Shape ys = ops::shortcut_a_output_shape(cifar, 32, 2);
    Tensor y = Tensor::empty(ys, DType::f32, Layout::channels_last);
    cpu().shortcut_a_forward(x, 2, y);
    for (auto _ : st) cpu().shortcut_a_forward(x, 2, y);
    set_bandwidth_counter(st, static_cast<double>(x.numel() / 4 + ys.numel()) * kF);
  });
  add("shortcut_a_bwd/cifar_N128_16x32x32_to_32x16x16", [=](benchmark::State& st) {
    const Shape ys = ops::shortcut_a_output_shape(cifar, 32, 2);
    const Tensor dy = random(ys, 1, Layout::channels_last);
    Tensor dx = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    cpu().shortcut_a_backward(dy, 2, dx);
    for (auto _ : st) cpu().shortcut_a_backward(dy, 2, dx);
    set_bandwidth_counter(st, static_cast<double>(ys.numel() / 2 + cifar.numel()) * kF);
  });

  // ResNet-50's stem pool: N8, 64 x 112² -> 56², k3 s2 p1.
  const Shape stem{8, 64, 112, 112};
  const ops::Pool2dParams pool{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
  add("max_pool_fwd/r50_N8_64x112x112_k3s2", [=](benchmark::State& st) {
    const Tensor x = random(stem, 1, Layout::channels_last);
    Tensor y = Tensor::empty(ops::pool2d_output_shape(stem, pool), DType::f32, Layout::channels_last), ws;
    cpu().max_pool2d_forward(x, pool, y, ws);
    for (auto _ : st) cpu().max_pool2d_forward(x, pool, y, ws);
    set_bandwidth_counter(st,
                          static_cast<double>(x.numel() + y.numel()) * kF + static_cast<double>(ws.nbytes()));
  });
  add("max_pool_bwd/r50_N8_64x112x112_k3s2", [=](benchmark::State& st) {
    const Tensor x = random(stem, 1, Layout::channels_last);
    const Shape ys = ops::pool2d_output_shape(stem, pool);
    Tensor y = Tensor::empty(ys, DType::f32, Layout::channels_last), ws;
    cpu().max_pool2d_forward(x, pool, y, ws);
    const Tensor dy = random(ys, 2, Layout::channels_last);
    Tensor dx = Tensor::empty(stem, DType::f32, Layout::channels_last);
    cpu().max_pool2d_backward(dy, ws, pool, dx);
    for (auto _ : st) cpu().max_pool2d_backward(dy, ws, pool, dx);
    set_bandwidth_counter(
        st, static_cast<double>(dx.numel() + dy.numel()) * kF + static_cast<double>(ws.nbytes()));
  });

  // ResNet-50's head: global pool of N32 x 2048 x 7², then fc 2048 -> 1000.
  const Shape head{32, 2048, 7, 7};
  add("global_avg_pool_fwd/r50_N32_2048x7x7", [=](benchmark::State& st) {
    const Tensor x = random(head, 1, Layout::channels_last);
    Tensor y = Tensor::empty({32, 2048});
    cpu().global_avg_pool_forward(x, y);
    for (auto _ : st) cpu().global_avg_pool_forward(x, y);
    set_bandwidth_counter(st, static_cast<double>(x.numel() + y.numel()) * kF);
  });
  add("global_avg_pool_bwd/r50_N32_2048x7x7", [=](benchmark::State& st) {
    const Tensor dy = random({32, 2048}, 1);
    Tensor dx = Tensor::empty(head, DType::f32, Layout::channels_last);
    cpu().global_avg_pool_backward(dy, dx);
    for (auto _ : st) cpu().global_avg_pool_backward(dy, dx);
    set_bandwidth_counter(st, static_cast<double>(dx.numel() + dy.numel()) * kF);
  });
  const double fc_flops = 2.0 * 32 * 2048 * 1000;
  add("linear_fwd/r50_N32_2048to1000", [=](benchmark::State& st) {
    const Tensor x = random({32, 2048}, 1), w = random({1000, 2048}, 2), b = random({1000}, 3);
    Tensor y = Tensor::empty({32, 1000});
    cpu().linear_forward(x, w, &b, y);
    for (auto _ : st) cpu().linear_forward(x, w, &b, y);
    set_flop_counters(st, fc_flops);
  });
  add("linear_bwd/r50_N32_2048to1000", [=](benchmark::State& st) {
    const Tensor x = random({32, 2048}, 1), w = random({1000, 2048}, 2), dy = random({32, 1000}, 3);
    Tensor dx = Tensor::empty({32, 2048}), dw = Tensor::empty({1000, 2048}), db = Tensor::empty({1000});
    cpu().linear_backward(dy, x, w, &dx, &dw, &db);
    for (auto _ : st) cpu().linear_backward(dy, x, w, &dx, &dw, &db);
    set_flop_counters(st, 2 * fc_flops);  // bwd data + bwd weights
  });
  add("flatten_fwd/r50_N32_2048x7x7", [=](benchmark::State& st) {
    const Tensor x = random(head, 1, Layout::channels_last);
    Tensor y = Tensor::empty({32, 2048 * 49});
    cpu().flatten_forward(x, y);
    for (auto _ : st) cpu().flatten_forward(x, y);
    set_bandwidth_counter(st, 2.0 * static_cast<double>(x.numel()) * kF);
  });

  for (const auto& [rows, classes] : {std::pair<int64_t, int64_t>{128, 10}, {32, 1000}}) {
    const std::string shape = "N" + std::to_string(rows) + "_K" + std::to_string(classes);
    const auto targets = [rows, classes] {
      Tensor t = Tensor::empty({rows}, DType::i64);
      for (int64_t i = 0; i < rows; ++i) t.data<int64_t>()[i] = (7 * i + 3) % classes;
      return t;
    };
    add("cross_entropy_fwd/" + shape, [=](benchmark::State& st) {
      const Tensor logits = random({rows, classes}, 1, Layout::contiguous, -4, 4), t = targets();
      const ops::CrossEntropyParams p{.label_smoothing = 0.1};
      double loss = 0;
      for (auto _ : st) benchmark::DoNotOptimize(loss = cpu().softmax_cross_entropy_forward(logits, t, p));
      set_bandwidth_counter(st, static_cast<double>(logits.numel()) * kF);
    });
    add("cross_entropy_bwd/" + shape, [=](benchmark::State& st) {
      const Tensor logits = random({rows, classes}, 1, Layout::contiguous, -4, 4), t = targets();
      const ops::CrossEntropyParams p{.label_smoothing = 0.1};
      Tensor d = Tensor::empty({rows, classes});
      for (auto _ : st) cpu().softmax_cross_entropy_backward(logits, t, p, 1.0, d);
      set_bandwidth_counter(st, 2.0 * static_cast<double>(logits.numel()) * kF);
    });
  }

  add("dropout_fwd/cifar_N128_16x32x32_p0.2", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last);
    Tensor y = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    Tensor mask = Tensor::empty(cifar, DType::u8, Layout::channels_last);
    uint64_t seed = 0;
    for (auto _ : st) cpu().dropout_forward(x, 0.2, ++seed, y, mask);
    set_bandwidth_counter(st, 2 * act_bytes + static_cast<double>(cifar.numel()));
  });
  add("dropout_bwd/cifar_N128_16x32x32_p0.2", [=](benchmark::State& st) {
    const Tensor x = random(cifar, 1, Layout::channels_last);
    Tensor y = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    Tensor mask = Tensor::empty(cifar, DType::u8, Layout::channels_last);
    cpu().dropout_forward(x, 0.2, 1, y, mask);
    Tensor dx = Tensor::empty(cifar, DType::f32, Layout::channels_last);
    for (auto _ : st) cpu().dropout_backward(y, mask, 0.2, dx);
    set_bandwidth_counter(st, 2 * act_bytes + static_cast<double>(cifar.numel()));
  });
}

}  // namespace

int main(int argc, char** argv) {
  set_num_threads(2);  // the anchor machine's two cores; OMP_NUM_THREADS cannot override it here
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_conv_benchmarks();
  register_other_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
