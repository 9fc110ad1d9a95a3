// `resnet attack` as a user runs it: a data set with several attacks and budgets, the tensor mode's
// bit-identical reruns, and the refusals (exit 2, the flag or file and the fix named).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/scripting_util.h"
#include "cli_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"

using namespace resnet;
using namespace resnet::testing;

namespace {

class AttackCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("attack").string();
    checkpoint_ = write_fashion_checkpoint(std::filesystem::path(dir_) / "model.safetensors");
    Tensor x = Tensor::empty({3, 1, 28, 28});
    for (int64_t e = 0; e < x.numel(); ++e)
      x.data<float>()[e] = static_cast<float>(0.5 + 0.45 * std::sin(0.01 * e));
    Tensor labels = Tensor::empty({3}, DType::i64);
    for (int64_t i = 0; i < 3; ++i) labels.data<int64_t>()[i] = 2 * i;
    input_ = dir_ + "/input.safetensors";
    io::save_safetensors(input_, {{"input", x}, {"label", labels}});
  }
  static inline std::string dir_, checkpoint_, input_;
};

TEST_F(AttackCli, ADataSetWithSeveralAttacksAndBudgets) {
  const std::string out = dir_ + "/set";
  const auto r =
      run_cli("attack --checkpoint " + checkpoint_ +
              " --limit 12 --batch 8 --attack fgsm,pgd,apgd-ce --eps 0.02,0.1 --steps 3 --engine fp32 "
              "--check-images 4 --out " +
              out + " --json");
  ASSERT_EQ(r.status, 0) << r.text;
  std::ifstream in(out + "/summary.json");
  const nlohmann::json s = nlohmann::json::parse(in);
  EXPECT_EQ(s.at("images"), 12);
  ASSERT_EQ(s.at("results").size(), 6u);
  for (const auto& row : s["results"]) {
    EXPECT_LE(row.at("robust_accuracy").get<double>(), s.at("clean_accuracy").get<double>());
    EXPECT_TRUE(row.at("deployed").contains("fp32"));
  }
  EXPECT_EQ(s.at("worst_case").size(), 2u);
  EXPECT_EQ(s.at("masking_checks").at("images"), 4);
  EXPECT_TRUE(std::filesystem::exists(out + "/adversarial.png"));
  EXPECT_NE(r.text.find("\"worst_case\""), std::string::npos);
}

TEST_F(AttackCli, TensorModeIsBitIdenticalOnReruns) {
  auto run = [&](const std::string& name, const std::string& threads) {
    const auto r = run_cli("attack --checkpoint " + checkpoint_ + " --input " + input_ +
                           " --attack pgd --eps 0.05 --steps 4 --threads " + threads + " --output " + dir_ +
                           "/" + name + " --quiet");
    EXPECT_EQ(r.status, 0) << r.text;
    return io::load_safetensors(dir_ + "/" + name);
  };
  const io::TensorFile a = run("a.safetensors", "2"), b = run("b.safetensors", "1");
  const Tensor &xa = a.at("adversarial"), &xb = b.at("adversarial");
  ASSERT_EQ(xa.shape(), (Shape{3, 1, 28, 28}));
  EXPECT_EQ(std::memcmp(xa.data<float>(), xb.data<float>(), xa.nbytes()), 0);
  EXPECT_EQ(a.at("logits").shape(), (Shape{3, 10}));
  const io::TensorFile in = io::load_safetensors(input_);
  for (int64_t e = 0; e < xa.numel(); ++e)
    ASSERT_LE(std::abs(xa.data<float>()[e] - in.at("input").data<float>()[e]), 0.05f + 1e-6f);
}

TEST_F(AttackCli, CorruptionsAllOrSomeWithAReference) {
  const std::string out = dir_ + "/corrupt";
  const auto some =
      run_cli("attack --checkpoint " + checkpoint_ + " --corruptions jpeg,contrast --reference " +
              checkpoint_ + " --limit 6 --out " + out + " --json");
  ASSERT_EQ(some.status, 0) << some.text;
  std::ifstream in(out + "/summary.json");
  const nlohmann::json s = nlohmann::json::parse(in);
  ASSERT_EQ(s.at("corruptions").size(), 2u);
  EXPECT_EQ(s["corruptions"][0].at("accuracy").size(), 5u);
  EXPECT_DOUBLE_EQ(s["corruptions"][0].at("ce").get<double>(), 1.0);  // the model against itself
  EXPECT_DOUBLE_EQ(s.at("mce").get<double>(), 1.0);
  EXPECT_TRUE(std::filesystem::exists(out + "/corruptions.png"));
  const auto all =
      run_cli("attack --checkpoint " + checkpoint_ + " --corruptions --limit 2 --out " + out + "2 --json");
  ASSERT_EQ(all.status, 0) << all.text;
  std::ifstream in2(out + "2/summary.json");
  EXPECT_EQ(nlohmann::json::parse(in2).at("corruptions").size(), 11u);
}

TEST_F(AttackCli, Refusals) {
  // Weights with no card, hence no normalisation.
  auto model = models::create_model("resnet20", 10, 1);
  const std::string bare = dir_ + "/bare.safetensors";
  io::save_safetensors(bare, nn::state_dict(*model));
  Tensor wide = Tensor::full({1, 1, 28, 28}, 1.5);
  Tensor label = Tensor::full({1}, 11, DType::i64);
  io::save_safetensors(dir_ + "/wide.safetensors",
                       {{"input", wide}, {"label", Tensor::zeros({1}, DType::i64)}});
  io::save_safetensors(dir_ + "/label.safetensors",
                       {{"input", Tensor::full({1, 1, 28, 28}, 0.5)}, {"label", label}});
  const std::string tensor = "attack --checkpoint " + checkpoint_ + " --input " + input_ + " ";
  const std::pair<std::string, std::string> cases[] = {
      {tensor + "--eps 1.5", "--eps 1.5"},
      {tensor + "--norm l1", "unknown norm 'l1': give linf or l2"},
      {tensor + "--attack cw", "unknown attack 'cw'"},
      {tensor + "--steps 0", "--steps 0 is not allowed"},
      {tensor + "--attack fgsm,pgd", "tensor mode (--input) runs one attack at one ε"},
      {"attack --checkpoint " + checkpoint_ + " --input " + dir_ + "/wide.safetensors",
       "attacks take [0, 1] pixels"},
      {"attack --checkpoint " + checkpoint_ + " --input " + dir_ + "/label.safetensors",
       "label 11 is outside 0-9"},
      {"attack --model resnet20 --classes 10 --weights " + bare + " --input " + input_,
       "give --mean and --std"},
      {"attack --model resnet21 --weights " + bare + " --input " + input_, "resnet21"},
      {"attack --checkpoint " + checkpoint_ + " --limit 4", "--out DIR is needed"},
      {"attack --checkpoint " + checkpoint_ + " --corruptions fog --out " + dir_ + "/fog",
       "unknown corruption 'fog'"},
  };
  for (const auto& [flags, message] : cases) {
    SCOPED_TRACE(flags);
    const auto r = run_cli(flags);
    EXPECT_EQ(r.status, 2) << r.text;
    EXPECT_NE(r.text.find(message), std::string::npos) << r.text;
  }
}

}  // namespace
