// Where a training step's time goes: the step split into forward, loss, backward and optimiser, and (with
// ONEDNN_VERBOSE=1 in the environment, as bench/profile_train.py sets it) one oneDNN verbose line per
// primitive executed during the measured steps, which profile_train.py sums by primitive kind. What is
// not inside a oneDNN primitive is ours: the loops of the SGD update, option-A shortcuts, the loss.
//
//   build/profile_train resnet20 128 32 fp32 [STEPS]     (model, batch, image size, fp32|bf16)
//   /usr/bin/python3 bench/profile_train.py resnet20 128 32 fp32
#include <sys/resource.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "resnet/core/memory.h"
#include "training_step.h"

using namespace resnet;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fprintf(stderr, "usage: %s MODEL BATCH SIZE fp32|bf16 [STEPS]   (e.g. resnet20 128 32 fp32)\n",
                 argv[0]);
    return 2;
  }
  try {
    const std::string name = argv[1], precision = argv[4];
    const int64_t batch = std::atoll(argv[2]), size = std::atoll(argv[3]);
    const int steps = argc == 6 ? std::atoi(argv[5]) : 10;
    if (precision != "fp32" && precision != "bf16") throw UserError("precision must be fp32 or bf16");
    const ops::Backend backend = precision == "bf16" ? ops::Backend::cpu_bf16 : ops::Backend::cpu;

    bench::TrainingStep training(name, batch, size, backend);
    nn::Module& model = *training.model;
    double phase[4] = {0, 0, 0, 0};
    // Tensor memory held (MiB) before the first step, after its forward and after its backward: what the
    // forward keeps for the backward, and what the backward's gradient buffers add (each module keeps its
    // own, reused every step).
    const auto mib = [] { return static_cast<double>(memory_stats().bytes_in_use) / (1 << 20); };
    double held[3] = {mib(), 0, 0};
    bool first = true;
    auto step = [&](bool timed) {
      PlannedStep planned(training.memory);
      auto t0 = Clock::now();
      model.zero_grad();
      const Tensor& logits = model.forward(training.images);
      if (first) held[1] = mib();
      if (timed) phase[0] += ms_since(t0);
      t0 = Clock::now();
      training.loss.forward(logits, training.labels);
      const Tensor& dlogits = training.loss.backward();
      if (timed) phase[1] += ms_since(t0);
      t0 = Clock::now();
      model.backward(dlogits);
      if (first) held[2] = mib();
      first = false;
      if (timed) phase[2] += ms_since(t0);
      t0 = Clock::now();
      training.sgd->step();
      if (timed) phase[3] += ms_since(t0);
    };
    // Warm-up with verbose output off: primitive creation and first touches are not the steady state.
    const int verbose = std::getenv("ONEDNN_VERBOSE") ? std::atoi(std::getenv("ONEDNN_VERBOSE")) : 0;
    dnnl::set_verbose(0);
    for (int i = 0; i < 3; ++i) step(false);
    std::fflush(stdout);
    dnnl::set_verbose(verbose);
    std::printf("profile_train,begin\n");
    const auto start = Clock::now();
    std::vector<double> step_ms;  // each step's wall time: shows whether steps slow down as they go
    step_ms.reserve(static_cast<size_t>(steps));  // no allocation between the measured steps
    for (int i = 0; i < steps; ++i) {
      const auto t = Clock::now();
      step(true);
      step_ms.push_back(ms_since(t));
    }
    const double total = ms_since(start);
    dnnl::set_verbose(0);
    std::printf("profile_train,end\n");
    std::printf("profile_train,steps,%d\n", steps);
    for (size_t i = 0; i < step_ms.size(); ++i) std::printf("profile_train_step,%zu,%.3f\n", i, step_ms[i]);
    std::printf("profile_train,total_ms,%.3f\n", total);
    const char* names[4] = {"forward", "loss", "backward", "sgd"};
    for (int i = 0; i < 4; ++i) std::printf("profile_train,phase,%s,%.3f\n", names[i], phase[i]);
    std::printf("profile_train,img_per_s,%.1f\n", 1e3 * static_cast<double>(batch * steps) / total);
    std::printf(
        "profile_train,mib_before,%.1f\nprofile_train,mib_after_forward,%.1f\n"
        "profile_train,mib_after_backward,%.1f\n",
        held[0], held[1], held[2]);
    std::printf("profile_train,mib_peak,%.1f\n",
                static_cast<double>(memory_stats().peak_bytes_in_use) / (1 << 20));
    // Freed blocks the pool keeps for reuse: resident, but in no tensor.
    std::printf("profile_train,mib_cached,%.1f\n",
                static_cast<double>(memory_stats().bytes_cached) / (1 << 20));
    const MemoryPlanStats plan = training.memory.stats();
    std::printf(
        "profile_train,plan_arena_mib,%.1f\nprofile_train,plan_lower_bound_mib,%.1f\n"
        "profile_train,plan_slots,%zu\nprofile_train,plan_replayed_steps,%lld\n",
        static_cast<double>(plan.arena_bytes) / (1 << 20),
        static_cast<double>(plan.peak_live_bytes) / (1 << 20), plan.planned_buffers,
        static_cast<long long>(plan.replayed_steps));
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("profile_train,peak_rss_mib,%.1f\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile_train: %s\n", e.what());
    return 2;
  }
}
