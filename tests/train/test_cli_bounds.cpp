// Issue 29, "nothing crashes, nothing is lost": the CLI refuses what would exhaust memory up front, with
// the estimate, and refuses unhealthy numbers by name — each case as a user meets it.
//
// Every command runs under `ulimit -v` (8 GB of address space), so a regression ends in bad_alloc and a
// failed test, never in the machine's OOM killer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

#include "card_util.h"
#include "cli_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/nn/state_dict.h"
#include "resnet/train/checkpoint.h"

namespace resnet::testing {
namespace {

namespace fs = std::filesystem;

// `env` (assignments, may be empty) and `args` for the tool, under an 8 GB address-space limit — except
// in the sanitised build, whose AddressSanitizer reserves ~15 TB of shadow memory at start-up.
#ifdef __SANITIZE_ADDRESS__
constexpr const char* kAddressSpaceLimit = "";
#else
constexpr const char* kAddressSpaceLimit = "ulimit -v 8000000; ";
#endif
CliOutput run_bounded(const std::string& env, const std::string& args) {
  return run_cli_env(kAddressSpaceLimit + env, args);
}

bool has(const CliOutput& out, const std::string& text) {
  return out.text.find(text) != std::string::npos;
}

// A resnet20 for Fashion-MNIST (untrained), written as a checkpoint with `card`; `damage` may change a
// weight before it is saved.
std::string write_checkpoint(const fs::path& path, const nlohmann::json& card,
                             const std::function<void(models::ResNet&)>& damage = {}) {
  auto model = models::create_model("resnet20", 10, 1);
  Rng rng(3);
  nn::init_torchvision(*model, rng);
  if (damage) damage(*model);
  // Written as the file holds it, not through save_checkpoint: the cards here are meant to be damaged.
  io::save_safetensors(path.string(), nn::state_dict(*model),
                       {{"format", models::kCheckpointFormat}, {"info", card.dump()}});
  return path.string();
}

void set_value(models::ResNet& model, const std::string& name, int64_t flat, double value) {
  for (auto& [n, t] : nn::state_dict(model))
    if (n == name) t.set_flat(flat, value);
}

class CliBounds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("bounds");
    good_ = write_checkpoint(dir_ / "good.safetensors", fashion_card());
  }
  static fs::path dir_;
  static std::string good_;
};
fs::path CliBounds::dir_;
std::string CliBounds::good_;

TEST_F(CliBounds, TrainingAWidthBeyondTheMachineIsRefusedWithTheEstimate) {
  const auto out = run_bounded("",
                               "train --model resnet20 --dataset fashion-mnist --set data.train_limit=256 "
                               "--set data.test_limit=256 --epochs 1 --set model.width_multiplier=1000 "
                               "--dir " +
                                   (dir_ / "runs").string() + " --name wide");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out,
                  "G parameters, stage widths [16000, 32000, 64000]) on batches "
                  "of 128 1×28×28 images needs"))
      << out.text;
  EXPECT_TRUE(has(out, " TB, this machine has ")) << out.text;
  EXPECT_TRUE(has(out, "lower model.width_multiplier")) << out.text;
  EXPECT_FALSE(has(out, "bad_alloc")) << out.text;
}

TEST_F(CliBounds, TrainingLoaderBuffersBeyondTheMachineAreRefusedWithTheEstimate) {
  // 1024 batches of the whole training set decoded ahead: 193 GB before a single step.
  const auto out = run_bounded("",
                               "train --model resnet20 --dataset fashion-mnist --set data.prefetch=1024 "
                               "--batch-size 60000 --epochs 1 --dir " +
                                   (dir_ / "runs").string() + " --name prefetch");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "loading 1024 batches of 60000 1×28×28 images of")) << out.text;
  EXPECT_TRUE(has(out, "needs 193 GB, this machine has")) << out.text;
  EXPECT_TRUE(has(out, "data.prefetch")) << out.text;
}

TEST_F(CliBounds, EvalTakesABatchSizeOf1e9AndClampsItToTheDataSet) {
  const auto out = run_bounded("", "eval --checkpoint " + good_ + " --batch-size 1e9 --limit 64");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(has(out, "(64 images)")) << out.text;
  const auto bad = run_bounded("", "eval --checkpoint " + good_ + " --batch-size 2.5 --limit 64");
  EXPECT_EQ(bad.status, 2) << bad.text;
  EXPECT_TRUE(has(bad, "--batch-size '2.5' is not a whole number of at least 1")) << bad.text;
}

