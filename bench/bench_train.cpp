// Whole-network training throughput: one SGD-momentum step (forward, loss, backward, update) of a zoo
// model on random data, in images per second; fp32, and mixed precision (*_bf16: convolutions in bf16,
// f32 master weights, the cpu-bf16 op table). The side-by-side run with PyTorch is bench/run.sh.
//
//   bench_train --benchmark_filter=resnet20 --benchmark_min_time=3 [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "training_step.h"

using namespace resnet;

namespace {

void BM_TrainStep(benchmark::State& state, const char* name, int64_t batch, int64_t size,
                  ops::Backend backend) {
  if (backend == ops::Backend::cpu_bf16 && !ops::bf16_supported()) {
    state.SkipWithError("bf16 training needs AVX-512, which this CPU lacks");
    return;
  }
  bench::TrainingStep training(name, batch, size, backend);
  auto step = [&] { training.run(); };
  // Warm-up outside the timing: primitive creation and the first touch of every buffer (page faults cost
  // ~10 µs per 4 KiB page here) belong to the first steps only.
  for (int i = 0; i < 2; ++i) step();
  for (auto _ : state) step();
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is KiB
}
BENCHMARK_CAPTURE(BM_TrainStep, resnet20_b128_32, "resnet20", 128, 32, ops::Backend::cpu)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, resnet20_b128_32_bf16, "resnet20", 128, 32, ops::Backend::cpu_bf16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, resnet56_b128_32, "resnet56", 128, 32, ops::Backend::cpu)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, resnet56_b128_32_bf16, "resnet56", 128, 32, ops::Backend::cpu_bf16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, resnet50_b16_224, "resnet50", 16, 224, ops::Backend::cpu)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, resnet50_b16_224_bf16, "resnet50", 16, 224, ops::Backend::cpu_bf16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
