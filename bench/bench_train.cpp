// Whole-network training throughput: one SGD-momentum step (forward, loss, backward, update) of a zoo
// model on random data, in images per second; fp32, and mixed precision (*_bf16: convolutions in bf16,
// f32 master weights, the cpu-bf16 op table). The side-by-side run with PyTorch is bench/run.sh.
//
//   bench_train --benchmark_filter=resnet20 --benchmark_min_time=3 [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "resnet/core/rng.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"

using namespace resnet;

namespace {

void BM_TrainStep(benchmark::State& state, const char* name, int64_t batch, int64_t size,
                  ops::Backend backend) {
  if (backend == ops::Backend::cpu_bf16 && !ops::bf16_supported()) {
    state.SkipWithError("bf16 training needs AVX-512, which this CPU lacks");
    return;
  }
  auto model = models::create_model(name);
  model->set_backend(backend);
  model->set_input_gradient(false);
  Rng rng(1);
  nn::init_torchvision(*model, rng);
  std::vector<nn::Parameter*> params;
  for (auto& [n, p] : model->named_parameters()) params.push_back(p);
  optim::Sgd sgd(params, {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
  nn::CrossEntropyLoss loss;
  loss.set_backend(backend);
  Tensor x = Tensor::empty({batch, 3, size, size});
  float* px = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) px[i] = static_cast<float>(rng.normal());
  const int64_t classes = model->spec().num_classes;
  Tensor t = Tensor::empty({batch}, DType::i64);
  for (int64_t i = 0; i < batch; ++i) t.data<int64_t>()[i] = static_cast<int64_t>(rng.below(classes));
  model->train();
  auto step = [&] {
    model->zero_grad();
    loss.forward(model->forward(x), t);
    model->backward(loss.backward());
    sgd.step();
  };
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
