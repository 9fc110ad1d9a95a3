// The crash-test harness: SIGKILL a small training run at chosen and random moments — at every file write of
// its last epoch, at random crash points (io/atomic_file.h: half-written files, written-but-not-renamed,
// renamed, after a step) and at random wall-clock times — then recover it the way a user would (resume it,
// or start it again when it died before its first checkpoint) and check that every checkpoint loads and
// that the run ends bit-identical to one that was never interrupted: the same weights in last and best,
// the same metrics, and a summary whose best epoch is the one best.safetensors holds.
//
// RESNET_CRASH_TEST_KILLS=N sets the number of random kills (default 4; scripts/crash_test.sh runs more).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/checkpoint.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// 2 epochs of 4 steps, a checkpoint every 3 steps (so one inside an epoch), plots on: every kind of file a
// run writes, in about a second.
std::string train_args(const fs::path& dir, const std::string& name) {
  return "train --dir " + dir.string() + " --name " + name +
         " --epochs 2 --batch-size 32 --set data.train_limit=128 --set data.test_limit=64"
         " --set run.eval_batch_size=64 --set run.checkpoint_every=3 --set model.width_multiplier=0.25"
         " --set schedule.warmup_epochs=0.5";
}

// Runs the tool with `env` (VAR=value …) in front.
resnet::testing::CliOutput run_with(const std::string& env, const std::string& args) {
  return resnet::testing::run_cli_env(env, args);
}
// Killed by SIGKILL: -1 when the shell exec'd the tool, 128 + 9 when it reports its child's death.
bool killed(const resnet::testing::CliOutput& out) {
  return out.status == -1 || out.status == 137;
}

struct CrashPoint {
  long index;
  std::string what;
};

std::vector<CrashPoint> read_trace(const fs::path& file) {
  std::vector<CrashPoint> points;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    points.push_back({std::stol(line.substr(0, space)), line.substr(space + 1)});
  }
  return points;
}

std::vector<json> read_metrics(const fs::path& file) {
  std::vector<json> records;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    json r = json::parse(line);
    r.erase("seconds");  // timings differ between runs; everything else must not
    r.erase("img_per_s");
    records.push_back(r);
  }
  return records;
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

void expect_same_tensors(const fs::path& a, const fs::path& b) {
  const auto fa = io::load_safetensors(a.string()), fb = io::load_safetensors(b.string());
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size()) << b;
  for (const auto& [name, ta] : fa.tensors) {
    const Tensor& tb = fb.at(name);
    ASSERT_EQ(ta.nbytes(), tb.nbytes()) << name;
    ASSERT_EQ(std::memcmp(ta.raw(), tb.raw(), ta.nbytes()), 0) << b << ": " << name << " differs";
  }
}

// Every checkpoint in `run` loads (none is torn), whatever moment the kill came at.
void expect_loadable_checkpoints(const fs::path& run) {
  for (const char* f : {"last.safetensors", "best.safetensors", "best.next.safetensors"})
    if (fs::exists(run / f)) EXPECT_NO_THROW(models::load_checkpoint((run / f).string())) << run / f;
}

