// `resnet study degradation`: plain and residual nets of several depths, one recipe; the paper's Fig. 6.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "resnet/core/check.h"
#include "resnet/data/sources.h"
#include "resnet/io/atomic_file.h"
#include "resnet/study/studies.h"
#include "resnet/train/progress.h"
#include "resnet/train/trainer.h"
#include "resnet/viz/chart.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace resnet::study {
namespace {

// The paper's CIFAR recipe (Sec. 4.2) at the study's budget: SGD, momentum 0.9, weight decay 1e-4,
// batch 128, lr 0.1 divided by 10 at 50 % and 75 % of training, the trainer's default augmentation.
train::Config degradation_recipe(const DegradationOptions& o) {
  train::Config config = train::default_config();
  json recipe = {{"data", {{"dataset", o.dataset}}},
                 {"optim",
                  {{"batch_size", 128},
                   {"lr", 0.1},
                   {"momentum", 0.9},
                   {"nesterov", false},
                   {"weight_decay", 1e-4},
                   {"label_smoothing", 0.0}}},
                 {"schedule", {{"kind", "multistep"}, {"gamma", 0.1}}},
                 {"run",
                  {{"dir", o.out_dir},
                   {"seed", o.seed},
                   {"threads", o.threads},
                   {"precision", o.precision},
                   {"log_every_steps", o.log_every_steps}}}};
  if (o.full) {
    recipe["optim"]["steps"] = 64000;
    recipe["schedule"]["milestone_steps"] = {32000, 48000};
  } else if (o.steps > 0) {
    recipe["optim"]["steps"] = o.steps;
    recipe["schedule"]["milestone_steps"] = {o.steps / 2, o.steps * 3 / 4};
  } else {
    if (o.epochs <= 0) throw UserError("--epochs must be positive");
    recipe["optim"]["epochs"] = o.epochs;
    recipe["schedule"]["milestones"] = {0.5 * static_cast<double>(o.epochs),
                                        0.75 * static_cast<double>(o.epochs)};
  }
  train::merge_config(config, recipe, "study");
  for (const auto& assignment : o.set) train::set_config_value(config, assignment);
  int64_t eval_every = o.eval_every_steps;
  if (eval_every == 0) {  // twice an epoch: the training set's size decides what an epoch is
    const train::Settings s = train::settings_of(config);
    const auto sources = data::open_data_sources(s.data.dataset, {.val_fraction = s.data.val_fraction,
                                                                  .split_seed = o.seed,
                                                                  .channels = s.data.channels,
                                                                  .train_limit = s.data.train_limit,
                                                                  .test_limit = s.data.test_limit});
    const int64_t batches = sources.train->size() / s.optim.batch_size;
    eval_every = std::max<int64_t>(1, batches / 2);
  }
  config["run"]["eval_every_steps"] = eval_every;
  return config;
}

struct Curve {
  std::vector<double> train_x, train_err, test_x, test_err;
};

Curve curves_of(const RunRecord& run) {
  Curve c;
  std::map<int64_t, std::pair<double, double>> tests;  // step → (epoch, error)
  for (const auto& r : run.state.at("step_history")) {
    if (r.contains("train_acc"))
      c.train_x.push_back(r["epoch"].get<double>()),
          c.train_err.push_back(100.0 - r["train_acc"].get<double>());
    if (r.contains("eval_acc"))
      tests[r["step"].get<int64_t>()] = {r["epoch"].get<double>(), 100.0 - r["eval_acc"].get<double>()};
  }
  const double batches = static_cast<double>(run.state.at("total_steps").get<int64_t>()) /
                         std::max<double>(1.0, run.state.at("epochs").get<double>());
  for (const auto& r : run.state.at("history")) {
    const int64_t step = r["step"];
    tests[step] = {static_cast<double>(step) / batches, 100.0 - r["eval_acc"].get<double>()};
  }
  for (const auto& [step, point] : tests) c.test_x.push_back(point.first), c.test_err.push_back(point.second);
  return c;
}

// The training error at the end: the mean of the windows in the last tenth of training (an epoch's running
// error would, at a one-epoch budget, average in the first iterations too); the last epoch's running
// error when no window was recorded there.
double final_training_error(const RunRecord& run, const Curve& c) {
  if (!c.train_x.empty()) {
    const double from = 0.9 * c.train_x.back();
    double sum = 0;
    int count = 0;
    for (size_t k = 0; k < c.train_x.size(); ++k)
      if (c.train_x[k] >= from) sum += c.train_err[k], ++count;
    if (count > 0) return sum / count;
  }
  return 100.0 - run.state.at("history").back()["train_acc"].get<double>();
}

std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int run_degradation_study(const DegradationOptions& o) {
  if (o.depths.size() < 2)
    throw UserError("a degradation study compares at least two depths (--depths 20,56)");
  std::vector<int> depths = o.depths;
  std::sort(depths.begin(), depths.end());
  depths.erase(std::unique(depths.begin(), depths.end()), depths.end());
  for (int d : depths) cifar_model_name(true, d), cifar_model_name(false, d);  // validate before training
  const auto wants = [&](const char* kind) {
    return std::find(o.kinds.begin(), o.kinds.end(), kind) != o.kinds.end();
  };
  for (const auto& k : o.kinds)
    if (k != "plain" && k != "residual")
      throw UserError("--kinds takes plain and residual (comma-separated), not '" + k + "'");
  const bool with_plain = wants("plain"), with_residual = wants("residual");
  if (!with_plain && !with_residual) throw UserError("--kinds needs plain, residual or both");

  const train::Config recipe = degradation_recipe(o);
  fs::create_directories(o.out_dir);
  const auto start = std::chrono::steady_clock::now();
  struct Net {
    std::string name;
    bool residual;
    int depth;
  };
  std::vector<Net> nets;
  for (bool residual : {false, true})
    if (residual ? with_residual : with_plain)
      for (int d : depths) nets.push_back({cifar_model_name(residual, d), residual, d});
  for (size_t i = 0; i < nets.size(); ++i) {
    std::fprintf(stderr, "\n== study degradation: network %zu/%zu, %s ==\n", i + 1, nets.size(),
                 nets[i].name.c_str());
    train::Config config = recipe;
    config["model"]["name"] = nets[i].name;
    config["run"]["name"] = nets[i].name;
    const int code = train_or_reuse(config);
    if (code != 0) {
      std::fprintf(stderr, "Study interrupted; run the same command again to continue where it stopped.\n");
      return code;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The comparison.
  std::string csv = "network,kind,depth,epoch,train_error,test_error\n";
  json per_net = json::array();
  viz::Panel plain{.title = "plain networks", .x_label = "epoch", .y_label = "error (%)"};
  viz::Panel residual{.title = "residual networks", .x_label = "epoch", .y_label = "error (%)"};
  std::map<std::string, double> final_train, final_test;
  double y_max = 0;
  for (size_t i = 0; i < nets.size(); ++i) {
    const Net& n = nets[i];
    const RunRecord run = read_run(o.out_dir + "/" + n.name);
    const Curve c = curves_of(run);
    const char* kind = n.residual ? "residual" : "plain";
    for (size_t k = 0; k < c.train_x.size(); ++k)
      csv += n.name + "," + kind + "," + std::to_string(n.depth) + "," + fixed(c.train_x[k], 4) + "," +
             fixed(c.train_err[k], 4) + ",\n";
    for (size_t k = 0; k < c.test_x.size(); ++k)
      csv += n.name + "," + kind + "," + std::to_string(n.depth) + "," + fixed(c.test_x[k], 4) + ",," +
             fixed(c.test_err[k], 4) + "\n";
    const double train_err = final_training_error(run, c);
    const double test_err = 100.0 - run.summary.at("final_top1").get<double>();
    double best_test = 100;
    for (double e : c.test_err) best_test = std::min(best_test, e);
    final_train[n.name] = train_err, final_test[n.name] = test_err;
    per_net.push_back({{"network", n.name},
                       {"kind", kind},
                       {"depth", n.depth},
                       {"parameters", run.summary.at("parameters")},
                       {"final_train_error", train_err},
                       {"final_test_error", test_err},
                       {"best_test_error", best_test},
                       {"train_seconds", run.summary.at("train_seconds")},
                       {"train_img_per_s", run.summary.at("train_img_per_s")}});
    // Fig. 6: thin lines training error, bold lines test error, one colour per depth.
    const int color = static_cast<int>(std::find(depths.begin(), depths.end(), n.depth) - depths.begin());
    viz::Panel& panel = n.residual ? residual : plain;
    const std::string label = std::string(n.residual ? "ResNet-" : "plain-") + std::to_string(n.depth);
    panel.series.push_back({.label = "", .x = c.train_x, .y = c.train_err, .color = color, .width = 1.0});
    panel.series.push_back({.label = label,
                            .x = c.test_x,
                            .y = c.test_err,
                            .color = color,
                            .width = 3.0,
                            .markers = c.test_x.size() < 12});
    for (double e : c.test_err) y_max = std::max(y_max, e);
    // Early training error runs off the scale the comparison lives on; the paper's figure clips too.
  }
  for (auto* p : {&plain, &residual}) p->y_min = 0, p->y_max = std::min(100.0, std::ceil(y_max * 1.5 + 1));
  const std::string dataset = train::settings_of(recipe).data.dataset;
  viz::Figure figure{
      .title = "Degradation on " + dataset + ": thin lines training error, bold lines test error",
      .width_px = with_plain && with_residual ? 1400 : 1000,  // one panel: still room for the title
      .height_px = 560};
  if (with_plain) figure.panels.push_back(plain);
  if (with_residual) figure.panels.push_back(residual);
  viz::save_png(figure, o.out_dir + "/degradation.png");
  io::write_text_atomically(o.out_dir + "/degradation.csv", csv);

  const std::string shallow = std::to_string(depths.front()), deep = std::to_string(depths.back());
  const bool plain_degrades = final_train["plain" + deep] > final_train["plain" + shallow];
  const bool residual_improves = final_train["resnet" + deep] < final_train["resnet" + shallow];
  // A verdict only for the kinds this study trained (null in the summary otherwise).
  const json plain_verdict = with_plain ? json(plain_degrades) : json(nullptr);
  const json residual_verdict = with_residual ? json(residual_improves) : json(nullptr);
  write_study_summary(o.out_dir, "degradation", recipe, depths,
                      {{"networks", per_net},
                       {"plain_deeper_trains_worse", plain_verdict},
                       {"residual_deeper_trains_better", residual_verdict}},
                      wall);

  std::printf(
      "\nDegradation study on %s (%s), final errors (%%; training error = the running error on the "
      "augmented batches of the last tenth of training):\n\n",
      dataset.c_str(), o.out_dir.c_str());
  std::printf("%-10s %6s %10s %11s %10s %10s %9s\n", "network", "depth", "params", "train err", "test err",
              "best test", "time");
  for (const auto& n : per_net)
    std::printf("%-10s %6d %10lld %11s %10s %10s %9s\n", n["network"].get<std::string>().c_str(),
                n["depth"].get<int>(), static_cast<long long>(n["parameters"].get<int64_t>()),
                fixed(n["final_train_error"]).c_str(), fixed(n["final_test_error"]).c_str(),
                fixed(n["best_test_error"]).c_str(), train::format_duration(n["train_seconds"]).c_str());
  std::printf("\n");
  // The verdicts compare training errors; the numbers go with them, since a margin of a tenth of a
  // point is within what another seed moves.
  const auto compare = [&](const std::string& prefix) {
    return " (training error " + fixed(final_train[prefix + deep]) + " vs " +
           fixed(final_train[prefix + shallow]) + " %)";
  };
  if (with_plain)
    std::printf("plain-%s trains %s than plain-%s%s: degradation %s%s", deep.c_str(),
                plain_degrades ? "worse" : "better", shallow.c_str(), compare("plain").c_str(),
                plain_degrades ? "shown" : "not shown at this budget", with_residual ? ";\n" : ".\n");
  if (with_residual)
    std::printf("ResNet-%s trains %s than ResNet-%s%s.\n", deep.c_str(),
                residual_improves ? "better" : "worse", shallow.c_str(), compare("resnet").c_str());
  std::printf("Wrote %s/{degradation.png,degradation.csv,summary.json}\n", o.out_dir.c_str());
  return 0;
}

}  // namespace resnet::study
