// Issue 23, "a command line that fits in scripts": with --json, `resnet eval`, `predict`, `summary`,
// `models` and `quantize` print exactly one JSON document on stdout and their human report on stderr;
// with --quiet they print nothing but errors; with neither, the human report on stdout as before.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "scripting_util.h"

namespace resnet::testing {
namespace {

namespace fs = std::filesystem;

// stdout parsed as one JSON document (a parse error, or anything after it, fails the test).
nlohmann::json document_of(const CliStreams& run) {
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  try {
    return nlohmann::json::parse(run.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON document (" << e.what() << "):\n" << run.out;
    return {};
  }
}

// `resnet models` summarises every network of the zoo (ImageNet ones at 224²): ~5 s on an idle machine.
TEST(JsonOutputCli, ModelsListsTheZoo) {
  const auto models = run_cli_streams("models --json");
  const nlohmann::json zoo = document_of(models).at("models");
  ASSERT_FALSE(zoo.empty());
  EXPECT_EQ(zoo[0].at("name"), "resnet20");
  EXPECT_EQ(zoo[0].at("parameters"), 269722);
  EXPECT_NE(models.err.find("description"), std::string::npos) << "the table goes to stderr";
}

TEST(JsonOutputCli, Summary) {
  const auto summary = run_cli_streams("summary --model resnet20 --json");
  const nlohmann::json s = document_of(summary);
  EXPECT_EQ(s.at("model"), "resnet20");
  EXPECT_EQ(s.at("parameters"), 269722);
  EXPECT_EQ(s.at("input"), nlohmann::json({3, 32, 32}));
  EXPECT_FALSE(s.at("layers").empty());
  EXPECT_NE(summary.err.find("total: 269722 parameters"), std::string::npos) << summary.err;

  // Without --json: the human table on stdout, unchanged; --quiet: nothing at all.
  const auto human = run_cli_streams("summary --model resnet20");
  EXPECT_EQ(human.status, 0);
  EXPECT_EQ(human.out.rfind("layer ", 0), 0u) << human.out;
  EXPECT_NE(human.out.find("total: 269722 parameters"), std::string::npos) << human.out;
  const auto quiet = run_cli_streams("summary --model resnet20 --quiet");
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.out + quiet.err, "");
}

class JsonOutputCheckpointCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("json_output");
    checkpoint_ = write_fashion_checkpoint(dir_ / "model.safetensors");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static std::string checkpoint_;
};
fs::path JsonOutputCheckpointCli::dir_;
std::string JsonOutputCheckpointCli::checkpoint_;

TEST_F(JsonOutputCheckpointCli, Eval) {
  const auto eval = run_cli_streams("eval --checkpoint " + checkpoint_ + " --limit 64 --json");
  const nlohmann::json e = document_of(eval);
  EXPECT_EQ(e.at("model"), "resnet20");
  EXPECT_EQ(e.at("images"), 64);
  EXPECT_GE(e.at("top1").get<double>(), 0);
  EXPECT_LE(e.at("top1").get<double>(), 100);
  EXPECT_EQ(e.at("classes").size(), 10u);
  EXPECT_EQ(e.at("confusion").size(), 10u);
  EXPECT_TRUE(e.at("top5").is_number()) << "ten classes: top-5 means something";
  // Per-class scores and their macro average: the mean F1 of the classes that have samples.
  double f1_sum = 0;
  int scored = 0;
  for (const auto& k : e.at("classes")) {
    ASSERT_TRUE(k.contains("precision") && k.contains("recall") && k.contains("samples")) << k;
    if (k.at("f1").is_number()) f1_sum += k.at("f1").get<double>(), ++scored;
  }
  ASSERT_GT(scored, 1);
  EXPECT_NEAR(e.at("macro").at("f1").get<double>(), f1_sum / scored, 1e-9);
  EXPECT_EQ(e.at("macro").at("samples"), 64);
  EXPECT_NE(eval.err.find("top-1"), std::string::npos) << "the report goes to stderr: " << eval.err;

  const auto quiet = run_cli_streams("eval --checkpoint " + checkpoint_ + " --limit 64 --quiet");
  EXPECT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.out + quiet.err, "") << "no report, no progress bar";
  const auto human = run_cli_streams("eval --checkpoint " + checkpoint_ + " --limit 64");
  EXPECT_NE(human.out.find("resnet20 on "), std::string::npos) << human.out;
  EXPECT_NE(human.err.find("Evaluating "), std::string::npos) << human.err;
  // Errors are printed whatever the flags.
  const auto missing = run_cli_streams("eval --checkpoint " + (dir_ / "none").string() + " --quiet --json");
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("error:"), std::string::npos) << missing.err;
}

TEST_F(JsonOutputCheckpointCli, Predict) {
  const auto predict =
      run_cli_streams("predict --checkpoint " + checkpoint_ + " --index 0-1 --top-k 2 --json");
  const nlohmann::json p = document_of(predict);
  ASSERT_EQ(p.at("predictions").size(), 2u);
  EXPECT_EQ(p["predictions"][0].at("input"), "test image 0");
  EXPECT_EQ(p["predictions"][0].at("top").size(), 2u);
  EXPECT_TRUE(p["predictions"][1].at("correct").is_boolean());
  EXPECT_EQ(p.at("labelled").at("images"), 2);
  EXPECT_NE(predict.err.find("test image 1:"), std::string::npos) << predict.err;
  const auto quiet = run_cli_streams("predict --checkpoint " + checkpoint_ + " --index 0 --quiet");
  EXPECT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.out + quiet.err, "");
}

TEST_F(JsonOutputCheckpointCli, Quantize) {
  const auto quantize = run_cli_streams("quantize --checkpoint " + checkpoint_ +
                                        " --images 64 --batch-size 32 --test-limit 64 " + "--out " +
                                        (dir_ / "calibration.json").string() + " --json");
  const nlohmann::json q = document_of(quantize);
  EXPECT_EQ(q.at("calibration").at("images"), 64);
  EXPECT_GT(q.at("calibration").at("ranges").get<int>(), 0);
  EXPECT_EQ(q.at("evaluation").at("images"), 64);
  EXPECT_TRUE(q.at("evaluation").at("engines").contains("int8"));
  EXPECT_NE(quantize.err.find("int8 - fp32"), std::string::npos) << quantize.err;
  const auto quiet = run_cli_streams("quantize --checkpoint " + checkpoint_ +
                                     " --images 64 --batch-size 32 --no-eval --quiet --out " +
                                     (dir_ / "calibration2.json").string());
  EXPECT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.out + quiet.err, "");
  EXPECT_TRUE(fs::exists(dir_ / "calibration2.json"));
}

}  // namespace
}  // namespace resnet::testing
