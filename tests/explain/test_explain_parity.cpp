// explain/ against PyTorch: every method on generate.py's CIFAR ResNet-20 (3 channels, 16×16, formula
// weights and inputs), written independently with torch.autograd in tests/fixtures/generate_explain.py
// (float64, stored as f32). Tolerance: 1e-4 of the reference's largest magnitude (20 layers of f32
// rounding forward and backward, the bar of test_torch_parity's gradients).
#include <gtest/gtest.h>

#include "resnet/explain/cam.h"
#include "resnet/explain/gradients.h"
#include "resnet/explain/integrated_gradients.h"
#include "resnet/explain/occlusion.h"
#include "resnet/explain/saliency.h"
#include "resnet/io/safetensors.h"
#include "small_model.h"
#include "test_util.h"

using namespace resnet;

namespace {

constexpr double kTol = 1e-4;

const io::TensorFile& fixtures() {
  static const io::TensorFile file = io::load_safetensors(RESNET_FIXTURES_DIR "/explain.safetensors");
  return file;
}
const Tensor& fx(const std::string& name) {
  return fixtures().at(name);
}

class ExplainParity : public ::testing::Test {
 protected:
  void SetUp() override { model_ = resnet::testing::explain_test_model(); }
  std::unique_ptr<models::ResNet> model_;
  const Tensor x_ = resnet::testing::fill_input({2, 3, 16, 16});
  const std::vector<int64_t> targets_{1, 4};  // generate.py's fill_targets(2, 10)
};

TEST_F(ExplainParity, Logits) {
  EXPECT_CLOSE(explain::gradients(*model_, x_, targets_).logits, fx("logits"), 1e-5);
}

TEST_F(ExplainParity, SaliencyAndGradientTimesInput) {
  EXPECT_CLOSE(explain::saliency(*model_, x_, targets_), fx("saliency"), kTol);
  EXPECT_CLOSE(explain::gradient_times_input(*model_, x_, targets_), fx("gradient_x_input"), kTol);
}

TEST_F(ExplainParity, IntegratedGradientsBothRules) {
  const Tensor black = explain::black_baseline(x_, {0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.3f});
  for (explain::Rule rule : {explain::Rule::riemann, explain::Rule::gauss_legendre}) {
    SCOPED_TRACE(std::string(explain::rule_name(rule)));
    const Tensor ig =
        explain::integrated_gradients(*model_, x_, black, targets_, {.steps = 8, .rule = rule, .chunk = 3});
    const std::string key = rule == explain::Rule::riemann ? "ig.riemann" : "ig.gauss_legendre";
    EXPECT_CLOSE(ig, fx(key), kTol);
  }
}

TEST_F(ExplainParity, GradCamAtAStageAndABlock) {
  for (const std::string layer : {"layer3", "layer2.1"}) {
    SCOPED_TRACE(layer);
    const explain::CamResult r = explain::grad_cam(*model_, x_, targets_, {.layer = layer});
    EXPECT_CLOSE(r.cam, fx("gradcam." + layer + ".cam"), kTol);
    EXPECT_CLOSE(r.map, fx("gradcam." + layer + ".map"), kTol);
  }
  // The default layer is the last stage.
  EXPECT_CLOSE(explain::grad_cam(*model_, x_, targets_).cam, fx("gradcam.layer3.cam"), kTol);
}

TEST_F(ExplainParity, GradCamPlusPlus) {
  const explain::CamResult r = explain::grad_cam_plus_plus(*model_, x_, targets_, {.layer = "layer3"});
  EXPECT_CLOSE(r.cam, fx("gradcampp.layer3.cam"), kTol);
  EXPECT_CLOSE(r.map, fx("gradcampp.layer3.map"), kTol);
}

TEST_F(ExplainParity, ScoreCam) {
  const explain::CamResult r = explain::score_cam(*model_, explain::model_logits(*model_), x_, targets_,
                                                  {.layer = "layer3", .chunk = 5});
  EXPECT_CLOSE(r.cam, fx("scorecam.layer3.cam"), kTol);
  EXPECT_CLOSE(r.map, fx("scorecam.layer3.map"), kTol);
}

TEST_F(ExplainParity, Occlusion) {
  const Tensor map = explain::occlusion(explain::model_logits(*model_), x_, targets_,
                                        {.window = 5, .stride = 3, .fill = {0.1f}, .chunk = 4});
  EXPECT_CLOSE(map, fx("occlusion"), kTol);
  EXPECT_EQ(map.at<float>({0, 15, 15}), 0.0f);  // no window reaches the last row: no attribution
}

TEST(ExplainParityResNet18, GradCamOnTorchvisionsResNet18) {
  auto model = models::torchvision_resnet("resnet18", 10, 3);
  resnet::testing::fill_module(*model);
  model->eval();
  const Tensor x = resnet::testing::fill_input({1, 3, 64, 64}, 0.9);
  for (const std::string layer : {"layer4", "layer3.1"}) {
    SCOPED_TRACE(layer);
    const explain::CamResult r = explain::grad_cam(*model, x, {7}, {.layer = layer});
    EXPECT_CLOSE(r.cam, fx("resnet18.gradcam." + layer + ".cam"), kTol);
    EXPECT_CLOSE(r.map, fx("resnet18.gradcam." + layer + ".map"), kTol);
  }
}

}  // namespace
