// `resnet eval` (accuracy, per-class table, confusion matrix of a checkpoint on a data set) and
// `resnet predict` (top-k classes for image files, directories of images, or test-set indices).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "resnet/core/memory_budget.h"
#include "resnet/core/parallel.h"
#include "resnet/data/image.h"
#include "resnet/data/loader.h"
#include "resnet/data/sources.h"
#include "resnet/data/transforms.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/infer/engine.h"
#include "resnet/infer/predict.h"
#include "resnet/models/checkpoint.h"
#include "resnet/models/memory_estimate.h"
#include "resnet/nn/state_dict.h"
#include "resnet/train/evaluate.h"
#include "resnet/viz/chart.h"

namespace resnet::cli {
namespace {

namespace fs = std::filesystem;

struct EvalOptions {
  std::string checkpoint, dataset, split = "test", confusion_png, engine, calibration;
  bool ema = false, allow_nonfinite = false;
  std::string batch_size = "500";
  int64_t limit = 0;
  int threads = 0, workers = 1;
  Output output;
};

// A count given on the command line: digits, or a whole number in float notation (1e9, as users write
// big numbers), at least 1. Values beyond int64 saturate; callers clamp them to what they count.
int64_t parse_count(const std::string& text, const std::string& flag) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::out_of_range&) {
    value = HUGE_VAL;
    used = text.size();
  } catch (const std::exception&) {
  }
  if (used == 0 || used != text.size() || !(value >= 1) ||
      (std::isfinite(value) && value != std::floor(value)))
    throw UserError(flag + " '" + text + "' is not a whole number of at least 1 (e.g. 500 or 1e4)");
  return value >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(value);
}

// The data set a checkpoint was trained on, or `override`; imported models (ONNX) may not name one.
std::string dataset_of(const models::Checkpoint& c, const std::string& override) {
  const std::string spec = override.empty() ? c.card.provenance.dataset : override;
  if (spec.empty())
    throw UserError("'" + c.path() +
                    "' does not name the data set it was trained on (an imported model?): pass --dataset "
                    "(fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, folder:DIR)");
  return spec;
}

void check_compatible(const models::Checkpoint& c, const data::Dataset& set) {
  const int64_t classes = c.card.num_classes;
  if (set.num_classes() != classes)
    throw UserError(
        "'" + c.path() + "' classifies " + std::to_string(classes) + " classes but " + set.describe() +
        " has " + std::to_string(set.num_classes()) + ": evaluate on the data set it was trained for" +
        (c.card.provenance.dataset.empty() ? std::string() : " (" + c.card.provenance.dataset + ")"));
}

}  // namespace

std::unique_ptr<data::DataLoader> checkpoint_loader(const models::Checkpoint& c, const std::string& dataset,
                                                    const std::string& split, int64_t limit,
                                                    int64_t batch_size, int workers) {
  using models::CardField;
  models::require(
      c.card, c.path(),
      {CardField::num_classes, CardField::input_size, CardField::class_names, CardField::eval_transforms},
      "evaluating on a data set");
  const models::InputSize size = *c.card.preprocessing.input_size;
  auto set = open_split(dataset_of(c, dataset), split, size.channels, limit);
  check_compatible(c, *set);
  // A batch beyond the data set is the whole data set; what the loader then holds must fit.
  batch_size = std::min(batch_size, set->size());
  const data::LoaderOptions defaults;
  check_memory_budget(4.0 * static_cast<double>(defaults.prefetch) * static_cast<double>(batch_size) *
                          static_cast<double>(size.channels) * static_cast<double>(size.height) *
                          static_cast<double>(size.width),
                      "loading " + std::to_string(defaults.prefetch) + " batches of " +
                          std::to_string(batch_size) + " " + std::to_string(size.channels) + "×" +
                          std::to_string(size.height) + "×" + std::to_string(size.width) + " images of " +
                          set->describe(),
                      "lower --batch-size");
  return std::make_unique<data::DataLoader>(set, data::parse_pipeline(*c.card.preprocessing.eval_transforms),
                                            data::LoaderOptions{.batch_size = batch_size,
                                                                .shuffle = false,
                                                                .drop_last = false,
                                                                .workers = workers,
                                                                .channels = size.channels,
                                                                .height = size.height,
                                                                .width = size.width});
}

