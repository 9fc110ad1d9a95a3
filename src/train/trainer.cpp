// Over 600 lines: the run as one object (setup, the step loop, resume, records and the commit order of the
// run directory) whose members all share the run's state; the step itself is Run::execute.
#include "resnet/train/trainer.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

#include "resnet/core/memory_plan.h"
#include "resnet/core/parallel.h"
#include "resnet/core/rng.h"
#include "resnet/data/loader.h"
#include "resnet/data/presets.h"
#include "resnet/data/sources.h"
#include "resnet/io/atomic_file.h"
#include "resnet/models/memory_estimate.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"
#include "resnet/nn/init.h"
#include "resnet/nn/layers.h"
#include "resnet/nn/loss.h"
#include "resnet/nn/state_dict.h"
#include "resnet/optim/ema.h"
#include "resnet/optim/grad_clip.h"
#include "resnet/optim/schedule.h"
#include "resnet/optim/sgd.h"
#include "resnet/train/adversarial.h"
#include "resnet/train/checkpoint.h"
#include "resnet/train/evaluate.h"
#include "resnet/train/progress.h"
#include "resnet/train/run_directory.h"
#include "resnet/train/tensorboard.h"
#include "resnet/viz/chart.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

volatile std::sig_atomic_t g_stop_signal = 0;
std::atomic<bool> g_stop_requested{false};

// run.backend and run.precision together name the op table: bf16 is mixed precision on the cpu backend.
ops::Backend training_backend(const std::string& backend_name, const std::string& precision) {
  const ops::Backend backend = ops::parse_backend(backend_name);
  if (precision == "fp32") return backend;
  if (precision != "bf16")
    throw UserError("run.precision = '" + precision + "' is not a training precision: use 'fp32' or 'bf16'");
  if (backend != ops::Backend::cpu)
    throw UserError("run.precision = 'bf16' runs on the cpu backend only (run.backend is '" + backend_name +
                    "'): drop --backend or train in fp32");
  if (!ops::bf16_supported())
    throw UserError(
        "bf16 training needs a CPU with AVX-512 (oneDNN has no bf16 convolutions below it), which this one "
        "lacks: train with --precision fp32");
  return ops::Backend::cpu_bf16;
}

extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
  std::signal(signal, SIG_DFL);  // a second Ctrl-C (or SIGTERM) kills at once
}

