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

// The command exits 2 naming the flag (or setting) and a valid choice, and nothing else it was given.
void expect_refused(const std::string& args, const std::string& flag, const std::string& choice) {
  const auto out = run_cli(args);
  EXPECT_EQ(out.status, 2) << args << ": " << out.text;
  EXPECT_TRUE(has(out, flag)) << args << ": " << out.text;
  EXPECT_TRUE(has(out, choice)) << args << ": " << out.text;
  EXPECT_FALSE(has(out, "/nonexistent")) << args << ": " << out.text;
}

TEST(NamesCheckedFirstCli, TrainPrintConfigRefusesUnknownNames) {
  expect_refused("train --print-config --model resnet21", "--model", "resnet20");
  expect_refused("train --print-config --dataset cifar11:/tmp", "--dataset", "cifar10:DIR");
  expect_refused("train --print-config --set 'data.train_transforms=[\"hflipp\"]'", "data.train_transforms",
                 "hflip");
  // Valid names still print the config.
  const auto out = run_cli(
      "train --print-config --model resnet32 --set 'data.train_transforms=[\"hflip\", \"normalize\"]'");
  EXPECT_EQ(out.status, 0) << out.text;
}

TEST(NamesCheckedFirstCli, OtherCommandsRefuseUnknownNamesBeforeReadingFiles) {
  // The checkpoint does not exist: the data set is refused first, so the message is about --dataset.
  for (const std::string command : {"eval", "quantize"})
    expect_refused(command + " --checkpoint /nonexistent/run --dataset cifar11:/tmp", "--dataset",
                   "cifar10:DIR");
  expect_refused("summary --model resnet21", "--model", "resnet20");
  expect_refused("images --dataset fashion-mnst --out /nonexistent/images", "--dataset", "fashion-mnist");
}

}  // namespace
}  // namespace resnet::testing