namespace {

void run_eval(const EvalOptions& o) {
  o.output.begin();
  // A misspelt --dataset or --engine is refused before the checkpoint or any data is read.
  if (!o.dataset.empty()) check_dataset_flag(o.dataset);
  if (!o.engine.empty()) infer::parse_precision(o.engine);
  set_num_threads(o.threads);
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  const models::Checkpoint c = models::load_checkpoint(o.checkpoint);
  models::require(c.card, c.path(),
                  {models::CardField::num_classes, models::CardField::input_size,
                   models::CardField::class_names, models::CardField::eval_transforms},
                  "resnet eval");
  auto model = models::model_from_checkpoint(c, o.ema);
  const auto loader_ptr =
      checkpoint_loader(c, o.dataset, o.split, o.limit, parse_count(o.batch_size, "--batch-size"), o.workers);
  data::DataLoader& loader = *loader_ptr;
  const data::Dataset* set = &loader.dataset();
  const models::InputSize size = *c.card.preprocessing.input_size;
  models::check_inference_fits(model->spec(), loader.options().batch_size, size.channels, size.height,
                               size.width, "evaluating " + c.card.model, "lower --batch-size");
  o.output.note(
      "Evaluating %s (%s%s%s) on %s\n", c.path().c_str(), c.card.model.c_str(), o.ema ? ", EMA weights" : "",
      o.engine.empty() ? "" : (", " + o.engine + " inference engine").c_str(), set->describe().c_str());
  std::optional<train::ClassificationMetrics> evaluated;
  if (o.engine.empty()) {
    evaluated = train::evaluate(*model, loader, "eval");
  } else {
    const infer::Precision precision = infer::parse_precision(o.engine);
    const infer::Calibration calibration = infer::calibration_for(precision, o.checkpoint, o.calibration);
    model->eval();
    infer::EngineSet engines(*model, precision, &calibration);
    evaluated = train::evaluate([&](const Tensor& x) -> const Tensor& { return engines.run(x); }, loader,
                                "eval " + o.engine);
  }
  const train::ClassificationMetrics& metrics = *evaluated;
  const auto& names = c.card.class_names;
  o.output.print("%s\n", train::format_class_report(metrics, names).c_str());
  const train::ClassScores macro = metrics.macro_average();
  // Top-5 of five classes or fewer is 100 % whatever the model: not worth a number.
  char top5[32] = "";
  if (metrics.top5_meaningful()) std::snprintf(top5, sizeof top5, "  top-5 %.2f%%", metrics.top5());
  o.output.print("%s on %s: top-1 %.2f%%%s  macro F1 %.4f  loss %.4f  (%lld images)\n", c.card.model.c_str(),
                 set->describe().c_str(), metrics.top1(), top5, macro.f1, metrics.loss(),
                 static_cast<long long>(metrics.count()));
  if (!o.confusion_png.empty()) {
    viz::save_confusion_matrix_png(metrics.confusion(), names, "confusion matrix", o.confusion_png);
    o.output.print("wrote %s\n", o.confusion_png.c_str());
  }
  // JSON has no NaN: a score with nothing to score (a class with no sample) is null.
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  auto scores_json = [&](const train::ClassScores& s) {
    return nlohmann::json{{"precision", number(s.precision)},
                          {"recall", number(s.recall)},
                          {"f1", number(s.f1)},
                          {"samples", s.support}};
  };
  nlohmann::json classes = nlohmann::json::array();
  const auto accuracy = metrics.per_class_accuracy();
  const auto scores = metrics.per_class_scores();
  for (size_t k = 0; k < names.size(); ++k) {
    nlohmann::json entry = scores_json(scores[k]);
    entry["name"] = names[k];
    entry["accuracy"] = number(accuracy[k]);
    classes.push_back(entry);
  }
  o.output.result(
      {{"checkpoint", c.path()},
       {"model", c.card.model},
       {"dataset", set->describe()},
       {"split", o.split},
       {"weights", o.ema ? "ema" : "model"},
       {"engine", o.engine.empty() ? std::string("module") : o.engine},
       {"images", metrics.count()},
       {"top1", metrics.top1()},
       {"top5", metrics.top5_meaningful() ? nlohmann::json(metrics.top5()) : nlohmann::json(nullptr)},
       {"loss", metrics.loss()},
       {"macro", scores_json(macro)},
       {"classes", classes},
       {"confusion", metrics.confusion()},
       {"confusion_png",
        o.confusion_png.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.confusion_png)}});
}

struct PredictOptions {
  std::string checkpoint, engine, calibration;
  std::vector<std::string> inputs, indices;
  int64_t top_k = 3;
  bool ema = false, allow_nonfinite = false;
  int threads = 0;
  Output output;
};

