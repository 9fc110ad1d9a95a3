// Inference throughput and latency of the engine (BN folded, ReLU and residual sums fused, one layout),
// fp32, bf16 and int8, and — for comparison — of the module network in eval mode. The side-by-side run with
// ONNX Runtime and PyTorch is bench/run.sh.
//
//   bench_infer --benchmark_filter='Engine/resnet50_b32_fp32' --benchmark_min_time=5
//   [--benchmark_format=json]
// Counters: img/s (the time per batch is the benchmark's own real_time), and the process's peak resident
// memory (MiB) so far.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "resnet/core/rng.h"
#include "resnet/infer/engine.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"

using namespace resnet;

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::unique_ptr<nn::Module> trained_like(const char* name, Rng& rng) {
  auto model = models::create_model(name);
  nn::init_torchvision(*model, rng);
  model->eval();
  return model;
}

Tensor random_images(int64_t batch, int64_t size, Rng& rng) {
  Tensor x = Tensor::empty({batch, 3, size, size});
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>(rng.normal());
  return x;
}

void report(benchmark::State& state, int64_t batch) {
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_mib"] = peak_rss_mib();
}

void BM_Engine(benchmark::State& state, const char* name, int64_t batch, int64_t size,
               infer::Precision precision) {
  if (!infer::precision_supported(precision)) {
    state.SkipWithError("this CPU has no kernels for this precision (bf16 needs AVX-512)");
    return;
  }
  Rng rng(1);
  auto model = trained_like(name, rng);
  auto& resnet = dynamic_cast<models::ResNet&>(*model);
  const Shape shape{batch, 3, size, size};
  const Tensor x = random_images(batch, size, rng);
  // int8 calibrates on the benchmark's own images (the ranges matter for accuracy, not for speed).
  infer::Calibration calibration;
  if (precision == infer::Precision::int8) infer::Engine(resnet, shape).observe(x, calibration);
  infer::Engine engine(resnet, shape, precision, &calibration);
  for (int i = 0; i < 3; ++i) engine.run(x);  // first touch of every buffer stays outside the timing
  for (auto _ : state) benchmark::DoNotOptimize(engine.run(x).raw());
  report(state, batch);
}

void BM_Modules(benchmark::State& state, const char* name, int64_t batch, int64_t size) {
  Rng rng(1);
  auto model = trained_like(name, rng);
  const Tensor x = random_images(batch, size, rng);
  for (int i = 0; i < 3; ++i) model->forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x).raw());
  report(state, batch);
}

#define RESNET_ENGINE_BENCH(model, batch, precision)                               \
  BENCHMARK_CAPTURE(BM_Engine, model##_b##batch##_##precision, #model, batch, 224, \
                    infer::Precision::precision)                                   \
      ->Unit(benchmark::kMillisecond)                                              \
      ->UseRealTime();

RESNET_ENGINE_BENCH(resnet18, 1, f32)
RESNET_ENGINE_BENCH(resnet18, 32, f32)
RESNET_ENGINE_BENCH(resnet50, 1, f32)
RESNET_ENGINE_BENCH(resnet50, 32, f32)
RESNET_ENGINE_BENCH(resnet18, 1, bf16)
RESNET_ENGINE_BENCH(resnet18, 32, bf16)
RESNET_ENGINE_BENCH(resnet50, 1, bf16)
RESNET_ENGINE_BENCH(resnet50, 32, bf16)
RESNET_ENGINE_BENCH(resnet18, 1, int8)
RESNET_ENGINE_BENCH(resnet18, 32, int8)
RESNET_ENGINE_BENCH(resnet50, 1, int8)
RESNET_ENGINE_BENCH(resnet50, 32, int8)
BENCHMARK_CAPTURE(BM_Modules, resnet50_b32, "resnet50", 32, 224)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
