// Issue 23: `resnet --version` names the program and the library's version (the CMake project version)
// and exits 0, as --help does; it wins over a missing or later subcommand.
#include <gtest/gtest.h>

#include <string>

#include "cli_util.h"
#include "resnet/version.h"

namespace resnet::testing {
namespace {

TEST(VersionCli, PrintsTheProjectVersionAndExitsZero) {
  const auto out = run_cli("--version");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_EQ(out.text, std::string("resnet.cpp ") + resnet::version() + "\n");
  EXPECT_EQ(std::string(resnet::version()), "0.1.0");  // project(resnet_cpp VERSION 0.1.0)
}

TEST(VersionCli, IsListedInHelpAndUnknownFlagsStillFail) {
  const auto help = run_cli("--help");
  EXPECT_EQ(help.status, 0) << help.text;
  EXPECT_NE(help.text.find("--version"), std::string::npos) << help.text;
  const auto bad = run_cli("--versoin");
  EXPECT_EQ(bad.status, 2) << bad.text;
}

}  // namespace
}  // namespace resnet::testing