void run_predict(const PredictOptions& o) {
  o.output.begin();
  if (!o.engine.empty()) infer::parse_precision(o.engine);  // refused before anything is read
  set_num_threads(o.threads);
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  const models::Checkpoint c = models::load_checkpoint(o.checkpoint);
  models::require(
      c.card, c.path(),
      {models::CardField::input_size, models::CardField::class_names, models::CardField::eval_transforms},
      "resnet predict");
  auto model = models::model_from_checkpoint(c, o.ema);
  const infer::CardPreprocessing preprocessing(c.card, c.path());
  const models::InputSize size = preprocessing.input_size();
  const auto& names = c.card.class_names;

  std::vector<InputImage> items = gather_images(c, size.channels, o.inputs, o.indices);
  if (items.empty()) throw UserError("nothing to predict: give image files or directories, or --index N");

  Tensor input = Tensor::empty({1, size.channels, size.height, size.width});
  // --engine: the model as deployed (BN folded; bf16, or int8 with the calibration quantize wrote).
  infer::Calibration calibration;
  std::unique_ptr<infer::Engine> engine;
  if (!o.engine.empty()) {
    const infer::Precision precision = infer::parse_precision(o.engine);
    calibration = infer::calibration_for(precision, o.checkpoint, o.calibration);
    model->eval();
    engine = std::make_unique<infer::Engine>(*model, input.shape(), precision, &calibration);
  }
  int64_t correct = 0, labelled = 0;
  nlohmann::json predictions = nlohmann::json::array();
  for (auto& item : items) {
    preprocessing.apply(item.image, input.data<float>(), item.name);
    const Tensor& logits = engine ? engine->run(input) : model->forward(input);
    const std::vector<infer::ClassScore> top = infer::top_k(logits.data<float>(), logits.size(1), o.top_k);
    o.output.print("%s:", item.name.c_str());
    nlohmann::json top_k = nlohmann::json::array();
    for (const infer::ClassScore& score : top) {
      o.output.print("  %s %.1f%%", names[score.index].c_str(), 100.0 * score.probability);
      top_k.push_back(
          {{"class", names[score.index]}, {"index", score.index}, {"probability", score.probability}});
    }
    nlohmann::json prediction = {{"input", item.name}, {"top", top_k}};
    if (item.truth >= 0) {
      const bool ok = top[0].index == item.truth;
      correct += ok, ++labelled;
      o.output.print("   (true: %s%s)", names[item.truth].c_str(), ok ? "" : ", WRONG");
      prediction["truth"] = names[item.truth];
      prediction["correct"] = ok;
    }
    o.output.print("\n");
    predictions.push_back(std::move(prediction));
  }
  if (labelled > 0)
    o.output.print("%lld of %lld labelled images correct\n", static_cast<long long>(correct),
                   static_cast<long long>(labelled));
  nlohmann::json document = {{"checkpoint", c.path()},
                             {"model", c.card.model},
                             {"engine", o.engine.empty() ? std::string("module") : o.engine},
                             {"predictions", predictions}};
  if (labelled > 0) document["labelled"] = {{"images", labelled}, {"correct", correct}};
  o.output.result(document);
}

}  // namespace

void add_eval_commands(CLI::App& app) {
  auto e = std::make_shared<EvalOptions>();
  auto* eval = app.add_subcommand("eval", "Accuracy, per-class table and confusion matrix of a checkpoint");
  eval->add_option("--checkpoint", e->checkpoint, "Run directory (its best.safetensors) or checkpoint file")
      ->required();
  eval->add_option("--dataset", e->dataset, "Data set spec (default: the one it was trained on)");
  eval->add_option("--split", e->split, "test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  eval->add_flag("--ema", e->ema, "Use the checkpoint's EMA weights");
  eval->add_flag("--allow-nonfinite", e->allow_nonfinite,
                 "Load weights holding NaN/Inf or negative BN variances anyway (forensics)");
  eval->add_option("--batch-size", e->batch_size, "Images per forward (at most the data set's size)")
      ->capture_default_str();
  eval->add_option("--limit", e->limit, "Only the first N images (0 = all)")->capture_default_str();
  eval->add_option("--confusion-png", e->confusion_png, "Also draw the confusion matrix to this PNG");
  eval->add_option("--engine", e->engine,
                   "Run the inference engine at this precision instead of the module network: fp32, bf16 "
                   "or int8 (int8 reads the calibration `resnet quantize` wrote)");
  eval->add_option("--calibration", e->calibration,
                   "int8: calibration file (default: RUN/calibration.json, or FILE.calibration.json)");
  eval->add_option("--threads", e->threads, "Threads (0 = all cores)")->capture_default_str();
  eval->add_option("--workers", e->workers, "Data loader threads")->capture_default_str();
  e->output.add_flags(eval);
  eval->callback([e] { run_eval(*e); });

  auto p = std::make_shared<PredictOptions>();
  auto* predict = app.add_subcommand(
      "predict", "Top-k classes for images (PNG/JPEG files or directories) or test-set indices");
  predict
      ->add_option("--checkpoint", p->checkpoint, "Run directory (its best.safetensors) or checkpoint file")
      ->required();
  predict->add_option("inputs", p->inputs, "Image files or directories of images");
  add_list_option(predict, "--index", p->indices,
                  "Test-set images of the checkpoint's data set: 3, 0-7, 1,5,9");
  predict->add_option("--top-k", p->top_k, "Classes to show per image")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  predict->add_flag("--ema", p->ema, "Use the checkpoint's EMA weights");
  predict->add_option("--engine", p->engine,
                      "Run the inference engine at this precision instead of the module network: fp32, bf16 "
                      "or int8 (int8 reads the calibration `resnet quantize` wrote)");
  predict->add_option("--calibration", p->calibration,
                      "int8: calibration file (default: RUN/calibration.json, or FILE.calibration.json)");
  predict->add_flag("--allow-nonfinite", p->allow_nonfinite,
                    "Load weights holding NaN/Inf or negative BN variances anyway (forensics)");
  predict->add_option("--threads", p->threads, "Threads (0 = all cores)")->capture_default_str();
  p->output.add_flags(predict);
  predict->callback([p] { run_predict(*p); });
}

}  // namespace resnet::cli
