// `resnet study gradients`: per-layer gradient norms and residual-response std of plain and residual nets
// at initialisation and after a short training; the paper's Sec. 4.1 argument and Fig. 7.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "resnet/core/check.h"
#include "resnet/core/rng.h"
#include "resnet/data/loader.h"
#include "resnet/data/sources.h"
#include "resnet/data/transforms.h"
#include "resnet/io/atomic_file.h"
#include "resnet/models/checkpoint.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/study/layer_statistics.h"
#include "resnet/study/studies.h"
#include "resnet/train/progress.h"
#include "resnet/viz/chart.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace resnet::study {
namespace {

// The degradation study's recipe for `steps` iterations at a constant lr of 0.1 after a linear warm-up
// over the first tenth (the deepest plain nets need it to start at all).
train::Config gradient_recipe(const GradientOptions& o) {
  if (o.steps <= 0) throw UserError("--steps must be positive");
  if (o.measure_batches <= 0) throw UserError("--measure-batches must be positive");
  train::Config config = train::default_config();
  json recipe = {
      {"data", {{"dataset", o.dataset}}},
      {"optim",
       {{"steps", o.steps},
        {"batch_size", 128},
        {"lr", 0.1},
        {"momentum", 0.9},
        {"nesterov", false},
        {"weight_decay", 1e-4},
        {"label_smoothing", 0.0}}},
      {"schedule", {{"kind", "constant"}, {"warmup_steps", std::max<int64_t>(1, o.steps / 10)}}},
      {"run", {{"dir", o.out_dir}, {"seed", o.seed}, {"threads", o.threads}, {"precision", o.precision}}}};
  train::merge_config(config, recipe, "study");
  for (const auto& assignment : o.set) train::set_config_value(config, assignment);
  return config;
}

// `count` batches of training images with the run's evaluation transforms (no augmentation), in the
// seeded shuffled order: the same images for every network.
std::vector<LabelledBatch> measurement_batches(const train::Config& config, const models::ModelCard& card,
                                               const std::string& path, int64_t count) {
  const train::Settings s = train::settings_of(config);
  const uint64_t seed = s.run.seed;
  const auto sources = data::open_data_sources(s.data.dataset, {.val_fraction = s.data.val_fraction,
                                                                .split_seed = seed,
                                                                .channels = s.data.channels,
                                                                .train_limit = s.data.train_limit});
  models::require(card, path, {models::CardField::input_size, models::CardField::eval_transforms},
                  "the gradient study");
  const models::InputSize shape = *card.preprocessing.input_size;
  data::DataLoader loader(sources.train, data::parse_pipeline(*card.preprocessing.eval_transforms),
                          {.batch_size = s.optim.batch_size,
                           .shuffle = true,
                           .drop_last = true,
                           .workers = 0,
                           .seed = seed ^ 0x7374617473ULL,  // "stats": not the training order's first batches
                           .channels = shape.channels,
                           .height = shape.height,
                           .width = shape.width});
  if (loader.batches_per_epoch() < count)
    throw UserError("the training set holds " + std::to_string(loader.batches_per_epoch()) +
                    " batches, fewer than --measure-batches " + std::to_string(count));
  loader.start_epoch(0);
  std::vector<LabelledBatch> batches;
  for (int64_t i = 0; i < count; ++i) {
    const data::Batch* b = loader.next();
    batches.push_back({b->images.clone(), b->labels.clone()});
  }
  return batches;
}

std::string fixed(double v, const char* format = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Gradient at the first layer over the gradient at the last convolution: how much of the signal that
// reaches the top of the stack arrives at its bottom.
double first_to_last_conv(const LayerStatistics& s) {
  return s.grad_norm.size() >= 2 ? s.grad_norm.front() / s.grad_norm[s.grad_norm.size() - 2] : NAN;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / static_cast<double>(v.size());
}

}  // namespace

int run_gradient_study(const GradientOptions& o) {
  if (o.depths.empty()) throw UserError("--depths names at least one depth");
  std::vector<int> depths = o.depths;
  std::sort(depths.begin(), depths.end());
  depths.erase(std::unique(depths.begin(), depths.end()), depths.end());
  for (int d : depths) cifar_model_name(true, d), cifar_model_name(false, d);

  const train::Config recipe = gradient_recipe(o);
  fs::create_directories(o.out_dir);
  const auto start = std::chrono::steady_clock::now();
  struct Net {
    std::string name;
    bool residual;
    int depth;
    LayerStatistics init, trained;
    RunRecord run;
  };
  std::vector<Net> nets;
  for (bool residual : {false, true})
    for (int d : depths) nets.push_back({cifar_model_name(residual, d), residual, d, {}, {}, {}});

  std::vector<LabelledBatch> batches;
  for (size_t i = 0; i < nets.size(); ++i) {
    Net& n = nets[i];
    std::fprintf(stderr, "\n== study gradients: network %zu/%zu, %s ==\n", i + 1, nets.size(),
                 n.name.c_str());
    train::Config config = recipe;
    config["model"]["name"] = n.name;
    config["run"]["name"] = n.name;
    const int code = train_or_reuse(config);
    if (code != 0) {
      std::fprintf(stderr, "Study interrupted; run the same command again to continue where it stopped.\n");
      return code;
    }
    const std::string dir = o.out_dir + "/" + n.name;
    const models::Checkpoint last = models::load_checkpoint(dir, /*prefer_last=*/true);
    if (batches.empty()) batches = measurement_batches(config, last.card, last.path(), o.measure_batches);
    const train::Settings s = train::settings_of(config);
    const double smoothing = s.optim.label_smoothing;

    // At initialisation: the trainer's own initialisation, rebuilt from the seed.
    auto model = models::create_model(n.name, {.num_classes = last.card.num_classes,
                                               .in_channels = last.card.in_channels,
                                               .width_multiplier = s.model.width_multiplier});
    Rng rng(s.run.seed);
    nn::init_torchvision(*model, rng, s.model.zero_init_residual);
    n.init = measure_layer_statistics(*model, batches, smoothing);
    // After training.
    auto trained = models::model_from_checkpoint(last);
    n.trained = measure_layer_statistics(*trained, batches, smoothing);
    n.run = read_run(dir);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Data.
  std::string grads = "network,kind,depth,when,layer_index,layer,grad_norm\n";
  std::string responses = "network,kind,depth,when,block_index,block,response_std\n";
  for (const Net& n : nets) {
    const std::string head =
        n.name + "," + (n.residual ? "residual" : "plain") + "," + std::to_string(n.depth);
    for (const auto& [when, s] : {std::pair{"init", &n.init}, std::pair{"trained", &n.trained}}) {
      for (size_t i = 0; i < s->layers.size(); ++i)
        grads += head + "," + when + "," + std::to_string(i + 1) + "," + s->layers[i] + "," +
                 fixed(s->grad_norm[i], "%.8g") + "\n";
      for (size_t i = 0; i < s->blocks.size(); ++i)
        responses += head + "," + when + "," + std::to_string(i + 1) + "," + s->blocks[i] + "," +
                     fixed(s->response_std[i], "%.8g") + "\n";
    }
  }
  io::write_text_atomically(o.out_dir + "/gradients.csv", grads);
  io::write_text_atomically(o.out_dir + "/responses.csv", responses);

  // Figures: one colour per depth, plain dashed, residual solid.
  auto series = [&](const Net& n, const std::vector<double>& y) {
    const int color = static_cast<int>(std::find(depths.begin(), depths.end(), n.depth) - depths.begin());
    return viz::Series{.label = std::string(n.residual ? "ResNet-" : "plain-") + std::to_string(n.depth),
                       .y = y,
                       .color = color,
                       .width = n.residual ? 2.0 : 1.5,
                       .dashed = !n.residual};
  };
  auto layer_axis = [](std::vector<double>& x, size_t count) {
    for (size_t i = 1; i <= count; ++i) x.push_back(static_cast<double>(i));
  };
  const std::string after = "after " + std::to_string(o.steps) + " iterations";
  viz::Figure gradient_figure{.title = "Gradient norm ||dL/dW|| reaching each layer (layer 1 = the stem)",
                              .width_px = 1400,
                              .height_px = 560};
  for (const auto& [title, trained] :
       {std::pair{std::string("at initialisation"), false}, std::pair{after, true}}) {
    viz::Panel p{.title = title, .x_label = "layer index", .y_label = "gradient norm", .log_y = true};
    for (const Net& n : nets) {
      const LayerStatistics& s = trained ? n.trained : n.init;
      viz::Series line = series(n, s.grad_norm);
      layer_axis(line.x, s.grad_norm.size());
      p.series.push_back(line);
    }
    gradient_figure.panels.push_back(p);
  }
  viz::save_png(gradient_figure, o.out_dir + "/gradient_norms.png");

  viz::Figure response_figure{
      .title = "Std of each residual function's output (after its last BN, before the addition), " + after,
      .width_px = 1400,
      .height_px = 560};
  // Log scale: a plain net that went unstable has responses 1000× the others', which hide them on a
  // linear axis.
  viz::Panel ordered{.title = "in layer order", .x_label = "block index", .y_label = "std", .log_y = true};
  viz::Panel sorted{.title = "sorted by magnitude", .x_label = "block rank", .y_label = "std", .log_y = true};
  for (const Net& n : nets) {
    viz::Series line = series(n, n.trained.response_std);
    layer_axis(line.x, line.y.size());
    ordered.series.push_back(line);
    std::sort(line.y.begin(), line.y.end(), std::greater<>());
    sorted.series.push_back(line);
  }
  response_figure.panels = {ordered, sorted};
  viz::save_png(response_figure, o.out_dir + "/responses.png");

  // Summary and table.
  json per_net = json::array();
  for (const Net& n : nets)
    per_net.push_back({{"network", n.name},
                       {"kind", n.residual ? "residual" : "plain"},
                       {"depth", n.depth},
                       {"grad_first_over_last_conv_init", first_to_last_conv(n.init)},
                       {"grad_first_over_last_conv_trained", first_to_last_conv(n.trained)},
                       {"grad_norm_first_layer_init", n.init.grad_norm.front()},
                       {"grad_norm_first_layer_trained", n.trained.grad_norm.front()},
                       {"mean_response_std_init", mean(n.init.response_std)},
                       {"mean_response_std_trained", mean(n.trained.response_std)},
                       {"train_acc", n.run.state.at("history").back().at("train_acc")},
                       {"test_acc", n.run.summary.at("final_top1")},
                       {"train_seconds", n.run.summary.at("train_seconds")}});
  write_study_summary(o.out_dir, "gradients", recipe, depths,
                      {{"steps", o.steps}, {"measure_batches", o.measure_batches}, {"networks", per_net}},
                      wall);

  std::printf(
      "\nGradient study (%s): gradient norm at layer 1 ÷ at the last conv (1 = no fading), mean "
      "residual-response std, test accuracy after %lld iterations\n\n",
      o.out_dir.c_str(), static_cast<long long>(o.steps));
  std::printf("%-10s %12s %12s %12s %12s %9s %9s\n", "network", "grad@init", "grad@trained", "std@init",
              "std@trained", "test acc", "time");
  for (const auto& n : per_net)
    std::printf("%-10s %12s %12s %12s %12s %8.2f%% %9s\n", n["network"].get<std::string>().c_str(),
                fixed(n["grad_first_over_last_conv_init"]).c_str(),
                fixed(n["grad_first_over_last_conv_trained"]).c_str(),
                fixed(n["mean_response_std_init"]).c_str(), fixed(n["mean_response_std_trained"]).c_str(),
                n["test_acc"].get<double>(), train::format_duration(n["train_seconds"]).c_str());
  std::printf("\nWrote %s/{gradient_norms.png,responses.png,gradients.csv,responses.csv,summary.json}\n",
              o.out_dir.c_str());
  return 0;
}

}  // namespace resnet::study