// Installs the SIGINT and SIGTERM handlers for the duration of a run: either stops at the next step
// boundary with a checkpoint, and the run returns 128 + the signal's number (130, 143).
struct StopSignalGuard {
  StopSignalGuard() {
    g_stop_signal = 0;
    g_stop_requested = false;
    previous_int = std::signal(SIGINT, on_stop_signal);
    previous_term = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignalGuard() {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
  }
  void (*previous_int)(int);
  void (*previous_term)(int);
};

std::string num(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string join_numbers(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + num(v[i], 6);
  return out + "]";
}

// How a run was made, in words, for its model card's provenance.
std::string recipe(const Settings& s) {
  const OptimSettings& o = s.optim;
  auto number = [](auto v) { return json(v).dump(); };
  std::string r = "resnet train";
  if (!s.model.init_from.empty()) r += " from " + s.model.init_from;
  r += o.steps > 0 ? ": " + number(o.steps) + " steps" : ": " + number(o.epochs) + " epochs";
  r += " of batch " + number(o.batch_size) + ", SGD lr " + number(o.lr) + " momentum " + number(o.momentum) +
       (o.nesterov ? " (Nesterov)" : "") + " weight decay " + number(o.weight_decay) + ", " +
       s.schedule.kind + " schedule, " + s.run.precision + ", seed " + number(s.run.seed);
  return r;
}

// A pipeline as spec strings: the configured one, or the data set kind's recipe when it is "auto" (empty).
std::vector<std::string> pipeline_specs(const std::vector<std::string>& configured, bool train,
                                        data::SourceKind kind, int64_t size) {
  return configured.empty() ? data::default_transform_specs(kind, train, size) : configured;
}

// The bare "normalize" of a pipeline bound to the run's mean/std.
std::vector<std::string> bind_normalization(std::vector<std::string> specs, const std::vector<double>& mean,
                                            const std::vector<double>& stdev) {
  for (auto& spec : specs)
    if (spec == "normalize")
      spec = "normalize(mean=" + join_numbers(mean) + ", std=" + join_numbers(stdev) + ")";
  return specs;
}

data::DataSources open_sources(const Settings& s) {
  return data::open_data_sources(s.data.dataset, {.val_fraction = s.data.val_fraction,
                                                  .split_seed = s.run.seed,
                                                  .channels = s.data.channels,
                                                  .train_limit = s.data.train_limit,
                                                  .test_limit = s.data.test_limit});
}

// The size a run trains at: a data set of fixed-size images at theirs; image files of any size at
// data.image_size or, when that is 0, by the first image: small images at their own size (with the
// small-image recipe), photographs at ImageNet's 224. `announce` says so on stderr.
std::pair<int64_t, int64_t> training_size(const DataSettings& d, const data::Dataset& train_set,
                                          bool announce) {
  const auto fixed = train_set.fixed_size();
  if (fixed.first != 0) return fixed;
  if (d.image_size != 0) return {d.image_size, d.image_size};
  data::Image first;
  train_set.load(0, first);
  const int64_t side = std::min(first.height, first.width);
  const int64_t s = side <= data::kLargestSmallImage ? side : 224;
  if (announce)
    std::fprintf(
        stderr, "note: training at %lldx%lld (the first image is %lldx%lld; set data.image_size to choose)\n",
        static_cast<long long>(s), static_cast<long long>(s), static_cast<long long>(first.height),
        static_cast<long long>(first.width));
  return {s, s};
}

// Dropout generators are the only random state inside a model.
json dropout_states(nn::Module& model) {
  json out = json::object();
  for (auto& [name, m] : model.named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) out[name] = d->rng().state();
  return out;
}
void restore_dropout_states(nn::Module& model, const json& states) {
  for (auto& [name, m] : model.named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) d->rng().set_state(states.at(name).get<Rng::State>());
}

class Run {
 public:
  Run(Config config, std::string dir, const models::Checkpoint* resume_from);
  RunResult execute();

 private:
  // `running_seconds`: training time of the epoch under way, not yet in train_seconds_.
  json state_json(bool epoch_done, double running_seconds) const;
  void save_last(bool epoch_done, double running_seconds = 0);
  void write_metrics_files();
  void write_events(const std::string& confusion_png = "");
  void write_plots();
  void end_epoch(double seconds, int64_t images);
  // After each step: the window record of run.log_every_steps / run.eval_every_steps, when one is due.
  // Returns the time spent evaluating, which the caller keeps out of the training time.
  std::chrono::steady_clock::duration record_step(double lr);
  bool should_stop() const;
  std::string divergence_advice() const;

  Config cfg_;         // as written to config.json and the checkpoints
  Settings settings_;  // the same, typed
  std::string dir_;
  data::DataSources sources_;
  models::ModelCard card_;
  std::unique_ptr<models::ResNet> model_, ema_;
  std::unique_ptr<optim::Sgd> sgd_;
  std::unique_ptr<optim::LrSchedule> schedule_;
  std::unique_ptr<data::DataLoader> train_loader_, eval_loader_;
  std::unique_ptr<ClassificationMetrics> train_metrics_;
  nn::CrossEntropyLoss loss_;
  nn::MixedCrossEntropyLoss mixed_loss_;
  Tensor mixed_labels_;

  int64_t epochs_ = 0, total_steps_ = 0, batches_ = 0;
  // Progress: `epoch_` is the epoch under way (0-based), `batch_` the batches of it already done.
  int64_t epoch_ = 0, batch_ = 0, step_ = 0, steps_this_process_ = 0;
  double best_accuracy_ = -1, train_seconds_ = 0;
  int64_t best_epoch_ = -1;
  json history_ = json::array();
  // Per-step records (run.log_every_steps, run.eval_every_steps): the training metrics of the last window
  // of steps and/or an evaluation, keyed by step. Kept in the checkpoint like history_.
  json step_history_ = json::array();
  std::unique_ptr<ClassificationMetrics> window_metrics_;
  std::unique_ptr<ClassificationMetrics> last_eval_;
  // Adversarial training (adv.*): the step's examples, and the held-out images of the per-epoch robust
  // accuracy with its record (the best PGD accuracy's weights in best_robust.safetensors).
  std::unique_ptr<AdversarialExamples> adversarial_;
  Tensor robust_images_;  // [N, C, H, W] in [0, 1]
  std::vector<int64_t> robust_labels_;
  double best_robust_ = -1;
  int64_t best_robust_epoch_ = -1;
  bool stopped_on_overfit_ = false;
};

// What a run saves of its config: run.stop_after_steps belongs to one process (a resume must not stop
// again after the same number of steps), so it is saved as unset.
Config persisted(Config config) {
  config["run"]["stop_after_steps"] = 0;
  return config;
}

Run::Run(Config config, std::string dir, const models::Checkpoint* resume_from)
    : cfg_(persisted(config)),
      settings_(settings_of(config)),
      dir_(std::move(dir)),
      loss_(settings_.optim.label_smoothing),
      mixed_loss_(settings_.optim.label_smoothing) {
  set_num_threads(settings_.run.threads);
  const auto backend = training_backend(settings_.run.backend, settings_.run.precision);
  const uint64_t seed = settings_.run.seed;

  // Data.
  sources_ = open_sources(settings_);
  const auto& train_set = *sources_.train;
  const auto [height, width] = training_size(settings_.data, train_set, /*announce=*/true);
  // A small folder trains with the default batch: one batch of the whole training split at most.
  if (settings_.optim.batch_size > train_set.size()) {
    std::fprintf(stderr,
                 "note: batch size lowered from %lld to the %lld images of the training split (set "
                 "--batch-size to choose)\n",
                 static_cast<long long>(settings_.optim.batch_size),
                 static_cast<long long>(train_set.size()));
    settings_.optim.batch_size = train_set.size();
    cfg_["optim"]["batch_size"] = train_set.size();  // saved so that a resume takes the same steps
  }
  // Fine-tuning starts from weights trained on their own normalisation (ImageNet's, for converted
  // torchvision weights) and keeps it unless data.mean/data.std say otherwise. A resumed fine-tuning run
  // reads it back from its own card.
  const std::string init_from = settings_.model.init_from;
  std::optional<models::Checkpoint> init_source;
  if (!init_from.empty() && !resume_from) init_source = models::load_checkpoint(init_from);
  const models::ModelCard* source_card =
      init_source ? &init_source->card : (resume_from && !init_from.empty() ? &resume_from->card : nullptr);
  std::vector<double> mean = settings_.data.mean, stdev = settings_.data.std_dev;
  if (mean.empty() != stdev.empty()) throw UserError("set both data.mean and data.std, or neither");
  if (mean.empty() && source_card && !source_card->preprocessing.mean.empty() &&
      static_cast<int64_t>(source_card->preprocessing.mean.size()) == train_set.channels()) {
    mean = source_card->preprocessing.mean, stdev = source_card->preprocessing.std;
    if (init_source)
      std::fprintf(stderr,
                   "Normalising as the weights of %s were trained: mean %s, std %s (set data.mean and "
                   "data.std to change)\n",
                   init_from.c_str(), join_numbers(mean).c_str(), join_numbers(stdev).c_str());
  }
  if (mean.empty()) {
    std::fprintf(stderr, "Measuring the training set's mean and std for normalisation...\n");
    std::tie(mean, stdev) = channel_statistics(train_set);
  }
  const auto train_specs = bind_normalization(
      pipeline_specs(settings_.data.train_transforms, true, sources_.kind, height), mean, stdev);
  const auto eval_specs = bind_normalization(
      pipeline_specs(settings_.data.eval_transforms, false, sources_.kind, height), mean, stdev);
  // config.json (and so a resume) holds what runs, not "auto".
  cfg_["data"]["train_transforms"] = train_specs;
  cfg_["data"]["eval_transforms"] = eval_specs;
  if (train_set.fixed_size().first == 0) cfg_["data"]["image_size"] = height;
  const int64_t channels = train_set.channels();
  data::LoaderOptions lo{.batch_size = settings_.optim.batch_size,
                         .shuffle = true,
                         .drop_last = true,
                         .workers = settings_.data.workers,
                         .prefetch = settings_.data.prefetch,
                         .seed = seed,
                         .skip_bad_samples = settings_.data.skip_bad_samples,
                         .channels = channels,
                         .height = height,
                         .width = width};
  train_loader_ = std::make_unique<data::DataLoader>(sources_.train, data::parse_pipeline(train_specs), lo);
  lo.batch_size = settings_.run.eval_batch_size;
  lo.shuffle = lo.drop_last = false;
  eval_loader_ =
      std::make_unique<data::DataLoader>(sources_.per_epoch(), data::parse_pipeline(eval_specs), lo);
  adversarial_ = std::make_unique<AdversarialExamples>(settings_.adv, mean, stdev);
  if (adversarial_->enabled() && settings_.adv.eval_images > 0) {
    // The first adv.eval_images evaluation images, as the evaluation sees them, back in [0, 1] pixels.
    lo.batch_size = std::min<int64_t>(settings_.adv.eval_images, sources_.per_epoch()->size());
    lo.workers = 0;
    data::DataLoader held_out(sources_.per_epoch(), data::parse_pipeline(eval_specs), lo);
    held_out.start_epoch(0, 0);
    const data::Batch* b = held_out.next();
    robust_images_ = pixels_of(b->images, mean, stdev);
    robust_labels_.assign(b->labels.data<int64_t>(), b->labels.data<int64_t>() + b->size);
  }

  // Model.
  const std::string model_name = settings_.model.name;
  const double width_multiplier = settings_.model.width_multiplier;
  const int64_t classes = train_set.num_classes();
  // Fine-tuning takes the architecture of the weights it starts from (recorded as a spec in the card, so
  // a resumed run rebuilds it without the source file).
  std::optional<models::ResNetSpec> arch;
  std::unique_ptr<models::ResNet> source;
  std::string source_name = model_name;
  if (resume_from && resume_from->card.spec) {
    arch = resume_from->card.spec;
  } else if (!init_from.empty()) {
    if (!init_source) init_source = models::load_checkpoint(init_from);  // a resume of an old run
    const models::Checkpoint& c = *init_source;
    source = models::model_from_checkpoint(c);
    source_name = c.card.model;
    arch = source->spec();
    if (arch->in_channels != channels)
      throw UserError("model.init_from '" + init_from + "' takes " + std::to_string(arch->in_channels) +
                      "-channel images but the data set has " + std::to_string(channels) +
                      ": set data.channels=" + std::to_string(arch->in_channels) +
                      " (image folders) or start from another network");
  }
  if (arch) arch->num_classes = classes;
  // Bounded allocation: weights, gradients, momentum, EMA and one batch's activations against this machine.
  models::check_training_fits(
      arch ? *arch
           : models::model_spec(
                 model_name,
                 {.num_classes = classes, .in_channels = channels, .width_multiplier = width_multiplier}),
      settings_.optim.batch_size, channels, height, width, settings_.optim.ema_decay > 0,
      settings_.data.prefetch, "training " + source_name);
  auto build = [&] {
    auto m = arch ? std::make_unique<models::ResNet>(*arch)
                  : models::create_model(model_name, {.num_classes = classes,
                                                      .in_channels = channels,
                                                      .width_multiplier = width_multiplier});
    m->set_backend(backend);
    m->set_input_gradient(false);  // training needs no gradient w.r.t. the images
    return m;
  };
  model_ = build();
  Rng init_rng(seed);
  nn::init_torchvision(*model_, init_rng, settings_.model.zero_init_residual);
  if (source) {
    io::TensorFile weights;
    weights.path = init_from;
    weights.tensors = nn::state_dict(*source);
    const bool new_head = source->spec().num_classes != classes;
    nn::load_state_dict(*model_, weights, {.strict = !new_head, .skip_prefixes = {}});
    std::fprintf(stderr, "Starting from the weights of %s (%s)%s\n", init_from.c_str(), source_name.c_str(),
                 new_head ? (", with a new " + std::to_string(classes) + "-class classifier").c_str() : "");
  }
  card_ = {.model = arch ? (source ? source_name : resume_from->card.model) : model_name,
           .spec = arch,
           .num_classes = classes,
           .in_channels = channels,
           .width_multiplier = width_multiplier,
           .class_names = train_set.class_names(),
           .preprocessing = {.input_size = models::InputSize{channels, height, width},
                             .mean = mean,
                             .std = stdev,
                             .eval_transforms = eval_specs},
           .provenance = {.dataset = settings_.data.dataset, .recipe = recipe(settings_)}};

  // Optimisation.
  std::vector<nn::Parameter*> params;
  for (auto& [name, p] : model_->named_parameters()) params.push_back(p);
  sgd_ = std::make_unique<optim::Sgd>(
      params, optim::SgdOptions{.lr = settings_.optim.lr,
                                .momentum = settings_.optim.momentum,
                                .weight_decay = settings_.optim.weight_decay,
                                .nesterov = settings_.optim.nesterov,
                                .decay_norm_and_bias = settings_.optim.decay_norm_and_bias});
  batches_ = train_loader_->batches_per_epoch();
  const int64_t steps = settings_.optim.steps;
  epochs_ = steps > 0 ? (steps + batches_ - 1) / batches_ : settings_.optim.epochs;
  total_steps_ = steps > 0 ? steps : epochs_ * batches_;
  if (total_steps_ <= 0) throw UserError("optim.epochs (or optim.steps) must be positive");
  optim::ScheduleOptions so{
      .kind = settings_.schedule.kind, .lr = settings_.optim.lr, .total_steps = total_steps_};
  for (int64_t m : settings_.schedule.milestone_steps) so.milestones.push_back(m);
  if (so.milestones.empty())
    for (double e : settings_.schedule.milestones)
      so.milestones.push_back(static_cast<int64_t>(std::llround(e * static_cast<double>(batches_))));
  so.gamma = settings_.schedule.gamma;
  so.min_lr = settings_.schedule.min_lr;
  so.warmup_steps = settings_.schedule.warmup_steps > 0
                        ? settings_.schedule.warmup_steps
                        : std::llround(settings_.schedule.warmup_epochs * static_cast<double>(batches_));
  // Short budgets (--epochs 1, a few --set optim.steps) keep a schedule: warm-up takes at most half the run.
  if (so.warmup_steps > total_steps_ / 2) {
    std::fprintf(stderr,
                 "note: warm-up shortened from %lld to %lld steps, half of this run's %lld (set "
                 "schedule.warmup_epochs or schedule.warmup_steps to choose it)\n",
                 static_cast<long long>(so.warmup_steps), static_cast<long long>(total_steps_ / 2),
                 static_cast<long long>(total_steps_));
    so.warmup_steps = total_steps_ / 2;
  }
  so.warmup = settings_.schedule.warmup;
  so.warmup_lr = settings_.schedule.warmup_lr;
  so.pct_start = settings_.schedule.pct_start;
  schedule_ = std::make_unique<optim::LrSchedule>(so);
  loss_.set_backend(backend);
  mixed_loss_.set_backend(backend);
  mixed_labels_ = Tensor::empty({settings_.optim.batch_size}, DType::i64);
  if (settings_.optim.ema_decay > 0) {
    ema_ = build();
    io::TensorFile copy;
    copy.tensors = nn::state_dict(*model_);
    nn::load_state_dict(*ema_, copy);
  }
  train_metrics_ = std::make_unique<ClassificationMetrics>(classes);
  window_metrics_ = std::make_unique<ClassificationMetrics>(classes);

  if (resume_from) {
    models::load_weights(*model_, *resume_from);
    load_optimizer(*sgd_, *model_, *resume_from);
    if (ema_) models::load_weights(*ema_, *resume_from, models::kEmaPrefix);
    const json& s = resume_from->state;
    epoch_ = s.at("epoch");
    batch_ = s.at("batch");
    step_ = s.at("step");
    best_accuracy_ = s.at("best_accuracy");
    best_epoch_ = s.at("best_epoch");
    train_seconds_ = s.at("train_seconds");
    history_ = s.at("history");
    train_metrics_->from_json(s.at("train_metrics"));
    step_history_ = s.value("step_history", json::array());  // absent in checkpoints before step records
    if (s.contains("window_metrics")) window_metrics_->from_json(s.at("window_metrics"));
    restore_dropout_states(*model_, s.at("dropout"));
    best_robust_ = s.value("best_robust", -1.0);
    best_robust_epoch_ = s.value("best_robust_epoch", int64_t{-1});
    stopped_on_overfit_ = s.value("stopped_on_overfit", false);
  }

  std::fprintf(
      stderr,
      "%s (%lld parameters, %s input) on %s: %lld training images, %lld per-epoch evaluation "
      "images; %lld epochs of %lld steps, batch %lld, %d threads%s\n",
      card_.model.c_str(), static_cast<long long>(model_->num_parameters()),
      (std::to_string(channels) + "×" + std::to_string(height) + "×" + std::to_string(width)).c_str(),
      settings_.data.dataset.c_str(), static_cast<long long>(train_set.size()),
      static_cast<long long>(sources_.per_epoch()->size()), static_cast<long long>(epochs_),
      static_cast<long long>(batches_), static_cast<long long>(settings_.optim.batch_size), num_threads(),
      settings_.run.precision == "bf16" ? ", bf16 activations" : "");
}

std::string Run::divergence_advice() const {
  const std::string last = dir_ + "/last.safetensors";
  if (!fs::exists(last))
    return "No checkpoint was saved before it diverged (the first is written at the end of epoch 1, or "
           "every run.checkpoint_every steps). Lower optim.lr or set optim.grad_clip, then start again "
           "under another --name (or delete " +
           dir_ + ")";
  return "The last good checkpoint is kept in " + last +
         ". Lower optim.lr or set optim.grad_clip, then start again (or resume from it with --resume " +
         dir_ + ")";
}

json Run::state_json(bool epoch_done, double running_seconds) const {
  return {{"epoch", epoch_},
          {"batch", batch_},
          {"step", step_},
          {"epochs", epochs_},
          {"total_steps", total_steps_},
          {"finished", step_ >= total_steps_ && epoch_done},
          {"best_accuracy", best_accuracy_},
          {"best_epoch", best_epoch_},
          {"train_seconds", train_seconds_ + running_seconds},
          {"history", history_},
          {"train_metrics", train_metrics_->to_json()},
          {"step_history", step_history_},
          {"window_metrics", window_metrics_->to_json()},
          {"dropout", dropout_states(*model_)},
          {"best_robust", best_robust_},
          {"best_robust_epoch", best_robust_epoch_},
          {"stopped_on_overfit", stopped_on_overfit_},
          {"threads", num_threads()}};
}

void Run::save_last(bool epoch_done, double running_seconds) {
  // A step can turn the weights — or the BN running statistics, which overflow first when activations
  // explode — non-finite before the loss shows it: never let such a state replace the last good checkpoint.
  auto check_finite = [&](const std::string& what, const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::f32) return;
    const float* v = t.data<float>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      if (!std::isfinite(v[i]))
        throw UserError("training diverged at step " + std::to_string(step_) + ": " + what + " " + name +
                        " is no longer finite. " + divergence_advice());
  };
  for (auto& [name, p] : model_->named_parameters()) check_finite("parameter", name, p->value());
  for (auto& [name, b] : model_->named_buffers()) check_finite("buffer", name, *b);
  save_checkpoint(dir_ + "/last.safetensors", *model_, sgd_.get(), ema_.get(), card_, cfg_,
                  state_json(epoch_done, running_seconds));
}

void Run::write_metrics_files() {
  std::string jsonl,
      csv =
          "epoch,step,lr,train_loss,train_acc,eval_loss,eval_acc,eval_top5,ema_eval_acc,seconds,img_per_s\n";
  for (const auto& r : history_) {
    jsonl += r.dump() + "\n";
    auto field = [&](const char* k) {
      return r.contains(k) && !r[k].is_null() ? num(r[k].get<double>(), 8) : "";
    };
    csv += std::to_string(r["epoch"].get<int64_t>()) + "," + std::to_string(r["step"].get<int64_t>()) + "," +
           field("lr") + "," + field("train_loss") + "," + field("train_acc") + "," + field("eval_loss") +
           "," + field("eval_acc") + "," + field("eval_top5") + "," + field("ema_eval_acc") + "," +
           field("seconds") + "," + field("img_per_s") + "\n";
  }
  io::write_text_atomically(dir_ + "/metrics.jsonl", jsonl);
  io::write_text_atomically(dir_ + "/metrics.csv", csv);
  if (step_history_.empty()) return;
  std::string steps = "step,epoch,lr,train_loss,train_acc,eval_loss,eval_acc\n";
  for (const auto& r : step_history_) {
    auto field = [&](const char* k) { return r.contains(k) ? num(r[k].get<double>(), 8) : ""; };
    steps += std::to_string(r["step"].get<int64_t>()) + "," + field("epoch") + "," + field("lr") + "," +
             field("train_loss") + "," + field("train_acc") + "," + field("eval_loss") + "," +
             field("eval_acc") + "\n";
  }
  io::write_text_atomically(dir_ + "/metrics_steps.csv", steps);
}

// The TensorBoard view of the same records (train/tensorboard.h): epoch records at the step each epoch
// ended, per-step records under steps/, and the final confusion matrix when there is one.
void Run::write_events(const std::string& confusion_png) {
  EventFile events(static_cast<double>(std::time(nullptr)));
  auto scalars = [&](const json& r, const std::string& prefix) {
    const int64_t step = r["step"].get<int64_t>();
    for (const auto& [key, tag] :
         std::vector<std::pair<const char*, std::string>>{{"train_loss", "train/loss"},
                                                          {"train_acc", "train/accuracy"},
                                                          {"eval_loss", "eval/loss"},
                                                          {"eval_acc", "eval/accuracy"},
                                                          {"eval_top5", "eval/top5"},
                                                          {"ema_eval_acc", "eval/ema_accuracy"},
                                                          {"lr", "lr"},
                                                          {"img_per_s", "img_per_s"}})
      if (r.contains(key) && r[key].is_number()) events.add_scalar(prefix + tag, step, r[key].get<double>());
  };
  for (const auto& r : history_) scalars(r, "");
  for (const auto& r : step_history_) scalars(r, "steps/");
  if (!confusion_png.empty()) events.add_png("confusion_matrix", step_, confusion_png);
  io::write_text_atomically(dir_ + "/" + kEventFileName, events.bytes());
}

std::chrono::steady_clock::duration Run::record_step(double lr) {
  const int64_t log_every = settings_.run.log_every_steps;
  const int64_t eval_every = settings_.run.eval_every_steps;
  const bool log = log_every > 0 && step_ % log_every == 0;
  // Epoch ends evaluate anyway (end_epoch); an evaluation here would repeat it.
  const bool eval = eval_every > 0 && step_ % eval_every == 0 && batch_ < batches_;
  if (!log && !eval) return {};
  json record = {{"step", step_}, {"epoch", static_cast<double>(step_) / static_cast<double>(batches_)}};
  if (log) {
    record["lr"] = lr;
    record["train_loss"] = window_metrics_->loss();
    record["train_acc"] = window_metrics_->top1();
    window_metrics_->reset();
  }
  std::chrono::steady_clock::duration spent{};
  if (eval) {
    const auto start = std::chrono::steady_clock::now();
    auto metrics = evaluate(*model_, *eval_loader_, "  evaluate at step " + std::to_string(step_));
    model_->train();
    record["eval_loss"] = metrics.loss();
    record["eval_acc"] = metrics.top1();
    spent = std::chrono::steady_clock::now() - start;
  }
  step_history_.push_back(record);
  return spent;
}

void Run::write_plots() {
  if (!settings_.run.plots || history_.empty()) return;
  viz::Series train_loss{.label = "train"}, eval_loss{.label = "evaluation"}, train_acc{.label = "train"},
      eval_acc{.label = "evaluation"}, ema_acc{.label = "evaluation (EMA)", .dashed = true};
  for (const auto& r : history_) {
    const double e = r["epoch"].get<double>();
    train_loss.x.push_back(e), train_loss.y.push_back(r["train_loss"]);
    eval_loss.x.push_back(e), eval_loss.y.push_back(r["eval_loss"]);
    train_acc.x.push_back(e), train_acc.y.push_back(r["train_acc"]);
    eval_acc.x.push_back(e), eval_acc.y.push_back(r["eval_acc"]);
    if (r.contains("ema_eval_acc")) ema_acc.x.push_back(e), ema_acc.y.push_back(r["ema_eval_acc"]);
  }
  const bool markers = history_.size() < 30;
  for (auto* s : {&train_loss, &eval_loss, &train_acc, &eval_acc, &ema_acc}) s->markers = markers;
  viz::Figure figure{.title = fs::path(dir_).filename().string() + ": " + card_.model + " on " +
                              card_.provenance.dataset};
  figure.panels.push_back(
      {.title = "loss", .x_label = "epoch", .y_label = "cross-entropy", .series = {train_loss, eval_loss}});
  viz::Panel acc{
      .title = "top-1 accuracy", .x_label = "epoch", .y_label = "%", .series = {train_acc, eval_acc}};
  if (!ema_acc.x.empty()) acc.series.push_back(ema_acc);
  figure.panels.push_back(acc);
  try {
    viz::save_png(figure, dir_ + "/curves.png");
  } catch (const UserError& e) {
    std::fprintf(stderr, "warning: no plot: %s\n", e.what());
  }
}

bool Run::should_stop() const {
  const int64_t limit = settings_.run.stop_after_steps;
  return g_stop_signal || g_stop_requested || (limit > 0 && steps_this_process_ >= limit);
}

void Run::end_epoch(double seconds, int64_t images) {
  auto metrics = evaluate(*model_, *eval_loader_, "  evaluate");
  json record = {{"epoch", epoch_ + 1},
                 {"step", step_},
                 {"lr", schedule_->at(std::max<int64_t>(0, step_ - 1))},
                 {"train_loss", train_metrics_->loss()},
                 {"train_acc", train_metrics_->top1()},
                 {"eval_loss", metrics.loss()},
                 {"eval_acc", metrics.top1()},
                 {"eval_top5", metrics.top5()},
                 {"seconds", seconds},
                 {"img_per_s", seconds > 0 ? static_cast<double>(images) / seconds : 0.0}};
  if (ema_) {
    auto ema_metrics = evaluate(*ema_, *eval_loader_, "  evaluate EMA");
    record["ema_eval_acc"] = ema_metrics.top1();
  }
  std::string robust_text;
  if (robust_images_.defined()) {
    const RobustAccuracy r = robust_accuracy(
        *model_, robust_images_, robust_labels_, card_.preprocessing.mean, card_.preprocessing.std,
        settings_.adv.eps, settings_.adv.eval_steps, settings_.run.eval_batch_size);
    record.update(r.to_json());
    std::vector<RobustAccuracy> robust_history = robust_records(history_);
    robust_history.push_back(r);
    robust_text = "held-out " + std::to_string(robust_labels_.size()) + ": clean " + num(r.clean, 4) +
                  "% FGSM " + num(r.fgsm, 4) + "% PGD-" + std::to_string(settings_.adv.eval_steps) + " " +
                  num(r.pgd, 4) + "%";
    if (r.pgd > best_robust_) {
      best_robust_ = r.pgd, best_robust_epoch_ = epoch_ + 1;
      save_checkpoint(dir_ + "/best_robust.safetensors", *model_, nullptr, nullptr, card_, nullptr, nullptr,
                      best_robust_epoch_);
    }
    if (catastrophic_overfitting(robust_history)) {
      record["catastrophic_overfitting"] = true;
      std::fprintf(
          stderr,
          "warning: catastrophic overfitting at epoch %lld: PGD accuracy fell to %.2f%% (best %.2f%% "
          "at epoch %lld) while FGSM accuracy rose to %.2f%%. %s\n",
          static_cast<long long>(epoch_ + 1), r.pgd, best_robust_, static_cast<long long>(best_robust_epoch_),
          r.fgsm,
          settings_.adv.stop_on_overfit
              ? "Restoring the best robust weights and stopping (adv.stop_on_overfit)."
              : "Use adv.kind=pgd or fgsm_rs, a smaller adv.alpha, or adv.stop_on_overfit=true.");
      if (settings_.adv.stop_on_overfit) {
        models::load_weights(*model_, models::load_checkpoint(dir_ + "/best_robust.safetensors"));
        stopped_on_overfit_ = true;
        total_steps_ = step_;  // the run is finished, with the restored weights
      }
    }
  }
  history_.push_back(record);
  const bool best = metrics.top1() > best_accuracy_;
  if (best) best_accuracy_ = metrics.top1(), best_epoch_ = epoch_ + 1;
  last_eval_ = std::make_unique<ClassificationMetrics>(metrics);
  if (stopped_on_overfit_) last_eval_.reset();  // the final report evaluates the restored weights
  ++epoch_;
  batch_ = 0;
  train_metrics_->reset();
  // The commit order of run_directory.h: stage the best, commit last, publish the best, then the files
  // derived from last's history.
  if (best)
    save_checkpoint(dir_ + "/" + kPendingBestFile, *model_, nullptr, nullptr, card_, nullptr, nullptr,
                    best_epoch_);
  save_last(true);
  if (best) reconcile_best(dir_, best_epoch_);
  write_metrics_files();
  write_events();
  write_plots();
  std::fprintf(
      stderr, "epoch %lld/%lld: train loss %.4f acc %.2f%% | eval loss %.4f acc %.2f%% top-5 %.2f%%%s%s\n",
      static_cast<long long>(epoch_), static_cast<long long>(epochs_), record["train_loss"].get<double>(),
      record["train_acc"].get<double>(), metrics.loss(), metrics.top1(), metrics.top5(),
      ema_ ? (" | EMA acc " + num(record["ema_eval_acc"].get<double>(), 4) + "%").c_str() : "",
      best ? "  (best)" : "");
  if (!robust_text.empty()) std::fprintf(stderr, "  %s\n", robust_text.c_str());
}

// The training steps' arena (memory_plan.h) and the process's peak resident memory, for summary.json.
json memory_summary(const MemoryPlanStats& plan) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  constexpr double kMiB = 1 << 20;
  return {{"step_arena_mib", static_cast<double>(plan.arena_bytes) / kMiB},
          {"step_arena_lower_bound_mib", static_cast<double>(plan.peak_live_bytes) / kMiB},
          {"steps_served_from_arena", plan.replayed_steps},
          {"steps_off_plan", plan.diverged_steps},
          {"peak_resident_mib", static_cast<double>(usage.ru_maxrss) / 1024.0}};  // ru_maxrss: KiB
}

