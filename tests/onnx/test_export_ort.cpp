// The proof that an exported file is right: ONNX Runtime (npm onnxruntime-node, an independent
// implementation) runs it and must reproduce resnet.cpp's logits, at batch sizes 1 and 7 (the batch
// dimension is dynamic), for zoo nets of every block and shortcut kind, with and without --fold-bn.
// Models are exported through the CLI (`resnet export --checkpoint W --model M`) where they are zoo names.
//
// Needs node + npm + onnxruntime-node: tests/onnx/ort_env.sh installs them (apt, npm) into the build
// directory. If that fails the test FAILS (it is never skipped silently).
//
// Tolerance 1e-4 of the largest |logit|: two f32 implementations with different summation orders and
// (folded) weights rounded at different points; measured errors are printed (~1e-6).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "onnx_test_util.h"
#include "pruned_specs.h"
#include "resnet/io/safetensors.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/export.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

void write_raw(const fs::path& path, const Tensor& t) {
  const Tensor c = t.clone(Layout::contiguous);
  std::ofstream(path, std::ios::binary)
      .write(static_cast<const char*>(c.raw()), static_cast<std::streamsize>(c.nbytes()));
}

struct OrtCase {
  std::string label, model;
  models::ResNetSpec spec;  // when model is empty: exported through the API
  int64_t size;
};

TEST(OnnxRuntime, ExportedModelsMatchOurLogits) {
  models::ResNetSpec preact_bottleneck;
  preact_bottleneck.block = models::BlockKind::preact_bottleneck;
  preact_bottleneck.blocks_per_stage = {2, 2, 2};
  preact_bottleneck.widths = {16, 32, 64};
  preact_bottleneck.shortcut = nn::ShortcutKind::B;
  const std::vector<OrtCase> cases = {
      {"resnet20", "resnet20", {}, 32},
      {"plain20", "plain20", {}, 32},
      {"resnet18", "resnet18", {}, 64},
      {"resnet50", "resnet50", {}, 64},
      {"preact_resnet18", "preact_resnet18", {}, 32},
      {"wrn_16_4", "wrn_16_4", {}, 32},
      {"preact_bottleneck_20", "", preact_bottleneck, 32},
      // One coupling group pruned by editing conv_widths (models/architecture.h).
      {"resnet18_pruned", "", pruned_spec("resnet18", "layer2.0.conv2", 96), 64},
      {"resnet50_pruned", "", pruned_spec("resnet50", "layer1.0.conv3", 200), 64},
      {"resnet20_pruned", "", pruned_spec("resnet20", "conv1", 12), 32},
  };
  const fs::path dir = fresh_dir("ort");
  nlohmann::json manifest = nlohmann::json::array();
  for (const auto& c : cases) {
    auto model = c.model.empty() ? filled_model(c.spec) : filled_model(c.model, 10);
    const std::string weights = (dir / (c.label + ".safetensors")).string();
    if (!c.model.empty()) io::save_safetensors(weights, nn::state_dict(*model));
    for (bool fold : {false, true}) {
      const std::string onnx = (dir / (c.label + (fold ? "_folded" : "") + ".onnx")).string();
      if (c.model.empty()) {
        onnx::export_onnx(*model, onnx, {.fold_bn = fold});
      } else {
        const auto out = run_cli("export --checkpoint " + weights + " --model " + c.model +
                                 " --classes 10 --onnx " + onnx + (fold ? " --fold-bn" : ""));
        ASSERT_EQ(out.status, 0) << out.text;
      }
      for (int64_t batch : {1, 7}) {
        const Tensor x = fill_input({batch, 3, c.size, c.size}, 0.1 * static_cast<double>(batch));
        const std::string stem = (dir / (c.label + "_b" + std::to_string(batch))).string();
        write_raw(stem + ".input", x);
        write_raw(stem + ".expected", logits_of(*model, x));
        manifest.push_back({{"onnx", onnx},
                            {"input", stem + ".input"},
                            {"expected", stem + ".expected"},
                            {"shape", {batch, 3, c.size, c.size}}});
      }
    }
  }
  std::ofstream(dir / "manifest.json") << manifest.dump();

  const std::string src = RESNET_SOURCE_DIR;
  const auto env = run_command("bash " + src + "/tests/onnx/ort_env.sh " + RESNET_ORT_DIR);
  ASSERT_EQ(env.status, 0) << "could not provide ONNX Runtime (node + npm onnxruntime-node):\n" << env.text;
  // Node resolves modules next to the script, so point it at the installed ones.
  const auto run = run_command("NODE_PATH=" + std::string(RESNET_ORT_DIR) + "/node_modules node " + src +
                               "/tests/onnx/ort_compare.js " + (dir / "manifest.json").string());
  ASSERT_EQ(run.status, 0) << run.text;
  std::istringstream lines(run.text);
  size_t checked = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto r = nlohmann::json::parse(line);
    const double err =
        r.at("max_abs_diff").get<double>() / std::max(r.at("max_abs_expected").get<double>(), 1e-30);
    const std::string name = fs::path(r.at("onnx").get<std::string>()).filename().string();
    EXPECT_LE(err, 1e-4) << name << " batch " << r.at("batch");
    EXPECT_EQ(r.at("shape")[0], r.at("batch")) << name;
    std::printf("[ onnxruntime ] %-32s batch %d: max |diff| / max |logit| = %.2e (max |logit| %.3g)\n",
                name.c_str(), r.at("batch").get<int>(), err, r.at("max_abs_expected").get<double>());
    ++checked;
  }
  EXPECT_EQ(checked, manifest.size()) << "ONNX Runtime did not report every case:\n" << run.text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
