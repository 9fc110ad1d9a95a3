// `resnet attack --corruptions`: a checkpoint's accuracy on its test set under each common corruption at
// each severity (robust/corruptions.h), and the corruption errors relative to a reference checkpoint
// (Hendrycks & Dietterich 2019: CE_c = Σ_s E_{s,c} / Σ_s E^ref_{s,c}; mCE = the mean CE over corruptions).
#include <filesystem>

#include "attack.h"
#include "inputs.h"
#include "resnet/core/parallel.h"
#include "resnet/data/image.h"
#include "resnet/explain/targets.h"
#include "resnet/io/atomic_file.h"
#include "resnet/robust/attacks.h"
#include "resnet/robust/corruptions.h"
#include "resnet/viz/grid.h"

namespace resnet::cli {

namespace {

namespace fs = std::filesystem;
using robust::Corruption;

struct Evaluated {
  models::Checkpoint checkpoint;
  std::unique_ptr<models::ResNet> model;
  std::unique_ptr<robust::PixelModel> pixels;
};

Evaluated open_model(const std::string& path, bool ema) {
  Evaluated e;
  e.checkpoint = models::load_checkpoint(path);
  e.model = models::model_from_checkpoint(e.checkpoint, ema);
  e.model->eval();
  const auto& pre = e.checkpoint.card.preprocessing;
  if (pre.mean.empty() || pre.std.empty())
    throw UserError("checkpoint '" + e.checkpoint.path() +
                    "' carries no normalisation (mean/std), which corruptions of [0, 1] pixels need: "
                    "retrain or re-export it with its model card");
  e.pixels = std::make_unique<robust::PixelModel>(*e.model, floats(pre.mean), floats(pre.std));
  return e;
}

}  // namespace

void run_corruptions(const AttackCliOptions& o) {
  o.output.begin();
  std::vector<Corruption> corruptions;
  for (const auto& name : o.corruptions)
    if (!name.empty() && name != "all") corruptions.push_back(robust::parse_corruption(name));
  if (corruptions.empty()) corruptions = robust::all_corruptions();
  if (o.checkpoint.empty()) throw UserError("--corruptions needs --checkpoint RUN (a data set is corrupted)");
  if (o.out.empty())
    throw UserError("--out DIR is needed with --corruptions (the grid and summary.json go there)");
  if (o.batch < 1) throw UserError("--batch " + std::to_string(o.batch) + " is not allowed: give at least 1");
  if (o.limit < 0) throw UserError("--limit must be ≥ 0 (0: the whole split)");
  set_num_threads(o.threads);

  Evaluated target = open_model(o.checkpoint, o.ema);
  std::unique_ptr<Evaluated> reference;
  if (!o.reference.empty()) {
    reference = std::make_unique<Evaluated>(open_model(o.reference, false));
    if (reference->model->spec().num_classes != target.model->spec().num_classes)
      throw UserError("--reference '" + reference->checkpoint.path() + "' has " +
                      std::to_string(reference->model->spec().num_classes) + " classes, the checkpoint " +
                      std::to_string(target.model->spec().num_classes) + ": give a model of the same task");
  }
  const models::Checkpoint& c = target.checkpoint;
  models::require(c.card, c.path(), {models::CardField::input_size, models::CardField::eval_transforms},
                  "resnet attack --corruptions");
  const infer::CardPreprocessing pre(c.card, c.path());
  if (pre.input_size().channels != 1 && pre.input_size().channels != 3)
    throw UserError("corruptions take grey or RGB images; this model has " +
                    std::to_string(pre.input_size().channels) + " input channels");
  const std::string spec = o.dataset.empty() ? c.card.provenance.dataset : o.dataset;
  if (spec.empty()) throw UserError("checkpoint '" + c.path() + "' names no data set: give --dataset D");
  const auto set = open_split(spec, o.split, pre.input_size().channels, o.limit);
  const int64_t n = set->size();
  if (n == 0) throw UserError("the " + o.split + " split of '" + spec + "' is empty");
  const auto mean = floats(c.card.preprocessing.mean), std = floats(c.card.preprocessing.std);

  o.output.note("Corrupting %lld images of %s: %zu corruption%s × %d severities\n", static_cast<long long>(n),
                set->describe().c_str(), corruptions.size(), corruptions.size() == 1 ? "" : "s",
                robust::kSeverities);
  train::ProgressBar bar("corrupt", n * static_cast<int64_t>(corruptions.size()) * robust::kSeverities);
  int64_t done = 0, clean = 0, reference_clean = 0;
  const size_t cells = corruptions.size() * robust::kSeverities;
  std::vector<int64_t> correct(cells, 0), reference_correct(cells, 0);
  std::vector<data::Image> pictures;
  std::vector<std::string> captions;
  const int64_t scale = std::max<int64_t>(1, 84 / std::max<int64_t>(pre.input_size().height, 1));
  auto name_of = [&](int64_t k) {
    return k >= 0 && k < static_cast<int64_t>(c.card.class_names.size()) ? c.card.class_names[k]
                                                                         : std::to_string(k);
  };
  auto count = [](const Tensor& logits, const std::vector<int64_t>& labels) {
    const std::vector<int64_t> p = explain::predicted_classes(logits);
    int64_t k = 0;
    for (size_t i = 0; i < p.size(); ++i) k += p[i] == labels[i];
    return k;
  };
  for (int64_t start = 0; start < n; start += o.batch) {
    const int64_t size = std::min(o.batch, n - start);
    const Batch b = load_batch(*set, pre, start, size, mean, std);
    clean += count(target.pixels->logits(b.x), b.labels);
    if (reference) reference_clean += count(reference->pixels->logits(b.x), b.labels);
    for (size_t k = 0; k < corruptions.size(); ++k)
      for (int s = 1; s <= robust::kSeverities; ++s) {
        const Tensor x = robust::corrupt(b.x, corruptions[k], s, o.seed, start);
        const Tensor logits = target.pixels->logits(x);
        const size_t cell = k * robust::kSeverities + static_cast<size_t>(s - 1);
        correct[cell] += count(logits, b.labels);
        if (reference) reference_correct[cell] += count(reference->pixels->logits(x), b.labels);
        if (start == 0) {  // the picture: the first image under every corruption and severity
          if (s == 1) {
            pictures.push_back(to_image(b.x, 0, scale));
            captions.emplace_back(robust::corruption_name(corruptions[k]));
          }
          pictures.push_back(to_image(x, 0, scale));
          captions.push_back(std::to_string(s) + ": " + name_of(explain::predicted_classes(logits)[0]));
        }
        done += size;
        bar.update(done, std::string(robust::corruption_name(corruptions[k])) + " " + std::to_string(s));
      }
  }
  bar.finish();

  const double total = static_cast<double>(n);
  o.output.print(
      "clean accuracy: %.2f %% of %lld%s\n", 100 * clean / total, static_cast<long long>(n),
      reference
          ? (" (reference " + std::to_string(100 * reference_clean / total).substr(0, 5) + " %)").c_str()
          : "");
  o.output.print("%-15s %7s %7s %7s %7s %7s %7s%s\n", "corruption", "1", "2", "3", "4", "5", "mean",
                 reference ? "      CE" : "");
  nlohmann::json rows = nlohmann::json::array();
  double ce_sum = 0, accuracy_sum = 0;
  for (size_t k = 0; k < corruptions.size(); ++k) {
    nlohmann::json accuracy = nlohmann::json::array();
    double errors = 0, reference_errors = 0, mean_accuracy = 0;
    o.output.print("%-15s", std::string(robust::corruption_name(corruptions[k])).c_str());
    for (int s = 0; s < robust::kSeverities; ++s) {
      const size_t cell = k * robust::kSeverities + static_cast<size_t>(s);
      const double a = correct[cell] / total;
      accuracy.push_back(a);
      mean_accuracy += a / robust::kSeverities;
      errors += 1 - a;
      reference_errors += 1 - reference_correct[cell] / total;
      o.output.print(" %7.2f", 100 * a);
    }
    accuracy_sum += mean_accuracy;
    nlohmann::json row = {{"corruption", robust::corruption_name(corruptions[k])},
                          {"accuracy", accuracy},
                          {"mean_accuracy", mean_accuracy}};
    o.output.print(" %7.2f", 100 * mean_accuracy);
    if (reference) {
      const double ce = reference_errors > 0 ? errors / reference_errors : 0.0;
      ce_sum += ce;
      row["ce"] = ce;
      o.output.print(" %7.1f%%", 100 * ce);
    }
    o.output.print("\n");
    rows.push_back(row);
  }
  const double mean_accuracy = accuracy_sum / static_cast<double>(corruptions.size());
  o.output.print("mean over corruptions and severities: %.2f %%\n", 100 * mean_accuracy);
  nlohmann::json summary = {{"checkpoint", c.path()},
                            {"dataset", set->describe()},
                            {"images", n},
                            {"seed", o.seed},
                            {"clean_accuracy", clean / total},
                            {"corruptions", rows},
                            {"mean_accuracy", mean_accuracy}};
  if (reference) {
    const double mce = ce_sum / static_cast<double>(corruptions.size());
    o.output.print("mCE relative to %s: %.1f %%\n", reference->checkpoint.path().c_str(), 100 * mce);
    summary["reference"] = reference->checkpoint.path();
    summary["reference_clean_accuracy"] = reference_clean / total;
    summary["mce"] = mce;
  }
  fs::create_directories(o.out);
  const std::string grid = (fs::path(o.out) / "corruptions.png").string();
  data::write_png(grid,
                  viz::make_grid(pictures, captions, {.cols = robust::kSeverities + 1, .caption_px = 10}));
  summary["grid"] = grid;
  io::write_text_atomically((fs::path(o.out) / "summary.json").string(), summary.dump(2) + "\n");
  o.output.print("Wrote %s (corruptions.png, summary.json)\n", o.out.c_str());
  o.output.result(summary);
}

}  // namespace resnet::cli
