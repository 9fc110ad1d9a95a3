// `resnet quantize`: post-training int8 quantisation of a checkpoint. Calibrates the activation ranges of
// every step of the inference engine on training images (the checkpoint's evaluation transforms, so the
// data look as they will at inference), writes them as a calibration file beside the checkpoint, then
// measures what int8 costs: top-1 of the fp32 and int8 engines on the test set, and how often they agree.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "output.h"
#include "resnet/core/parallel.h"
#include "resnet/data/loader.h"
#include "resnet/data/sources.h"
#include "resnet/data/transforms.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/models/checkpoint.h"
#include "resnet/train/evaluate.h"
#include "resnet/train/progress.h"

namespace resnet::cli {

namespace {

struct QuantizeOptions {
  std::string checkpoint, dataset, out;
  int64_t images = 1000, batch_size = 100, test_limit = 0;
  bool evaluate = true, ema = false;
  int threads = 0, workers = 1;
  Output output;
};

void run_quantize(const QuantizeOptions& o) {
  o.output.begin();
  // A misspelt --dataset is refused before the checkpoint or any data is read.
  if (!o.dataset.empty()) check_dataset_flag(o.dataset);
  set_num_threads(o.threads);
  if (o.images < 1) throw UserError("--images must be at least 1");
  if (o.batch_size < 1) throw UserError("--batch-size must be at least 1");
  const models::Checkpoint c = models::load_checkpoint(o.checkpoint);
  models::require(c.card, c.path(),
                  {models::CardField::num_classes, models::CardField::input_size,
                   models::CardField::class_names, models::CardField::eval_transforms},
                  "resnet quantize");
  auto model = models::model_from_checkpoint(c, o.ema);
  model->eval();
  const std::string out = o.out.empty() ? infer::default_calibration_path(o.checkpoint) : o.out;

  auto calibration_data = checkpoint_loader(c, o.dataset, "train", o.images, o.batch_size, o.workers);
  o.output.note("Calibrating %s on %lld images of %s\n", c.card.model.c_str(),
                static_cast<long long>(calibration_data->dataset().size()),
                calibration_data->dataset().describe().c_str());
  infer::Calibration calibration;
  infer::EngineSet observers(*model, infer::Precision::f32);
  train::ProgressBar bar("calibrate", calibration_data->dataset().size());
  calibration_data->start_epoch(0);
  while (const data::Batch* batch = calibration_data->next()) {
    observers.engine_for(batch->images.shape()).observe(batch->images, calibration);
    bar.update(calibration.images);
  }
  bar.finish(std::to_string(calibration.ranges.size()) + " activation ranges");
  infer::save_calibration(out, calibration);
  o.output.print("wrote %s (%zu activation ranges from %lld images)\n", out.c_str(),
                 calibration.ranges.size(), static_cast<long long>(calibration.images));
  nlohmann::json document = {{"checkpoint", c.path()},
                             {"model", c.card.model},
                             {"calibration",
                              {{"file", out},
                               {"ranges", calibration.ranges.size()},
                               {"images", calibration.images},
                               {"dataset", calibration_data->dataset().describe()}}}};
  if (!o.evaluate) {
    o.output.result(document);
    return;
  }

  auto test = checkpoint_loader(c, o.dataset, "test", o.test_limit, o.batch_size, o.workers);
  struct Row {
    const char* name;
    infer::Precision precision;
    train::ClassificationMetrics metrics{1};
    double seconds = 0;
  };
  std::vector<Row> rows{{"fp32", infer::Precision::f32}, {"int8", infer::Precision::int8}};
  std::vector<std::vector<int64_t>> predictions(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    infer::EngineSet engines(*model, rows[r].precision, &calibration);
    const auto start = std::chrono::steady_clock::now();
    rows[r].metrics = train::evaluate(
        [&](const Tensor& images) -> const Tensor& {
          const Tensor& logits = engines.run(images);
          const int64_t k = logits.size(1);
          for (int64_t i = 0; i < logits.size(0); ++i) {
            const float* row = logits.data<float>() + i * k;
            predictions[r].push_back(std::max_element(row, row + k) - row);
          }
          return logits;
        },
        *test, std::string(rows[r].name) + " engine");
    rows[r].seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  int64_t agree = 0;
  for (size_t i = 0; i < predictions[0].size(); ++i) agree += predictions[0][i] == predictions[1][i];
  const double agreement =
      100.0 * static_cast<double>(agree) / static_cast<double>(std::max<size_t>(1, predictions[0].size()));
  o.output.print("\n%s on %s (%lld images)\n", c.card.model.c_str(), test->dataset().describe().c_str(),
                 static_cast<long long>(rows[0].metrics.count()));
  o.output.print("  engine   top-1     top-5     loss     img/s (incl. loading)\n");
  nlohmann::json engines = nlohmann::json::object();
  for (const Row& r : rows) {
    const double rate = static_cast<double>(r.metrics.count()) / r.seconds;
    o.output.print("  %-6s  %6.2f%%   %6.2f%%   %.4f   %.0f\n", r.name, r.metrics.top1(), r.metrics.top5(),
                   r.metrics.loss(), rate);
    engines[r.name] = {{"top1", r.metrics.top1()},
                       {"top5", r.metrics.top5()},
                       {"loss", r.metrics.loss()},
                       {"images_per_second", rate}};
  }
  o.output.print("int8 - fp32: %+.2f points of top-1; the two agree on %.2f%% of the images\n",
                 rows[1].metrics.top1() - rows[0].metrics.top1(), agreement);
  document["evaluation"] = {{"dataset", test->dataset().describe()},
                            {"images", rows[0].metrics.count()},
                            {"engines", engines},
                            {"top1_change", rows[1].metrics.top1() - rows[0].metrics.top1()},
                            {"agreement", agreement}};
  o.output.result(document);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  auto* cmd = app.add_subcommand(
      "quantize",
      "Post-training int8 quantisation: calibrate activation ranges on training images, then compare the "
      "int8 and fp32 engines on the test set");
  cmd->footer(
      "Writes RUN/calibration.json (or FILE.calibration.json beside a checkpoint file); `resnet eval "
      "--engine int8` uses it.\nExample:\n  resnet quantize --checkpoint runs/demo --images 2000");
  cmd->add_option("--checkpoint", o->checkpoint, "Run directory or checkpoint file")->required();
  cmd->add_option("--images", o->images, "Training images to calibrate on (the first N)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Calibration file to write (default: beside the checkpoint)");
  cmd->add_option("--dataset", o->dataset, "Data set (default: the one the checkpoint was trained on)");
  cmd->add_option("--batch-size", o->batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--test-limit", o->test_limit, "Evaluate on the first N test images only (0: all)");
  cmd->add_flag("!--no-eval", o->evaluate, "Only calibrate; skip the fp32-vs-int8 evaluation");
  cmd->add_flag("--ema", o->ema, "Quantise the checkpoint's EMA weights");
  cmd->add_option("--threads", o->threads, "Compute threads (default: all cores)");
  cmd->add_option("--workers", o->workers, "Data-loading threads")->capture_default_str();
  o->output.add_flags(cmd);
  cmd->callback([o] { run_quantize(*o); });
}

}  // namespace resnet::cli
