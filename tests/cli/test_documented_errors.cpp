// Every refusal docs/errors.md documents, run as written there: the exit status it states, and a message
// containing the text it quotes. RUN is a checkpoint written here, OUT a scratch directory. A row the
// parser cannot read fails the test, so the table and the tool cannot drift apart silently.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "cli/scripting_util.h"
#include "cli_util.h"

using namespace resnet::testing;

namespace {

struct Case {
  std::string command, message;
  int status = 0;
};

std::vector<Case> documented_cases() {
  std::ifstream in(RESNET_SOURCE_DIR "/docs/errors.md");
  EXPECT_TRUE(in) << "cannot read docs/errors.md";
  const std::regex row(R"(^\| `resnet ([^`]+)` \| (\d+) \| `([^`]+)` \|$)");
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("| `resnet ")) continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, row)) << "docs/errors.md: cannot read the row " << line;
    if (!m.empty()) cases.push_back({m[1], m[3], std::stoi(m[2])});
  }
  return cases;
}

std::string substituted(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

TEST(DocumentedErrors, EachRefusalHasItsStatusAndMessage) {
  const std::string out = fresh_dir("documented_errors").string();
  const std::string run = write_fashion_checkpoint(std::filesystem::path(out) / "model.safetensors");
  const std::vector<Case> cases = documented_cases();
  EXPECT_GE(cases.size(), 20u);
  for (const Case& c : cases) {
    const std::string command = substituted(substituted(c.command, "RUN", run), "OUT", out);
    SCOPED_TRACE(command);
    const auto r = run_cli(command);
    EXPECT_EQ(r.status, c.status) << r.text;
    EXPECT_NE(r.text.find(c.message), std::string::npos) << "the message lacks '" << c.message << "':\n"
                                                         << r.text;
  }
}

// An unknown --engine is refused before the checkpoint is opened or any data is read (it used to print
// "Evaluating …" and open the test set first).
TEST(DocumentedErrors, AnUnknownEngineIsRefusedBeforeAnyWork) {
  const std::string out = fresh_dir("engine_first").string();
  const std::string run = write_fashion_checkpoint(std::filesystem::path(out) / "model.safetensors");
  for (const std::string& command : {"eval --checkpoint " + run + " --engine fp64",
                                     "predict --checkpoint " + run + " --index 0 --engine fp64"}) {
    SCOPED_TRACE(command);
    const auto r = run_cli(command);
    EXPECT_EQ(r.status, 2) << r.text;
    EXPECT_EQ(r.text.find("Evaluating"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.rfind("error: unknown precision 'fp64'", 0), 0u)
        << "the refusal should be the only output:\n"
        << r.text;
  }
}

}  // namespace
