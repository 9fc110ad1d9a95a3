// What a hostile probe found in `resnet train`, each as a test that failed before its fix: settings out of
// range accepted or reported as internal errors, a segfault at the end of a run with a validation split, a
// divergence that named a checkpoint that does not exist, raw errors for an unwritable run directory, two
// trainers on one run, stale temporary files, a thread count silently changed on resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include "cli_util.h"

#include "resnet/data/image.h"
#include "resnet/train/run_directory.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;
using resnet::testing::fresh_dir;
using resnet::testing::run_cli;

const std::string kTiny =
    " --set data.train_limit=256 --set data.test_limit=64 --batch-size 32 --set run.plots=false"
    " --set run.eval_batch_size=64 --set model.width_multiplier=0.5";

bool has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(TrainSettings, OutOfRangeValuesAreRefusedWithWhatIsAllowed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--set optim.momentum=5", "optim.momentum = 5.0 is not allowed: use a momentum in [0, 1)"},
      {"--threads -3", "run.threads = -3 is not allowed"},
      {"--set data.train_limit=-10", "data.train_limit = -10 is not allowed"},
      {"--batch-size -5", "optim.batch_size = -5 is not allowed: use a positive batch size"},
      {"--set data.prefetch=0", "data.prefetch = 0 is not allowed"},
      {"--set optim.label_smoothing=2", "optim.label_smoothing = 2.0 is not allowed"},
      {"--set 'schedule.milestones=[\"a\", -3]'",
       "element 0 (\"a\") must be a non-negative number of epochs"},
      {"--set 'schedule.milestones=[30, 20]'", "ascending"},
      {"--set data.workers=100000", "data.workers = 100000 is not allowed"},
      {"--set data.val_fraction=1.5", "data.val_fraction = 1.5 is not allowed"},
      {"--set 'data.mean=[0.5]'", "data.mean ([0.5]) and data.std ([])"},
      {"--set schedule.kind=linear", "use one of constant, multistep, cosine, onecycle"},
      {"--set data.channels=2", "data.channels = 2 is not allowed"},
      {"--seed -1", "run.seed = -1 is not allowed"},
  };
  for (const auto& [flags, expected] : cases) {
    const auto out = run_cli("train --print-config " + flags);
    EXPECT_EQ(out.status, 2) << flags << "\n" << out.text;
    EXPECT_TRUE(has(out.text, expected)) << flags << "\n" << out.text;
    EXPECT_FALSE(has(out.text, "internal error")) << out.text;
  }
}

TEST(TrainSettings, ConfigThatIsNoRegularFileAndBadFlagsExitTwo) {
  auto out = run_cli("train --config /dev/zero");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out.text, "'/dev/zero' is not a regular file")) << out.text;
  // CLI11's own parse errors used to exit 105–109.
  for (const char* flags : {"--epochs abc", "--backend gpu", "--config"}) {
    out = run_cli(std::string("train ") + flags);
    EXPECT_EQ(out.status, 2) << flags << "\n" << out.text;
  }
  EXPECT_EQ(run_cli("train --help").status, 0);
}

TEST(RunDirectory, SecondTrainerOnTheSameRunIsRefusedWithTheHoldersPid) {
  const auto dir = fresh_dir("locked");
  {
    const RunDirectoryLock held((dir / "r").string());
    const auto out = run_cli("train --dir " + dir.string() + " --name r --stop-after-steps 1" + kTiny);
    EXPECT_EQ(out.status, 2) << out.text;
    EXPECT_TRUE(has(out.text, "is in use by another training process (PID " + std::to_string(getpid()) + ")"))
        << out.text;
    EXPECT_FALSE(fs::exists(dir / "r" / "config.json")) << "the refused trainer wrote into the run";
  }
  // Released: the run can start.
  const auto out = run_cli("train --dir " + dir.string() + " --name r --stop-after-steps 1" + kTiny);
  EXPECT_EQ(out.status, 0) << out.text;
  fs::remove_all(dir);
}

