// Running the `resnet` tool from tests as a user would: a shell command line, its exit code and output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace resnet::testing {

struct CliOutput {
  int status = -1;   // exit code (-1 when killed by a signal)
  std::string text;  // stdout + stderr
};

// Runs the shell command `cmd`: its exit code and stdout.
inline CliOutput run_shell(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  CliOutput out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.text.append(buf.data(), n);
  const int status = pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// `args` are appended to the tool's path and run by the shell (quote what needs it); `env` (VAR=value …)
// goes in front of it.
inline CliOutput run_cli_env(const std::string& env, const std::string& args) {
  return run_shell(env + " " + std::string(RESNET_CLI_PATH) + " " + args + " 2>&1");
}
inline CliOutput run_cli(const std::string& args) {
  return run_cli_env("", args);
}

// As run_cli, with stdout and stderr apart: what a script reads (`--json`) and what a person reads.
struct CliStreams {
  int status = -1;
  std::string out, err;
};
inline CliStreams run_cli_streams(const std::string& args) {
  const auto err_file =
      std::filesystem::temp_directory_path() / ("resnet_cli_stderr_" + std::to_string(getpid()) + ".txt");
  const CliOutput out = run_shell(std::string(RESNET_CLI_PATH) + " " + args + " 2>" + err_file.string());
  CliStreams streams{out.status, out.text, {}};
  if (FILE* f = std::fopen(err_file.c_str(), "r")) {
    std::array<char, 4096> buf;
    while (size_t n = std::fread(buf.data(), 1, buf.size(), f)) streams.err.append(buf.data(), n);
    std::fclose(f);
  }
  std::filesystem::remove(err_file);
  return streams;
}

// An empty directory under the system's temporary directory, unique to this process and `name`.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("resnet_cli_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace resnet::testing
