// Issue 23: names are checked before any work. An unknown model, data set or transform is refused with
// exit 2 and a message naming the flag and the valid choices, before any file or data is read.
#include <gtest/gtest.h>

#include <string>

#include "cli_util.h"

namespace resnet::testing {
namespace {

bool has(const CliOutput& out, const std::string& text) {
  return out.text.find(text) != std::string::npos;
}

TEST(NamesCheckedFirstCli, TrainPrintConfigRefusesUnknownNames) {
  auto out = run_cli("train --print-config --model resnet21");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "--model")) << out.text;
  EXPECT_TRUE(has(out, "resnet20")) << out.text;
  out = run_cli("train --print-config --dataset cifar11:/tmp");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "--dataset")) << out.text;
  EXPECT_TRUE(has(out, "cifar10:DIR")) << out.text;
  out = run_cli("train --print-config --set 'data.train_transforms=[\"hflipp\"]'");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "data.train_transforms")) << out.text;
  EXPECT_TRUE(has(out, "hflip")) << out.text;
  // Valid names still print the config.
  out = run_cli(
      "train --print-config --model resnet32 --set 'data.train_transforms=[\"hflip\", \"normalize\"]'");
  EXPECT_EQ(out.status, 0) << out.text;
}

TEST(NamesCheckedFirstCli, OtherCommandsRefuseUnknownNamesBeforeReadingFiles) {
  // The checkpoint does not exist: the data set is refused first, so the message is about --dataset.
  for (const std::string command : {"eval", "quantize"}) {
    const auto out = run_cli(command + " --checkpoint /nonexistent/run --dataset cifar11:/tmp");
    EXPECT_EQ(out.status, 2) << command << ": " << out.text;
    EXPECT_TRUE(has(out, "--dataset")) << out.text;
    EXPECT_TRUE(has(out, "cifar10:DIR")) << out.text;
    EXPECT_FALSE(has(out, "/nonexistent")) << out.text;
  }
  auto out = run_cli("summary --model resnet21");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "--model")) << out.text;
  EXPECT_TRUE(has(out, "resnet20")) << out.text;
  out = run_cli("images --dataset fashion-mnst --out /nonexistent/images");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_TRUE(has(out, "--dataset")) << out.text;
  EXPECT_TRUE(has(out, "fashion-mnist")) << out.text;
}

}  // namespace
}  // namespace resnet::testing
