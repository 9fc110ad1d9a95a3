// Where an inference engine's time goes: each primitive's median time over a few runs, with what it
// computes and the oneDNN implementation, slowest first, then the total.
//
//   build/profile_engine resnet50 32 fp32     (model from the zoo, batch, fp32|bf16|int8; 224×224 images;
//                                              int8 calibrates on the profiled images, as bench_infer does)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/infer/engine.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"

using namespace resnet;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL BATCH fp32|bf16|int8   (e.g. resnet50 32 fp32)\n", argv[0]);
    return 2;
  }
  try {
    const int64_t batch = std::atoll(argv[2]);
    Rng rng(1);
    auto model = models::create_model(argv[1]);
    nn::init_torchvision(*model, rng);
    model->eval();
    auto* resnet = dynamic_cast<models::ResNet*>(model.get());
    RESNET_CHECK(resnet) << argv[1] << " is not a ResNet";
    const Shape input{batch, resnet->spec().in_channels, 224, 224};
    const Tensor x = Tensor::empty(input);
    for (int64_t i = 0; i < x.numel(); ++i) x.set_flat(i, rng.uniform(-2.0, 2.0));
    const infer::Precision precision = infer::parse_precision(argv[3]);
    // int8 needs activation ranges; the profiled images give them (they matter for accuracy, not speed).
    infer::Calibration calibration;
    if (precision == infer::Precision::int8) infer::Engine(*resnet, input).observe(x, calibration);
    infer::Engine engine(*resnet, input, precision, &calibration);
    const std::vector<double> ms = engine.profile(x, 5);
    std::istringstream lines(engine.describe());
    std::vector<std::pair<double, std::string>> steps;
    for (double t : ms) {
      std::string line;
      std::getline(lines, line);
      steps.emplace_back(t, line);
    }
    std::sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    double total = 0;
    for (const auto& [t, line] : steps) {
      std::printf("%9.2f ms  %s\n", t, line.c_str());
      total += t;
    }
    std::printf("%9.2f ms  total (%zu primitives, %lld reorders)\n", total, steps.size(),
                static_cast<long long>(engine.reorders()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
