// Weights by name: round trip, mismatch reports, head replacement, the registry, and `resnet forward`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "fixture_fill.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"
#include "test_util.h"

using namespace resnet;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("resnet_sd_" + std::to_string(getpid()) + "_" + name))
      .string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(StateDict, RoundTripGivesTheSameNetwork) {
  auto a = models::create_model("resnet20", 10, 1);
  resnet::testing::fill_module(*a);
  const std::string path = temp_path("rt.safetensors");
  io::save_safetensors(path, nn::state_dict(*a));
  auto b = models::create_model("resnet20", 10, 1);
  const nn::LoadReport report = nn::load_state_dict(*b, io::load_safetensors(path));
  EXPECT_EQ(report.loaded.size(), nn::state_dict(*a).size());
  const Tensor x = resnet::testing::fill_input({2, 1, 28, 28});
  a->eval();
  b->eval();
  EXPECT_LE(resnet::testing::max_rel_error(b->forward(x), a->forward(x).clone()), 0.0);
  std::remove(path.c_str());
}

TEST(StateDict, MismatchesAreReportedTogetherAndNothingIsChanged) {
  auto source = models::create_model("resnet20");
  resnet::testing::fill_module(*source);
  const std::string path = temp_path("mismatch.safetensors");
  io::save_safetensors(path, nn::state_dict(*source));
  const io::TensorFile file = io::load_safetensors(path);

  auto five = models::create_model("resnet20", 5);
  const Tensor before = five->named_parameters()[0].second->value().clone();
  const std::string msg = error_of([&] { nn::load_state_dict(*five, file); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("fc.weight: file [10, 64] vs model [5, 64]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fc.bias"), std::string::npos) << msg;
  EXPECT_LE(resnet::testing::max_rel_error(five->named_parameters()[0].second->value(), before), 0.0)
      << "a failed strict load must change nothing";

  // A new head: load everything but the classifier.
  const nn::LoadReport report = nn::load_state_dict(*five, file, {.strict = true, .skip_prefixes = {"fc."}});
  EXPECT_TRUE(report.missing.empty() && report.mismatched.empty());
  EXPECT_LE(resnet::testing::max_rel_error(five->named_parameters()[0].second->value(),
                                           source->named_parameters()[0].second->value()),
            0.0);

  auto deeper = models::create_model("resnet32");
  const std::string missing = error_of([&] { nn::load_state_dict(*deeper, file); });
  // 6 more blocks, each 2 convs + 2 BNs (2 parameters and 3 buffers each): 72 tensors.
  EXPECT_NE(missing.find("missing from the file (72)"), std::string::npos) << missing;
  EXPECT_NE(missing.find("more)"), std::string::npos) << "long lists are cut: " << missing;
  const nn::LoadReport loose = nn::load_state_dict(*deeper, file, {.strict = false, .skip_prefixes = {}});
  EXPECT_FALSE(loose.missing.empty());
  EXPECT_FALSE(loose.loaded.empty());
  std::remove(path.c_str());
}

TEST(Registry, UnknownNamesSuggestCloseOnes) {
  EXPECT_EQ(models::registered_models().size(), 31u);
  const std::string msg = error_of([] { models::create_model("resnt50"); });
  EXPECT_NE(msg.find("resnet50"), std::string::npos) << msg;
  EXPECT_EQ(models::create_model("plain20")->find_module("layer2.0.downsample"), nullptr);
  EXPECT_EQ(models::create_model("resnet18")->num_parameters(), 11689512);
}

TEST(Cli, ForwardWritesTheLogitsOfTheInputTensor) {
  auto model = models::create_model("resnet20", 10, 1);
  resnet::testing::fill_module(*model);
  const std::string weights = temp_path("w.safetensors"), input = temp_path("in.safetensors"),
                    output = temp_path("out.safetensors");
  io::save_safetensors(weights, nn::state_dict(*model));
  const Tensor x = resnet::testing::fill_input({3, 1, 28, 28});
  io::save_safetensors(input, {{"input", x}});
  const std::string cli = RESNET_CLI_PATH;
  const std::string cmd = cli + " forward --model resnet20 --weights " + weights + " --input " + input +
                          " --output " + output + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  model->eval();
  EXPECT_LE(resnet::testing::max_rel_error(io::load_safetensors(output).at("output"), model->forward(x)),
            1e-6);
  // Wrong architecture for the weights, an unknown flag: non-zero exits.
  EXPECT_NE(std::system((cli + " forward --model resnet32 --weights " + weights + " --input " + input +
                         " --output " + output + " 2> /dev/null")
                            .c_str()),
            0);
  EXPECT_NE(std::system((cli + " forward --bogus 2> /dev/null").c_str()), 0);
  for (const auto& p : {weights, input, output}) std::remove(p.c_str());
}

TEST(Cli, ForwardOfAnInputWrittenByPythonGivesTorchvisionsLogits) {
  // tests/fixtures/forward_input.safetensors is written by generate.py's own writer; the weights are the
  // fixture formula, saved by us; the expected logits are torchvision's (float64) for that input.
  auto model = models::create_model("resnet18");
  resnet::testing::fill_module(*model);
  const std::string weights = temp_path("r18.safetensors"), output = temp_path("r18_out.safetensors");
  io::save_safetensors(weights, nn::state_dict(*model));
  const std::string cmd = std::string(RESNET_CLI_PATH) + " forward --model resnet18 --weights " + weights +
                          " --input " RESNET_FIXTURES_DIR "/forward_input.safetensors --output " + output +
                          " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const io::TensorFile expected = io::load_safetensors(RESNET_FIXTURES_DIR "/torchvision.safetensors");
  EXPECT_CLOSE(io::load_safetensors(output).at("output"), expected.at("resnet18.logits"), 1e-4);
  for (const auto& p : {weights, output}) std::remove(p.c_str());
}

}  // namespace

