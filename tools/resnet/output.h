// What scripts read from the `resnet` tool (issue 23): `--json` prints exactly one JSON document on stdout
// and moves the human report to stderr; `--quiet` drops the human report and the progress bars (errors are
// still printed, by main). With neither flag the output is the human report, as it always was. One
// helper, so that every command that takes the flags means the same by them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "resnet/train/progress.h"

namespace resnet::cli {

class Output {
 public:
  // Registers --json and --quiet on `cmd`.
  void add_flags(CLI::App* cmd) {
    cmd->add_flag("--json", json_,
                  "Print one JSON document on stdout (the human report goes to stderr), for scripts");
    cmd->add_flag("--quiet", quiet_, "No report and no progress bars; errors are still printed");
  }
  // Call first when the command runs: --quiet switches the progress bars off (under --json they stay, on
  // stderr, with the rest of the human report).
  void begin() const {
    if (quiet_) train::set_progress_enabled(false);
  }
  bool json() const { return json_; }

  // The human report: stdout, or stderr under --json (stdout holds the JSON document), nothing under
  // --quiet.
  [[gnu::format(printf, 2, 3)]] void print(const char* format, ...) const {
    if (quiet_) return;
    va_list args;
    va_start(args, format);
    std::vfprintf(json_ ? stderr : stdout, format, args);
    va_end(args);
  }
  // What is under way ("Evaluating …"): stderr, unless --quiet.
  [[gnu::format(printf, 2, 3)]] void note(const char* format, ...) const {
    if (quiet_) return;
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
  }
  // The command's result as one JSON document on stdout, under --json only.
  void result(const nlohmann::json& document) const {
    if (!json_) return;
    std::fflush(stderr);
    std::printf("%s\n", document.dump(2).c_str());
    std::fflush(stdout);
  }

 private:
  bool json_ = false, quiet_ = false;
};

// One syntax for every list flag: `--mean 0.5 0.5 0.5` and `--mean 0.5,0.5,0.5` (and a mix) give the same
// list. Every list option of the tool is added through here.
template <typename T>
CLI::Option* add_list_option(CLI::App* cmd, const std::string& name, std::vector<T>& values,
                             const std::string& description) {
  return cmd->add_option(name, values, description + " (space- or comma-separated)")
      ->delimiter(',')
      ->expected(1, -1);
}

}  // namespace resnet::cli