// A recovered run against the uninterrupted one.
void expect_same_outcome(const fs::path& reference, const fs::path& run, const std::string& context) {
  SCOPED_TRACE(context);
  expect_same_tensors(reference / "last.safetensors", run / "last.safetensors");
  expect_same_tensors(reference / "best.safetensors", run / "best.safetensors");
  const auto best_epoch = [](const fs::path& f) {
    return io::load_safetensors(f.string()).metadata.at("epoch");
  };
  EXPECT_EQ(best_epoch(reference / "best.safetensors"), best_epoch(run / "best.safetensors"));
  const json a = read_json(reference / "summary.json"), b = read_json(run / "summary.json");
  for (const char* k : {"best_epoch", "best_eval_acc", "final_top1", "final_loss", "epochs", "steps"})
    EXPECT_EQ(a[k], b[k]) << k;
  EXPECT_EQ(b["best_epoch"].dump(), best_epoch(run / "best.safetensors")) << "summary and best disagree";
  EXPECT_EQ(read_metrics(reference / "metrics.jsonl"), read_metrics(run / "metrics.jsonl"));
  for (const char* f : {"metrics.csv", "curves.png", "confusion.png", "config.json"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  EXPECT_FALSE(fs::exists(run / "best.next.safetensors"));
  for (const auto& entry : fs::directory_iterator(run))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

// Brings a killed run to its end as a user would: resume it, or train it again when it died before its
// first checkpoint. Each attempt may itself be killed by `env` (only the first attempt gets it).
void recover(const fs::path& dir, const std::string& name, std::string env = "") {
  const fs::path run = dir / name;
  for (int attempt = 0; attempt < 6; ++attempt) {
    expect_loadable_checkpoints(run);
    const auto out = fs::exists(run / "last.safetensors") ? run_with(env, "train --resume " + run.string())
                                                          : run_with(env, train_args(dir, name));
    env.clear();
    if (out.status == 0) return;
    ASSERT_TRUE(killed(out)) << "only a kill may stop a recovery:\n" << out.text;
  }
  FAIL() << "the run did not finish after 6 attempts";
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = resnet::testing::fresh_dir(
        "crash_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    const auto out =
        run_with("RESNET_CRASH_TRACE=" + (dir_ / "trace.txt").string(), train_args(dir_, "reference"));
    ASSERT_EQ(out.status, 0) << out.text;
    points_ = read_trace(dir_ / "trace.txt");
    ASSERT_GT(points_.size(), 40u);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Kills a fresh run at crash point `k`, recovers it, compares it with the reference.
  void kill_at_point_and_recover(const CrashPoint& point, const std::string& name) {
    const auto out = run_with("RESNET_CRASH_AT=" + std::to_string(point.index), train_args(dir_, name));
    ASSERT_TRUE(killed(out)) << "crash point " << point.index << " (" << point.what << ") never came:\n"
                             << out.text;
    recover(dir_, name);
    expect_same_outcome(dir_ / "reference", dir_ / name,
                        "killed at crash point " + std::to_string(point.index) + ": " + point.what);
    fs::remove_all(dir_ / name);
  }

  fs::path dir_;
  std::vector<CrashPoint> points_;
};

// The crash points after the last training step, where the files of the run's end commit: the staged
// best, the last checkpoint and the best's publication at each of their crash points, and every other file
// (metrics, curves, confusion matrix, summary) half written. RESNET_CRASH_TEST_ALL=1 takes all of them
// (about 25).
TEST_F(CrashTest, EveryWriteAfterTheLastStepRecovers) {
  const bool all = std::getenv("RESNET_CRASH_TEST_ALL") != nullptr;
  size_t last_step = 0;
  for (size_t i = 0; i < points_.size(); ++i)
    if (points_[i].what.rfind("after training step", 0) == 0) last_step = i;
  std::set<std::string> files;
  int kills = 0;
  for (size_t i = last_step + 1; i < points_.size(); ++i) {
    const std::string& what = points_[i].what;
    const bool commit = what.find("safetensors") != std::string::npos;
    if (!all && !commit && what.rfind("half written", 0) != 0) continue;
    files.insert(fs::path(what.substr(what.rfind(' ') + 1)).filename().string());
    kill_at_point_and_recover(points_[i], "p" + std::to_string(points_[i].index));
    ++kills;
  }
  std::printf(
      "killed and recovered %d runs among the %zu crash points after the last step (of %zu in the run)\n",
      kills, points_.size() - last_step - 1, points_.size());
  for (const char* f : {"best.next.safetensors", "last.safetensors", "best.safetensors", "metrics.jsonl",
                        "metrics.csv", "curves.png", "confusion.png", "summary.json"})
    EXPECT_TRUE(files.count(f)) << f << " was not among the crash points";
}

// Random crash points anywhere in the run, and random wall-clock kills from outside, whose recovery is
// itself killed once at a random crash point.
TEST_F(CrashTest, RandomKillsRecoverBitIdentically) {
  const char* env = std::getenv("RESNET_CRASH_TEST_KILLS");
  const int kills = env ? std::atoi(env) : 4;
  std::mt19937 rng(env ? static_cast<unsigned>(std::time(nullptr)) : 2026u);
  std::uniform_int_distribution<size_t> any_point(0, points_.size() - 1);
  for (int i = 0; i < kills; ++i) {
    const std::string name = "r" + std::to_string(i);
    if (i % 2 == 0) {
      kill_at_point_and_recover(points_[any_point(rng)], name);
      continue;
    }
    // From outside, at a random moment of the run (which takes one to a few seconds here).
    const int delay_ms = std::uniform_int_distribution<int>(50, 2500)(rng);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const std::string cmd =
          std::string(RESNET_CLI_PATH) + " " + train_args(dir_, name) + " > /dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const long second = static_cast<long>(any_point(rng) / 2 + 1);
    recover(dir_, name, "RESNET_CRASH_AT=" + std::to_string(second));
    expect_same_outcome(dir_ / "reference", dir_ / name,
                        "killed after " + std::to_string(delay_ms) + " ms, recovery killed at point " +
                            std::to_string(second));
    fs::remove_all(dir_ / name);
  }
  std::printf("killed and recovered %d runs, half at random crash points, half at random moments\n", kills);
}

}  // namespace
}  // namespace resnet::train