TEST_F(CliBounds, EvalRefusesABatchBeyondTheMachineWithTheEstimate) {
  // The whole test set (10,000 images) in one batch on a 64 MiB machine.
  const auto out = run_bounded("RESNET_MEMORY_LIMIT=64M", "eval --checkpoint " + good_ + " --batch-size 1e9");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "batches of 10000 1×28×28 images")) << out.text;
  EXPECT_TRUE(has(out, "needs 125 MB, this machine has 67.1 MB (RESNET_MEMORY_LIMIT): lower --batch-size"))
      << out.text;
}

TEST_F(CliBounds, PredictChecksAnIndexRangeBeforeExpandingIt) {
  const auto out = run_bounded("", "predict --checkpoint " + good_ + " --index 0-999999999");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "--index 0-999999999 goes past the 10000 images of")) << out.text;
  EXPECT_TRUE(has(out, "valid indices are 0-9999")) << out.text;
  const auto ok = run_bounded("", "predict --checkpoint " + good_ + " --index 9998-9999");
  EXPECT_EQ(ok.status, 0) << ok.text;
  EXPECT_TRUE(has(ok, "test image 9999:")) << ok.text;
}

TEST_F(CliBounds, AModelCardAskingForAHugeInputIsRefusedOnReading) {
  auto card = fashion_card();
  card["input_size"] = {1, 100000, 100000};
  const std::string path = write_checkpoint(dir_ / "huge_input.safetensors", card);
  for (const std::string command : {"eval --limit 8", "predict --index 0"}) {
    const auto out = run_bounded("", command + " --checkpoint " + path);
    EXPECT_EQ(out.status, 2) << out.text;
    EXPECT_TRUE(has(out, "checkpoint '" + path +
                             "': its model card (the 'info' metadata) holds 100000 (not an "
                             "integer from 1 to 16384) in 'input_size'"))
        << out.text;
  }
}

TEST_F(CliBounds, AModelCardWithoutNumClassesNamesTheKeyAndTheFile) {
  auto card = fashion_card();
  card.erase("num_classes");
  const std::string path = write_checkpoint(dir_ / "no_classes.safetensors", card);
  for (const std::string command : {"eval --limit 8", "predict --index 0", "export --onnx /dev/null"}) {
    const auto out = run_bounded("", command + " --checkpoint " + path);
    EXPECT_EQ(out.status, 2) << out.text;
    EXPECT_TRUE(has(out, "checkpoint '" + path +
                             "': its model card (the 'info' metadata) lacks the key "
                             "'num_classes'"))
        << out.text;
    EXPECT_FALSE(has(out, "json.exception")) << out.text;
  }
}

TEST_F(CliBounds, ACardHoldingOnlyTheNetworkExportsButDoesNotEvaluate) {
  const nlohmann::json card = {{"model", "resnet20"}, {"num_classes", 10}, {"in_channels", 1}};
  const std::string path = write_checkpoint(dir_ / "bare_card.safetensors", card);
  const auto exported =
      run_bounded("", "export --checkpoint " + path + " --onnx " + (dir_ / "bare.onnx").string());
  EXPECT_EQ(exported.status, 0) << exported.text;
  for (const std::string command : {"eval --dataset fashion-mnist --limit 8", "predict --index 0"}) {
    const auto out = run_bounded("", command + " --checkpoint " + path);
    EXPECT_EQ(out.status, 2) << out.text;
    EXPECT_TRUE(has(out, "checkpoint '" + path +
                             "': its model card (the 'info' metadata) lacks the key "
                             "'input_size' that "))
        << out.text;
    EXPECT_FALSE(has(out, "json.exception")) << out.text;
  }
}