RunResult Run::execute() {
  StopSignalGuard guard;
  io::write_text_atomically(dir_ + "/config.json", cfg_.dump(2) + "\n");
  const double grad_clip = settings_.optim.grad_clip, ema_decay = settings_.optim.ema_decay;
  const double mixup = settings_.data.mixup_alpha, cutmix = settings_.data.cutmix_alpha;
  const double mix_prob = settings_.data.mix_prob;
  const int64_t checkpoint_every = settings_.run.checkpoint_every;
  const uint64_t seed = settings_.run.seed;
  const int64_t B = settings_.optim.batch_size;
  if (step_ > 0) {
    // A kill may have come between the files of the commit (run_directory.h): finish or undo it.
    reconcile_best(dir_, best_epoch_);
    if (!history_.empty()) {
      write_metrics_files();
      write_events();
      write_plots();
    }
    std::fprintf(stderr, "Resuming at epoch %lld, step %lld\n", static_cast<long long>(epoch_ + 1),
                 static_cast<long long>(step_));
  }

  RunResult result;
  MemoryPlan step_memory;  // every step's buffers from one arena (memory_plan.h)
  while (epoch_ < epochs_ && step_ < total_steps_) {
    model_->train();
    train_loader_->start_epoch(epoch_, batch_);
    const int64_t batches_this_epoch = std::min(batches_, batch_ + (total_steps_ - step_));
    ProgressBar bar("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs_),
                    batches_this_epoch);
    auto start = std::chrono::steady_clock::now();  // moved forward past mid-epoch evaluations
    int64_t images = 0;
    bool stopped = false;
    while (batch_ < batches_this_epoch) {
      const data::Batch* batch = train_loader_->next();
      RESNET_CHECK(batch != nullptr);
      const double lr = schedule_->at(step_);
      sgd_->set_lr(lr);
      // Batch-level mixing draws from a generator seeded by (seed, step): independent of history.
      Rng mix_rng(data::sample_seed(seed ^ 0x6d697800ULL, epoch_, batch->index));
      std::optional<data::MixedBatch> mix;
      if ((mixup > 0 || cutmix > 0) && mix_rng.uniform() < mix_prob) {
        const bool use_cutmix = cutmix > 0 && (mixup <= 0 || mix_rng.uniform() < 0.5);
        Tensor images_view = batch->images;
        mix = use_cutmix ? data::cutmix(images_view, cutmix, mix_rng)
                         : data::mixup(images_view, mixup, mix_rng);
      }
      // Crafted outside the step's arena: the attack's passes are not the step's.
      adversarial_->perturb(*model_, batch->images, batch->labels, seed, step_);
      {
        PlannedStep planned(step_memory);
        model_->zero_grad();
        const Tensor& logits = model_->forward(batch->images);
        double loss = 0;
        const Tensor* dlogits = nullptr;
        if (mix) {
          Tensor labels_b = mixed_labels_.narrow(0, 0, batch->size);
          for (int64_t i = 0; i < batch->size; ++i)
            labels_b.data<int64_t>()[i] = batch->labels.data<int64_t>()[mix->other[static_cast<size_t>(i)]];
          loss = mixed_loss_.forward(logits, batch->labels, labels_b, mix->lambda);
          dlogits = &mixed_loss_.backward();
        } else {
          loss = loss_.forward(logits, batch->labels);
          dlogits = &loss_.backward();
        }
        if (!std::isfinite(loss)) {
          bar.stop(batch_, "stopped");
          throw UserError("the training loss became " + num(loss) + " at step " + std::to_string(step_) +
                          " (epoch " + std::to_string(epoch_ + 1) + ", lr " + num(lr) +
                          "): training diverged. " + divergence_advice());
        }
        train_metrics_->add(logits, batch->labels, loss);
        window_metrics_->add(logits, batch->labels, loss);
        model_->backward(*dlogits);
        if (grad_clip > 0) optim::clip_grad_norm(*model_, grad_clip);
        sgd_->step();
        if (ema_) optim::update_ema(*ema_, *model_, ema_decay);
      }
      ++step_, ++batch_, ++steps_this_process_;
      io::crash_point("after training step ", std::to_string(step_));
      images += batch->size;
      start += record_step(lr);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char status[128];
      std::snprintf(status, sizeof status, "loss %.3f  acc %.1f%%  lr %.3g  %.0f img/s",
                    train_metrics_->loss(), train_metrics_->top1(), lr, static_cast<double>(images) / secs);
      if (batch_ == batches_this_epoch) {
        bar.finish(status);
      } else {
        bar.update(batch_, status);
      }
      const bool stop = should_stop() && batch_ < batches_this_epoch;
      if (stop || (checkpoint_every > 0 && step_ % checkpoint_every == 0 && batch_ < batches_this_epoch)) {
        save_last(false, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      if (stop) {
        bar.stop(batch_, "stopped");
        stopped = true;
        break;
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (stopped) {
      result.exit_code = g_stop_signal ? 128 + g_stop_signal : 0;
      std::fprintf(
          stderr,
          "Stopped at epoch %lld, step %lld; checkpoint saved. Continue with: resnet train --resume %s\n",
          static_cast<long long>(epoch_ + 1), static_cast<long long>(step_), dir_.c_str());
      return result;
    }
    train_seconds_ += secs;
    end_epoch(secs, images);
    if (should_stop() && epoch_ < epochs_) {
      result.exit_code = g_stop_signal ? 128 + g_stop_signal : 0;
      std::fprintf(stderr, "Stopped after epoch %lld; continue with: resnet train --resume %s\n",
                   static_cast<long long>(epoch_), dir_.c_str());
      return result;
    }
  }

  // Final report: the test set (its confusion matrix), and the per-epoch evaluation when that differs.
  const auto& names = card_.class_names;
  // The per-epoch evaluation ran on the validation split when there is one, else on the test set.
  ClassificationMetrics final_metrics =
      last_eval_ ? *last_eval_ : ClassificationMetrics(static_cast<int64_t>(names.size()));
  std::string final_set = sources_.validation ? "validation" : "test";
  if (sources_.validation && sources_.test) {
    data::LoaderOptions lo = eval_loader_->options();
    data::DataLoader test_loader(sources_.test, data::parse_pipeline(*card_.preprocessing.eval_transforms),
                                 lo);
    final_metrics = evaluate(*model_, test_loader, "test");
    final_set = "test";
  } else if (!last_eval_) {
    final_metrics = evaluate(*model_, *eval_loader_, final_set);
  }
  std::printf("\n%s", format_class_report(final_metrics, names).c_str());
  if (settings_.run.plots) {
    try {
      viz::save_confusion_matrix_png(
          final_metrics.confusion(), names,
          card_.model + " on " + final_set + " set: " + num(final_metrics.top1(), 4) + "% top-1",
          dir_ + "/confusion.png");
      std::ifstream png(dir_ + "/confusion.png", std::ios::binary);
      write_events(std::string(std::istreambuf_iterator<char>(png), {}));
    } catch (const UserError& e) {
      std::fprintf(stderr, "warning: no confusion plot: %s\n", e.what());
    }
  }
  const int64_t images_trained = step_ * B;
  result.summary = {
      {"model", card_.model},
      {"dataset", card_.provenance.dataset},
      {"parameters", model_->num_parameters()},
      {"epochs", epoch_},
      {"steps", step_},
      {"final_set", final_set},
      {"final_top1", final_metrics.top1()},
      {"final_top5", final_metrics.top5()},
      {"final_loss", final_metrics.loss()},
      {"per_class_accuracy", final_metrics.per_class_accuracy()},
      {"best_eval_acc", best_accuracy_},
      {"best_epoch", best_epoch_},
      {"train_seconds", train_seconds_},
      {"train_img_per_s", train_seconds_ > 0 ? static_cast<double>(images_trained) / train_seconds_ : 0.0},
      {"threads", num_threads()},
      {"memory", memory_summary(step_memory.stats())}};
  if (!history_.empty() && history_.back().contains("ema_eval_acc"))
    result.summary["ema_eval_acc"] = history_.back()["ema_eval_acc"];
  if (const std::vector<RobustAccuracy> robust = robust_records(history_); !robust.empty()) {
    result.summary["adversarial"] = {{"kind", settings_.adv.kind},
                                     {"eps", settings_.adv.eps},
                                     {"held_out_images", robust_labels_.size()},
                                     {"best_pgd_acc", best_robust_},
                                     {"best_pgd_epoch", best_robust_epoch_},
                                     {"last", robust.back().to_json()},
                                     {"stopped_on_overfit", stopped_on_overfit_}};
  }
  io::write_text_atomically(dir_ + "/summary.json", result.summary.dump(2) + "\n");
  result.finished = true;
  std::printf("\nTrained %s for %lld epochs (%lld steps) in %s (%.0f img/s). Run directory: %s\n",
              card_.model.c_str(), static_cast<long long>(epoch_), static_cast<long long>(step_),
              format_duration(train_seconds_).c_str(), result.summary["train_img_per_s"].get<double>(),
              dir_.c_str());
  std::printf("Final %s accuracy: %.2f%% (top-5 %.2f%%; best per-epoch %.2f%% at epoch %lld)\n",
              final_set.c_str(), final_metrics.top1(), final_metrics.top5(), best_accuracy_,
              static_cast<long long>(best_epoch_));
  return result;
}

}  // namespace

Config resolve_inputs(Config config) {
  const Settings settings = settings_of(config);
  const data::DataSources sources = open_sources(settings);
  const int64_t side = training_size(settings.data, *sources.train, /*announce=*/false).first;
  if (sources.train->fixed_size().first == 0) config["data"]["image_size"] = side;
  config["data"]["train_transforms"] =
      pipeline_specs(settings.data.train_transforms, true, sources.kind, side);
  config["data"]["eval_transforms"] =
      pipeline_specs(settings.data.eval_transforms, false, sources.kind, side);
  return config;
}

std::string run_directory(const Config& config) {
  const Settings s = settings_of(config);
  std::string name = s.run.name;
  if (name.empty()) name = s.model.name + "-" + s.data.dataset.substr(0, s.data.dataset.find(':'));
  return s.run.dir + "/" + name;
}

void request_stop() {
  g_stop_requested = true;
}

RunResult train(const Config& config) {
  validate_config(config);
  const std::string dir = run_directory(config);
  const RunDirectoryLock lock(dir);  // before the data is read: a bad directory fails at once
  if (fs::exists(dir + "/last.safetensors"))
    throw UserError("'" + dir + "' already holds a run: continue it with `resnet train --resume " + dir +
                    "`, or start a new one with another --name (or delete the directory)");
  Run run(config, dir, nullptr);
  return run.execute();
}

RunResult resume(const std::string& run_dir, const Config& overrides, bool allow_thread_change) {
  if (!fs::exists(run_dir))
    throw UserError("there is no run to resume in '" + run_dir +
                    "' (it does not exist): pass the run directory `resnet train` printed, e.g. runs/NAME");
  const RunDirectoryLock lock(fs::is_directory(run_dir) ? run_dir : fs::path(run_dir).parent_path().string());
  models::Checkpoint checkpoint = models::load_checkpoint(run_dir, /*prefer_last=*/true);
  if (!checkpoint.has_training_state())
    throw UserError("'" + checkpoint.path() +
                    "' holds weights only, not a training state: resume needs the run's "
                    "last.safetensors");
  Config config = default_config();
  merge_config(config, checkpoint.config, checkpoint.path() + " (config)");
  if (!overrides.is_null()) {
    static const std::vector<std::string> allowed = {
        "run.threads",          "data.workers", "data.prefetch",        "run.stop_after_steps",
        "run.checkpoint_every", "run.plots",    "data.skip_bad_samples"};
    Config probe = config;
    merge_config(probe, overrides, "resume");
    for (const auto& section : {"model", "data", "optim", "schedule", "run"})
      for (const auto& [key, value] : probe[section].items()) {
        const std::string path = std::string(section) + "." + key;
        if (value != config[section][key] && std::find(allowed.begin(), allowed.end(), path) == allowed.end())
          throw UserError(
              "cannot change " + path +
              " when resuming (it would change the run's trajectory); "
              "settings that may change: run.threads, data.workers, data.prefetch, run.stop_after_steps, "
              "run.checkpoint_every, run.plots, data.skip_bad_samples" +
              (path == "optim.epochs"
                   ? ". To train longer, fine-tune from the run in a new one: resnet train "
                     "--init-from " +
                         run_dir + " --epochs N --name NEW"
                   : std::string()));
      }
    config = probe;
  }
  // Thread counts change how oneDNN splits its reductions, and with that the last bits of every step.
  set_num_threads(settings_of(config).run.threads);
  const int trained_with = checkpoint.state.value("threads", 0);  // 0: a checkpoint from before this rule
  if (trained_with > 0 && trained_with != num_threads()) {
    if (!allow_thread_change)
      throw UserError("the run in '" + run_dir + "' was trained with " + std::to_string(trained_with) +
                      " threads and would resume with " + std::to_string(num_threads()) +
                      ", which is not bit-identical to an uninterrupted run: resume with --threads " +
                      std::to_string(trained_with) +
                      ", or pass --allow-thread-change to accept the difference");
    std::fprintf(stderr,
                 "warning: resuming with %d threads instead of %d: the run will not be bit-identical to one "
                 "that never stopped\n",
                 num_threads(), trained_with);
  }
  const std::string dir = fs::path(checkpoint.path()).parent_path().string();
  // A finished run whose summary was written has nothing left to do: say so and change nothing, so that
  // "resume until done" loops end. (One killed between its last checkpoint and the summary finishes below.)
  const fs::path summary_file = fs::path(dir.empty() ? "." : dir) / "summary.json";
  if (checkpoint.state.value("finished", false) && fs::exists(summary_file)) {
    RunResult done;
    done.finished = true;
    std::ifstream in(summary_file);
    done.summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    const Settings s = settings_of(config);
    std::fprintf(
        stderr,
        "The run in '%s' has finished all %lld epochs: nothing to resume. To train longer, fine-tune "
        "from it in a new run (a new schedule): resnet train --init-from %s --epochs N --name NEW\n",
        run_dir.c_str(), static_cast<long long>(s.optim.epochs), run_dir.c_str());
    return done;
  }
  Run run(config, dir.empty() ? "." : dir, &checkpoint);
  return run.execute();
}

}  // namespace resnet::train
