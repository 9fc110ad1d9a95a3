// Helpers of the ONNX tests: formula-filled zoo models, the CLI, temporary directories.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "fixture_fill.h"
#include "resnet/models/registry.h"

namespace resnet::testing {

namespace fs = std::filesystem;

struct CliOutput {
  int status = -1;
  std::string text;  // stdout + stderr
};

inline CliOutput run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  CliOutput out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.text.append(buf.data(), n);
  const int status = pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline CliOutput run_cli(const std::string& args) {
  return run_command(std::string(RESNET_CLI_PATH) + " " + args);
}

inline fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("resnet_onnx_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A zoo model with every parameter and BN statistic from the fixture formula (non-trivial BN statistics,
// so that folding and epsilon handling are exercised), in eval mode.
inline std::unique_ptr<models::ResNet> filled_model(const std::string& name, int64_t classes = 0) {
  auto model = models::create_model(name, classes);
  fill_module(*model);
  model->eval();
  return model;
}

inline std::unique_ptr<models::ResNet> filled_model(const models::ResNetSpec& spec) {
  auto model = std::make_unique<models::ResNet>(spec);
  fill_module(*model);
  model->eval();
  return model;
}

// The logits as an owned copy (a module's output buffer is reused by the next forward).
inline Tensor logits_of(models::ResNet& model, const Tensor& x) {
  return model.forward(x).clone(Layout::contiguous);
}

}  // namespace resnet::testing
