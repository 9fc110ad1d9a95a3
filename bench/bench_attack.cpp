// Adversarial-attack throughput: PGD-20 (L∞, ε = 0.1, no random start) on a batch of Fashion-MNIST-sized
// images (1×28×28) against the CIFAR ResNet-20 of the demo, in attacked images per second (each image costs
// 20 forward + input-gradient passes and one final forward). The side-by-side run with PyTorch is
// `bash bench/run.sh --only attack`.
//
//   bench_attack --benchmark_min_time=5 [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "resnet/core/rng.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/init.h"
#include "resnet/robust/attacks.h"

using namespace resnet;

namespace {

void BM_Pgd20(benchmark::State& state, int64_t batch) {
  auto model = models::cifar_resnet(20, 10, 1);
  Rng rng(1);
  nn::init_torchvision(*model, rng);
  model->eval();
  robust::PixelModel pixels(*model, {0.2860f}, {0.3530f});
  Tensor x = Tensor::empty({batch, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(rng.uniform());
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < batch; ++i) labels.push_back(static_cast<int64_t>(rng.below(10)));
  const robust::AttackOptions options{.attack = robust::Attack::pgd, .eps = 0.1, .steps = 20};
  robust::attack(pixels, x, labels, options);  // warm-up: primitives and first touches
  for (auto _ : state) benchmark::DoNotOptimize(robust::attack(pixels, x, labels, options));
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK_CAPTURE(BM_Pgd20, resnet20_b250_28, 250)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