namespace {

TEST(Registry, OptionsApplyToEveryBuilder) {
  // resnet18 with the small-image stem (3×3/1, no max-pool) for 1-channel 28×28 images, 10 classes.
  auto small =
      models::create_model("resnet18", {.num_classes = 10, .in_channels = 1, .imagenet_stem = false});
  EXPECT_EQ(small->find_module("maxpool"), nullptr);
  EXPECT_EQ(small->forward(Tensor::zeros({2, 1, 28, 28})).shape(), (Shape{2, 10}));
  // resnet20 at half width: stages of 8/16/32 channels, so the classifier sees 32 features.
  auto half = models::create_model("resnet20", {.width_multiplier = 0.5});
  EXPECT_EQ(half->spec().widths, (std::vector<int64_t>{8, 16, 32}));
  EXPECT_EQ(dynamic_cast<nn::Linear*>(half->find_module("fc"))->weight().value().shape(), (Shape{10, 32}));
  // The paper's stride placement moves the stride to the first 1×1 of a bottleneck.
  auto caffe = models::create_model("resnet50", {.stride_in_1x1 = true});
  EXPECT_EQ(dynamic_cast<nn::Conv2d*>(caffe->find_module("layer2.0.conv1"))->options().stride, 2);
  EXPECT_EQ(dynamic_cast<nn::Conv2d*>(caffe->find_module("layer2.0.conv2"))->options().stride, 1);
  EXPECT_EQ(caffe->num_parameters(), 25557032);  // same weights, different placement
  EXPECT_THROW(models::create_model("resnet20", {.width_multiplier = -1}), UserError);
  // The paper's option B on a CIFAR net: 1×1 projections where shapes change.
  auto option_b = models::create_model("resnet20", {.shortcut = nn::ShortcutKind::B});
  EXPECT_NE(option_b->find_module("layer2.0.downsample.0"), nullptr);
  EXPECT_THROW(models::create_model("wrn_16_4", {.shortcut = nn::ShortcutKind::A}), UserError);
}

}  // namespace