TEST(RunDirectory, StaleTemporaryFilesAreRemovedOnResume) {
  const auto dir = fresh_dir("stale");
  const std::string run = (dir / "r").string();
  ASSERT_EQ(run_cli("train --dir " + dir.string() + " --name r --stop-after-steps 1" + kTiny).status, 0);
  for (const char* f : {"last.safetensors.tmp.Ab12Cd", "metrics.jsonl.tmp.xY9zQ1", "notes.tmp.txt"})
    std::ofstream(run + "/" + f) << "left by a killed writer";
  const auto out = run_cli("train --resume " + run + " --stop-after-steps 1");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_FALSE(fs::exists(run + "/last.safetensors.tmp.Ab12Cd"));
  EXPECT_FALSE(fs::exists(run + "/metrics.jsonl.tmp.xY9zQ1"));
  EXPECT_TRUE(fs::exists(run + "/notes.tmp.txt")) << "not a temporary file of ours";
  fs::remove_all(dir);
}

TEST(RunDirectory, UnwritableRunDirectoryFailsBeforeTheDataIsRead) {
  const auto dir = fresh_dir("unwritable");
  std::ofstream(dir / "blocker") << "a file where the runs directory should be";
  const auto out = run_cli("train --dir " + (dir / "blocker").string() + " --name r" + kTiny);
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out.text, "cannot create the run directory '" + (dir / "blocker" / "r").string()))
      << out.text;
  EXPECT_FALSE(has(out.text, "training images")) << "the data was read before the directory was checked";
  fs::remove_all(dir);
}

TEST(RunDirectory, ResumeWithAnotherThreadCountIsRefusedUnlessAllowed) {
  const auto dir = fresh_dir("threads");
  const std::string run = (dir / "r").string();
  ASSERT_EQ(
      run_cli("train --dir " + dir.string() + " --name r --threads 1 --stop-after-steps 1" + kTiny).status,
      0);
  auto out = run_cli("train --resume " + run + " --threads 2 --stop-after-steps 1");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out.text, "was trained with 1 threads and would resume with 2")) << out.text;
  out = run_cli("train --resume " + run + " --threads 2 --allow-thread-change --stop-after-steps 1");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(has(out.text, "will not be bit-identical")) << out.text;
  out = run_cli("train --resume " + run + " --threads 2 --stop-after-steps 1");  // now the run's count
  EXPECT_EQ(out.status, 0) << out.text;
  fs::remove_all(dir);
}

TEST(RunDirectory, DivergenceBeforeTheFirstCheckpointSaysNoneWasSaved) {
  const auto dir = fresh_dir("diverged");
  const auto out = run_cli("train --dir " + dir.string() + " --name r --lr 1e8 --epochs 2" + kTiny);
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out.text, "diverged")) << out.text;
  EXPECT_TRUE(has(out.text, "No checkpoint was saved before it diverged")) << out.text;
  EXPECT_FALSE(has(out.text, "last good checkpoint is kept")) << out.text;
  EXPECT_FALSE(fs::exists(dir / "r" / "last.safetensors"));
  fs::remove_all(dir);
}

// The README's folder example: one split, a validation share held out. The final report read ten class
// names from a one-class placeholder (a segfault).
TEST(RunDirectory, FolderWithAValidationShareReportsItsFinalEvaluation) {
  const auto dir = fresh_dir("valsplit");
  for (int c = 0; c < 10; ++c)
    for (int i = 0; i < 8; ++i) {
      data::Image image;
      image.resize(1, 12, 12);
      for (size_t p = 0; p < image.pixels.size(); ++p)
        image.pixels[p] = static_cast<uint8_t>(c * 20 + (p + i) % 7);
      fs::create_directories(dir / "images" / ("class" + std::to_string(c)));
      data::write_png(
          (dir / "images" / ("class" + std::to_string(c)) / (std::to_string(i) + ".png")).string(), image);
    }
  const auto out =
      run_cli("train --dir " + dir.string() + " --name r --dataset folder:" + (dir / "images").string() +
              " --set data.image_size=12 --set data.val_fraction=0.25 --epochs 1 --batch-size 8"
              " --set run.plots=false");
  ASSERT_EQ(out.status, 0) << out.text;
  std::ifstream summary_file(dir / "r" / "summary.json"), metrics_file(dir / "r" / "metrics.jsonl");
  const auto summary = nlohmann::json::parse(summary_file);
  std::string line;
  std::getline(metrics_file, line);
  const auto epoch = nlohmann::json::parse(line);
  EXPECT_EQ(summary["final_set"], "validation");
  EXPECT_EQ(summary["final_top1"], epoch["eval_acc"]) << "the report is the last validation pass";
  EXPECT_EQ(summary["per_class_accuracy"].size(), 10u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::train
