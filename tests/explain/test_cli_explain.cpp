// `resnet explain` as a user runs it: the files it writes, and the refusals (exit 2, the flag and the fix
// named) for bad methods, layers, targets and counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/scripting_util.h"
#include "cli_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/checkpoint.h"
#include "resnet/nn/state_dict.h"

using namespace resnet;
using namespace resnet::testing;

namespace {

class ExplainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("explain").string();
    checkpoint_ = write_fashion_checkpoint(std::filesystem::path(dir_) / "model.safetensors");
  }
  static inline std::string dir_, checkpoint_;
};

TEST_F(ExplainCli, WritesMapsTensorsAndSummaryForSeveralMethods) {
  const std::string out = dir_ + "/several";
  const auto r =
      run_cli("explain --checkpoint " + checkpoint_ +
              " --index 0-2 --method grad-cam,saliency,ig,occlusion --steps 4 --window 7 --stride 7 "
              "--target 3 --evaluate --evaluate-steps 4 --out " +
              out + " --quiet");
  ASSERT_EQ(r.status, 0) << r.text;
  const io::TensorFile f = io::load_safetensors(out + "/attributions.safetensors");
  EXPECT_EQ(f.at("attribution.grad-cam").shape(), (Shape{3, 28, 28}));
  EXPECT_EQ(f.at("cam.grad-cam").shape(), (Shape{3, 7, 7}));  // ResNet-20's last stage at 28×28
  EXPECT_EQ(f.at("attribution.saliency").shape(), (Shape{3, 1, 28, 28}));
  EXPECT_EQ(f.at("attribution.integrated-gradients").shape(), (Shape{3, 1, 28, 28}));
  EXPECT_EQ(f.at("attribution.occlusion").shape(), (Shape{3, 28, 28}));
  EXPECT_EQ(f.at("logits").shape(), (Shape{3, 10}));
  EXPECT_EQ(f.at("target").at<int64_t>({2}), 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(std::filesystem::exists(out + "/explain_" + std::to_string(i) + ".png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/grid.png"));
  std::ifstream in(out + "/summary.json");
  const nlohmann::json summary = nlohmann::json::parse(in);
  ASSERT_EQ(summary.at("images").size(), 3u);
  EXPECT_EQ(summary["images"][0].at("target_class"), "class3");
  EXPECT_TRUE(summary["images"][0].contains("ig_completeness_error"));
  EXPECT_EQ(summary.at("layer"), "layer3");
  const nlohmann::json& evaluation = summary.at("evaluation");
  EXPECT_EQ(evaluation.at("methods").size(), 4u);
  for (const auto& [name, scores] : evaluation.at("methods").items()) {
    EXPECT_GE(scores.at("deletion_auc").get<double>(), 0.0) << name;
    EXPECT_LE(scores.at("insertion_auc").get<double>(), 1.0) << name;
  }
  EXPECT_TRUE(evaluation.at("random").contains("deletion_auc"));
}

TEST_F(ExplainCli, OneMethodOnARawTensorWithTheEngine) {
  const std::string input = dir_ + "/input.safetensors";
  Tensor x = Tensor::empty({2, 1, 28, 28});
  for (int64_t e = 0; e < x.numel(); ++e) x.data<float>()[e] = static_cast<float>(std::sin(0.01 * e));
  io::save_safetensors(input, {{"input", x}});
  const std::string out = dir_ + "/tensor";
  const auto r = run_cli("explain --checkpoint " + checkpoint_ + " --input " + input +
                         " --method score-cam --layer layer2.2 --engine fp32 --out " + out + " --json");
  ASSERT_EQ(r.status, 0) << r.text;
  const io::TensorFile f = io::load_safetensors(out + "/attributions.safetensors");
  EXPECT_EQ(f.at("attribution").shape(), (Shape{2, 28, 28}));
  EXPECT_EQ(f.at("cam").shape(), (Shape{2, 14, 14}));
  EXPECT_NE(r.text.find("\"engine\": \"fp32\""), std::string::npos) << r.text;
}

TEST_F(ExplainCli, BareWeightsExplainAsTheirCheckpointDoes) {
  const models::Checkpoint c = models::load_checkpoint(checkpoint_);
  auto model = models::model_from_checkpoint(c);
  const std::string weights = dir_ + "/bare.safetensors", input = dir_ + "/bare_input.safetensors";
  io::save_safetensors(weights, nn::state_dict(*model));
  Tensor x = Tensor::empty({2, 1, 28, 28});
  for (int64_t e = 0; e < x.numel(); ++e) x.data<float>()[e] = static_cast<float>(std::cos(0.02 * e));
  io::save_safetensors(input, {{"input", x}});
  std::string normalisation;
  for (const auto* values : {&c.card.preprocessing.mean, &c.card.preprocessing.std}) {
    normalisation += values == &c.card.preprocessing.mean ? " --mean " : " --std ";
    for (double v : *values) normalisation += std::to_string(v) + ",";
    normalisation.pop_back();
  }
  const std::string common = " --input " + input + " --method saliency,ig --steps 4 --quiet --out " + dir_;
  const auto a = run_cli("explain --checkpoint " + checkpoint_ + common + "/from_checkpoint");
  ASSERT_EQ(a.status, 0) << a.text;
  const auto b = run_cli("explain --model resnet20 --classes 10 --weights " + weights + normalisation +
                         common + "/from_weights");
  ASSERT_EQ(b.status, 0) << b.text;
  const io::TensorFile fa = io::load_safetensors(dir_ + "/from_checkpoint/attributions.safetensors"),
                       fb = io::load_safetensors(dir_ + "/from_weights/attributions.safetensors");
  for (const char* name : {"attribution.saliency", "attribution.integrated-gradients", "logits"}) {
    const Tensor &ta = fa.at(name), &tb = fb.at(name);
    ASSERT_EQ(ta.shape(), tb.shape()) << name;
    EXPECT_EQ(std::memcmp(ta.raw(), tb.raw(), ta.nbytes()), 0) << name << " differs";
  }
  // Bare weights need the tensor input and, for int8, a calibration; one network source at a time.
  const std::pair<std::string, std::string> refused[] = {
      {"explain --model resnet20 --weights " + weights + " --index 0",
       "--model needs --weights W and --input"},
      {"explain --model resnet20 --weights " + weights + " --input " + input + " --engine int8",
       "needs --calibration"},
      {"explain --checkpoint " + checkpoint_ + " --model resnet20 --weights " + weights + " --input " + input,
       "give --checkpoint RUN, or bare weights"},
      {"explain --model resnet21 --weights " + weights + " --input " + input, "--model"},
  };
  for (const auto& [args, expected] : refused) {
    const auto r = run_cli(args + " --out " + dir_ + "/refused_bare");
    EXPECT_EQ(r.status, 2) << args << "\n" << r.text;
    EXPECT_NE(r.text.find(expected), std::string::npos) << args << "\n" << r.text;
  }
}

TEST_F(ExplainCli, Refusals) {
  const std::string base = "explain --checkpoint " + checkpoint_ + " --index 0 --out " + dir_ + "/refused ";
  const std::pair<std::string, std::string> cases[] = {
      {"--method gradcam", "--method 'gradcam' is not a method"},
      {"--method grad-cam --layer layer4", "--layer 'layer4' is not a layer of this network"},
      {"--target 12", "--target 12 is not a class of this model"},
      {"--target sneakers", "--target 'sneakers' is not a class of this model"},
      {"--method ig --steps 0", "--steps 0 is not allowed"},
      {"--evaluate --evaluate-steps 0", "--evaluate-steps 0 is not allowed"},
      {"--method ig --rule simpson", "--rule 'simpson' is not a rule"},
      {"--method occlusion --window 40", "--window 40 does not fit the 28×28 input"},
      {"--method ig --baseline nowhere.png", "--baseline 'nowhere.png' is neither black, blur, noise"},
  };
  for (const auto& [flags, message] : cases) {
    SCOPED_TRACE(flags);
    const auto r = run_cli(base + flags);
    EXPECT_EQ(r.status, 2) << r.text;
    EXPECT_NE(r.text.find(message), std::string::npos) << r.text;
  }
  const auto nothing = run_cli("explain --checkpoint " + checkpoint_ + " --out " + dir_ + "/refused");
  EXPECT_EQ(nothing.status, 2) << nothing.text;
  EXPECT_NE(nothing.text.find("nothing to explain"), std::string::npos) << nothing.text;
}

}  // namespace
