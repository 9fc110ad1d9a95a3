// Issue 23: short budgets work. A one-epoch run of a config whose warm-up is one epoch (the demo's, with
// `--epochs 1`) used to stop with "the cosine schedule needs more steps than warm-up steps"; the warm-up
// is now at most half the run, and the run says so.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_util.h"

namespace resnet::testing {
namespace {

namespace fs = std::filesystem;

TEST(ShortBudgetCli, WarmUpLongerThanTheRunIsShortened) {
  const fs::path dir = fresh_dir("short_budget");
  const auto out = run_cli("train --dir " + dir.string() +
                           " --name r --epochs 1 --batch-size 64 --set data.train_limit=256 "
                           "--set data.test_limit=64 --set run.plots=false --set schedule.kind=cosine "
                           "--set schedule.warmup_epochs=1");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("warm-up shortened from 4 to 2 steps"), std::string::npos) << out.text;
  EXPECT_TRUE(fs::exists(dir / "r" / "last.safetensors")) << out.text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
