// `resnet study degradation|gradients` end to end on tiny budgets: the outputs a user reads (table, CSV,
// JSON, figures), reuse of finished runs, refusal of a directory holding another recipe, and bad flags.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_util.h"

namespace {

namespace fs = std::filesystem;
using resnet::testing::fresh_dir;
using resnet::testing::run_cli;

// 64 images in batches of 16: 4 iterations an epoch.
const char* kTiny =
    " --set data.train_limit=64 --set data.test_limit=64 --set optim.batch_size=16 --set "
    "run.eval_batch_size=64";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

TEST(StudyCli, DegradationWritesTheComparisonAndReusesFinishedRuns) {
  const fs::path dir = fresh_dir("degradation");
  const std::string args =
      "study degradation --depths 20,32 --epochs 2 --log-every 2 --out " + dir.string() + kTiny;
  const auto out = run_cli(args);
  ASSERT_EQ(out.status, 0) << out.text;
  for (const char* f : {"degradation.png", "degradation.csv", "summary.json", "plain20/last.safetensors",
                        "plain32/summary.json", "resnet20/metrics_steps.csv", "resnet32/curves.png"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_NE(out.text.find("network     depth"), std::string::npos) << out.text;

  // CSV: every network, training error at each window of 2 iterations (4 per net over 8 iterations), test
  // error twice an epoch (2 per epoch → 4), errors in [0, 100].
  const auto rows = read_csv(dir / "degradation.csv");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"network", "kind", "depth", "epoch", "train_error", "test_error"}));
  std::map<std::string, int> train_points, test_points;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 6u) << i;
    const std::string& net = rows[i][0];
    EXPECT_EQ(rows[i][1], net.rfind("plain", 0) == 0 ? "plain" : "residual");
    const std::string& value = rows[i][4].empty() ? rows[i][5] : rows[i][4];
    (rows[i][4].empty() ? test_points : train_points)[net]++;
    EXPECT_GE(std::stod(value), 0.0);
    EXPECT_LE(std::stod(value), 100.0);
  }
  for (const char* net : {"plain20", "plain32", "resnet20", "resnet32"}) {
    EXPECT_EQ(train_points[net], 4) << net;
    EXPECT_EQ(test_points[net], 4) << net;
  }
  const auto summary = nlohmann::json::parse(read_text(dir / "summary.json"));
  ASSERT_EQ(summary["networks"].size(), 4u);
  EXPECT_TRUE(summary.contains("plain_deeper_trains_worse"));
  EXPECT_EQ(summary["recipe"]["optim"]["weight_decay"], 1e-4);  // the paper's recipe

  // The same command again trains nothing.
  const auto again = run_cli(args);
  ASSERT_EQ(again.status, 0) << again.text;
  EXPECT_NE(again.text.find("finished run found, reusing it"), std::string::npos) << again.text;
  EXPECT_EQ(again.text.find("epoch 1/2"), std::string::npos) << again.text;

  // Another recipe in the same directory is refused, naming the fix.
  const auto other = run_cli(args + " --set optim.lr=0.05");
  EXPECT_EQ(other.status, 2) << other.text;
  EXPECT_NE(other.text.find("another recipe"), std::string::npos) << other.text;
  EXPECT_NE(other.text.find("--out"), std::string::npos) << other.text;
}

// --kinds residual trains the residual nets only (the longer budgets of docs/studies.md): one panel, one
// verdict; and a change of precision is another recipe (bf16 rounds differently from fp32).
TEST(StudyCli, DegradationOfTheResidualNetsOnly) {
  const fs::path dir = fresh_dir("degradation-residual");
  const std::string args =
      "study degradation --kinds residual --depths 20,32 --epochs 1 --log-every 2 --out " + dir.string() +
      kTiny;
  const auto out = run_cli(args);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(fs::exists(dir / "resnet20/last.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "resnet32/last.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "plain20"));
  EXPECT_FALSE(fs::exists(dir / "plain32"));
  EXPECT_TRUE(fs::exists(dir / "degradation.png"));
  EXPECT_NE(out.text.find("ResNet-32 trains"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("plain-32 trains"), std::string::npos) << out.text;
  const auto rows = read_csv(dir / "degradation.csv");
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i][1], "residual") << i;
  const auto summary = nlohmann::json::parse(read_text(dir / "summary.json"));
  EXPECT_EQ(summary["networks"].size(), 2u);
  EXPECT_TRUE(summary["plain_deeper_trains_worse"].is_null());
  EXPECT_TRUE(summary["residual_deeper_trains_better"].is_boolean());
  EXPECT_EQ(summary["recipe"]["precision"], "fp32");

  const auto bf16 = run_cli(args + " --precision bf16");
  EXPECT_EQ(bf16.status, 2) << bf16.text;
  EXPECT_NE(bf16.text.find("another recipe"), std::string::npos) << bf16.text;

  const auto bad = run_cli("study degradation --kinds plain,resid --out " + fresh_dir("bad-kinds").string());
  EXPECT_NE(bad.status, 0) << bad.text;
  EXPECT_NE(bad.text.find("resid"), std::string::npos) << bad.text;
}

TEST(StudyCli, GradientsWritesPerLayerStatistics) {
  const fs::path dir = fresh_dir("gradients");
  const auto out =
      run_cli("study gradients --depths 20 --steps 3 --measure-batches 2 --out " + dir.string() + kTiny);
  ASSERT_EQ(out.status, 0) << out.text;
  for (const char* f :
       {"gradient_norms.png", "responses.png", "gradients.csv", "responses.csv", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  // 20 weight layers and 9 blocks, for 2 networks at 2 moments, plus the header.
  const auto grads = read_csv(dir / "gradients.csv");
  EXPECT_EQ(grads.size(), 1u + 2 * 2 * 20);
  const auto responses = read_csv(dir / "responses.csv");
  EXPECT_EQ(responses.size(), 1u + 2 * 2 * 9);
  std::set<std::string> layers;
  for (size_t i = 1; i < grads.size(); ++i) {
    layers.insert(grads[i][5]);
    EXPECT_GT(std::stod(grads[i][6]), 0.0) << grads[i][5];
  }
  EXPECT_TRUE(layers.count("conv1") && layers.count("fc") && layers.count("layer3.2.conv2"));
  // At initialisation every BN has γ = 1, β = 0: a training-mode BN output has std 1 (up to ε).
  for (size_t i = 1; i < responses.size(); ++i) {
    if (responses[i][3] == "init") {
      EXPECT_NEAR(std::stod(responses[i][6]), 1.0, 1e-3) << responses[i][5];
    }
  }
}

TEST(StudyCli, BadDepthsAreNamed) {
  const auto out = run_cli("study degradation --depths 20,21 --out " + fresh_dir("bad").string());
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_NE(out.text.find("depth 21"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("56"), std::string::npos) << out.text;  // lists the valid depths
  const auto one = run_cli("study degradation --depths 20 --out " + fresh_dir("one").string());
  EXPECT_EQ(one.status, 2) << one.text;
  EXPECT_NE(one.text.find("at least two depths"), std::string::npos) << one.text;
}

}  // namespace
