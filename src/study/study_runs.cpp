#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "resnet/core/check.h"
#include "resnet/core/parallel.h"
#include "resnet/io/atomic_file.h"
#include "resnet/models/checkpoint.h"
#include "resnet/models/registry.h"
#include "resnet/study/studies.h"
#include "resnet/train/trainer.h"

namespace fs = std::filesystem;

namespace resnet::study {
namespace {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UserError("cannot read '" + path + "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + path + "' is not valid JSON (" + e.what() +
                    "): it was damaged; delete its run directory");
  }
}

// What decides a run's trajectory: everything but the run section's housekeeping and the loader's
// threading (which results do not depend on). The seed, backend and precision are kept: bf16 rounds
// differently from fp32. A run stores the image size and transforms it resolved from the data set
// (train::resolve_inputs); where `requested` leaves them to the data set ("auto"), they are not compared.
nlohmann::json trajectory_settings(nlohmann::json config, const nlohmann::json& requested) {
  nlohmann::json run;
  for (const char* key : {"seed", "backend", "precision"})
    if (config["run"].contains(key)) run[key] = config["run"][key];
  config["run"] = run;
  config["data"].erase("workers");
  config["data"].erase("prefetch");
  const nlohmann::json& data = requested.at("data");
  for (const char* key : {"train_transforms", "eval_transforms"})
    if (data.value(key, nlohmann::json::array()).empty()) config["data"].erase(key);
  if (data.value("image_size", 0) == 0) config["data"].erase("image_size");
  return config;
}

}  // namespace

std::string cifar_model_name(bool residual, int depth) {
  const std::string name = std::string(residual ? "resnet" : "plain") + std::to_string(depth);
  std::string depths;
  for (const auto& m : models::registered_models()) {
    if (m.name == name) return name;
    const std::string prefix = residual ? "resnet" : "plain";
    if (m.name.rfind(prefix, 0) == 0 && m.default_size == 32)
      depths += (depths.empty() ? "" : ", ") + m.name.substr(prefix.size());
  }
  throw UserError("the zoo has no " + std::string(residual ? "CIFAR ResNet" : "CIFAR plain net") +
                  " of depth " + std::to_string(depth) + " (depths: " + depths +
                  "; `resnet models` lists them)");
}

int train_or_reuse(const train::Config& config) {
  const std::string dir = train::run_directory(config);
  if (!fs::exists(dir + "/last.safetensors")) return train::train(config).exit_code;
  const nlohmann::json stored = read_json_file(dir + "/config.json");
  if (trajectory_settings(stored, config) != trajectory_settings(config, config))
    throw UserError("'" + dir + "' holds a run with another recipe than this study's (" + dir +
                    "/config.json differs): choose another --out, or delete '" + dir + "' to train it again");
  const models::Checkpoint last = models::load_checkpoint(dir, /*prefer_last=*/true);
  if (last.state.value("finished", false) && fs::exists(dir + "/summary.json")) {
    std::fprintf(stderr, "%s: finished run found, reusing it\n", dir.c_str());
    return 0;
  }
  std::fprintf(stderr, "%s: continuing the interrupted run\n", dir.c_str());
  train::Config overrides = {{"run", {{"threads", config["run"]["threads"]}}}};
  return train::resume(dir, overrides).exit_code;
}

RunRecord read_run(const std::string& run_dir) {
  const models::Checkpoint last = models::load_checkpoint(run_dir, /*prefer_last=*/true);
  return {last.state, last.card, read_json_file(run_dir + "/summary.json")};
}

nlohmann::json machine_description() {
  std::string cpu = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  return {{"cpu", cpu}, {"threads", num_threads()}};
}

void write_study_summary(const std::string& out_dir, const std::string& study, const train::Config& recipe,
                         const std::vector<int>& depths, const nlohmann::json& results, double wall_seconds) {
  nlohmann::json summary = {{"study", study},
                            {"dataset", train::settings_of(recipe).data.dataset},
                            {"depths", depths},
                            {"recipe",
                             {{"optim", recipe.at("optim")},
                              {"schedule", recipe.at("schedule")},
                              {"data", recipe.at("data")},
                              {"precision", recipe.at("run").at("precision")},
                              {"seed", recipe.at("run").at("seed")}}},
                            {"machine", machine_description()},
                            {"wall_seconds_this_invocation", wall_seconds}};
  summary.update(results);
  io::write_text_atomically(out_dir + "/summary.json", summary.dump(2) + "\n");
}

}  // namespace resnet::study