TEST_F(CliBounds, NonFiniteWeightsAreRefusedOnEveryPathUnlessAllowed) {
  const std::string nan_path = write_checkpoint(dir_ / "nan.safetensors", fashion_card(), [](auto& m) {
    set_value(m, "layer1.0.conv1.weight", 7, std::nan(""));
  });
  const std::string message =
      "tensor 'layer1.0.conv1.weight' of '" + nan_path + "' holds NaN at index [0, 0, 2, 1]";
  for (const std::string command : {"eval --limit 8", "predict --index 0", "export --onnx /dev/null"}) {
    const auto out = run_bounded("", command + " --checkpoint " + nan_path);
    EXPECT_EQ(out.status, 2) << command << "\n" << out.text;
    EXPECT_TRUE(has(out, message)) << command << "\n" << out.text;
  }
  const auto allowed = run_bounded("", "eval --limit 8 --allow-nonfinite --checkpoint " + nan_path);
  EXPECT_EQ(allowed.status, 0) << allowed.text;
  // The ONNX path: exported for forensics, the file is refused when read back.
  const std::string onnx = (dir_ / "nan.onnx").string();
  const auto exported =
      run_bounded("", "export --allow-nonfinite --checkpoint " + nan_path + " --onnx " + onnx);
  ASSERT_EQ(exported.status, 0) << exported.text;
  const auto imported = run_bounded("", "eval --limit 8 --checkpoint " + onnx);
  EXPECT_EQ(imported.status, 2) << imported.text;
  EXPECT_TRUE(has(imported, "tensor 'layer1.0.conv1.weight' of '" + onnx + "' holds NaN")) << imported.text;
  const auto converted =
      run_bounded("", "import " + onnx + " --out " + (dir_ / "imported.safetensors").string());
  EXPECT_EQ(converted.status, 2) << converted.text;

  const std::string var_path =
      write_checkpoint(dir_ / "negative_var.safetensors", fashion_card(),
                       [](auto& m) { set_value(m, "layer3.2.bn1.running_var", 4, -1.5); });
  const auto out = run_bounded("", "eval --limit 8 --checkpoint " + var_path);
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "tensor 'layer3.2.bn1.running_var' of '" + var_path +
                           "' holds the negative variance -1.5 at index [4]"))
      << out.text;
}

TEST_F(CliBounds, ConvertRefusesNonFiniteWeightsWithOrWithoutAModel) {
  // tests/fixtures/make_nonfinite_pth.py: resnet20_w025.pth with a NaN in conv1.weight.
  const std::string pth = std::string(RESNET_FIXTURES_DIR) + "/pth/nonfinite.pth";
  const std::string message = "tensor 'conv1.weight' of '" + pth + "' holds NaN at index [0, 0, 0, 0]";
  const std::string out_path = (dir_ / "converted.safetensors").string();
  for (const std::string model : {"", " --model resnet20"}) {
    const auto out = run_bounded("", "convert " + pth + model + " --out " + out_path);
    EXPECT_EQ(out.status, 2) << out.text;
    EXPECT_TRUE(has(out, message)) << out.text;
    EXPECT_FALSE(fs::exists(out_path));
  }
  const auto allowed = run_bounded("", "convert " + pth + " --out " + out_path + " --allow-nonfinite");
  EXPECT_EQ(allowed.status, 0) << allowed.text;
  EXPECT_TRUE(fs::exists(out_path));
}

TEST_F(CliBounds, ForwardRefusesANonFiniteInputByIndex) {
  auto model = models::create_model("resnet20", 10, 1);
  Rng rng(5);
  nn::init_torchvision(*model, rng);
  const std::string weights = (dir_ / "weights.safetensors").string();
  io::save_safetensors(weights, nn::state_dict(*model), {});
  Tensor input = Tensor::full({2, 1, 28, 28}, 0.5);
  input.at<float>({1, 0, 3, 4}) = std::nanf("");
  const std::string in = (dir_ / "nan_input.safetensors").string(),
                    out_path = (dir_ / "out.safetensors").string();
  io::save_safetensors(in, {{"input", input}}, {});
  const std::string args =
      "forward --model resnet20 --weights " + weights + " --input " + in + " --output " + out_path;
  const auto out = run_bounded("", args);
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "'" + in + "': tensor 'input' holds NaN at index [1, 0, 3, 4] (flat 872)"))
      << out.text;
  EXPECT_FALSE(fs::exists(out_path));
  const auto allowed = run_bounded("", args + " --allow-nonfinite");
  EXPECT_EQ(allowed.status, 0) << allowed.text;
}

}  // namespace
}  // namespace resnet::testing
