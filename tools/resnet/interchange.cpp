// `resnet export` (a checkpoint, run directory, bare weights or .onnx file → ONNX) and `resnet import`
// (an ONNX ResNet → a resnet.cpp checkpoint with torchvision names, ready to evaluate or fine-tune).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "resnet/data/transforms.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/class_names.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/export.h"
#include "resnet/onnx/import.h"
#include "resnet/train/checkpoint.h"

namespace resnet::cli {
namespace {

struct ExportCommand {
  std::string checkpoint, onnx, model, calibration;
  int64_t classes = 0, in_channels = 0;
  bool fold_bn = false, ema = false, allow_nonfinite = false, int8 = false;
};

void run_export(const ExportCommand& o) {
  if (!o.calibration.empty() && !o.int8)
    throw UserError("--calibration " + o.calibration +
                    " is for --int8 exports: add --int8, or drop --calibration");
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  // --int8: the calibration `resnet quantize` wrote beside the checkpoint (or --calibration), read before
  // the model so that a missing one is reported first.
  const infer::Calibration calibration = infer::calibration_for(
      o.int8 ? infer::Precision::int8 : infer::Precision::f32, o.checkpoint, o.calibration);
  std::unique_ptr<models::ResNet> model;
  models::ModelCard card;
  if (!o.model.empty()) {
    // Bare weights: the architecture comes from the command line, as for `resnet forward --weights`.
    model = model_from_weights(o.model, o.checkpoint, o.classes, o.in_channels > 0 ? o.in_channels : 3);
    card = {
        .model = o.model, .num_classes = model->spec().num_classes, .in_channels = model->spec().in_channels};
    card.provenance = {.source_file = o.checkpoint, .source_format = "safetensors"};
  } else {
    const models::Checkpoint c = models::load_checkpoint(o.checkpoint);
    models::require(c.card, c.path(), {}, "resnet export");
    model = models::model_from_checkpoint(c, o.ema);
    card = c.card;
  }
  onnx::export_onnx(*model, o.onnx,
                    {.fold_bn = o.fold_bn, .card = card, .int8 = o.int8 ? &calibration : nullptr});
  std::printf("wrote %s: %s, opset 13, input \"input\" [N, %lld, H, W], output \"logits\" [N, %lld]%s\n",
              o.onnx.c_str(), card.model.c_str(), static_cast<long long>(model->spec().in_channels),
              static_cast<long long>(model->spec().num_classes),
              o.int8      ? ", int8 (QuantizeLinear/DequantizeLinear, BN folded)"
              : o.fold_bn ? ", BN folded"
                          : "");
}

struct ImportCommand {
  std::string onnx, out, class_names, dataset;
  std::vector<double> mean, std;
  int64_t input_size = 0;
  bool allow_nonfinite = false;
};

// What a foreign ONNX file does not say (class names, preprocessing, data set), from the command line.
void apply_overrides(const ImportCommand& o, onnx::ImportedModel& m) {
  models::Preprocessing& pre = m.card.preprocessing;
  const int64_t channels = m.spec.in_channels;
  if (!o.mean.empty() || !o.std.empty()) {
    const auto &mean = o.mean, &stdev = o.std;
    if (mean.size() != static_cast<size_t>(channels) || stdev.size() != static_cast<size_t>(channels))
      throw UserError("--mean and --std need one value per input channel (" + std::to_string(channels) + ")");
    auto list = [](const std::vector<double>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    };
    pre.mean = mean;
    pre.std = stdev;
    std::vector<std::string> transforms;
    for (const auto& t : pre.eval_transforms.value_or(std::vector<std::string>{}))
      if (t.rfind("normalize", 0) != 0) transforms.push_back(t);
    transforms.push_back("normalize(mean=" + list(mean) + ", std=" + list(stdev) + ")");
    pre.eval_transforms = transforms;
  }
  if (!o.class_names.empty())
    m.card.class_names = models::read_class_names(o.class_names, m.spec.num_classes);
  if (!o.dataset.empty()) m.card.provenance.dataset = o.dataset;
  if (o.input_size > 0) {
    if (o.input_size > data::kMaxImageSide)
      throw UserError("--input-size " + std::to_string(o.input_size) + " is beyond the largest image side (" +
                      std::to_string(data::kMaxImageSide) + ")");
    pre.input_size = models::InputSize{.channels = channels, .height = o.input_size, .width = o.input_size};
  }
}

void run_import(const ImportCommand& o) {
  // A misspelt --dataset is refused before the ONNX file is read.
  if (!o.dataset.empty()) check_dataset_flag(o.dataset);
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  onnx::ImportedModel imported = onnx::import_onnx(o.onnx);
  apply_overrides(o, imported);
  if (imported.card.preprocessing.mean.empty()) {
    // Torch's own exports carry no normalisation: without it predict would feed raw [0, 1] pixels.
    std::string example = imported.spec.in_channels == 3 ? " (ImageNet's: --mean 0.485 0.456 0.406 --std "
                                                           "0.229 0.224 0.225)"
                                                         : "";
    std::fprintf(stderr,
                 "warning: %s carries no preprocessing metadata: images will be fed unnormalised. Pass the "
                 "normalisation the model was trained with, --mean and --std%s\n",
                 o.onnx.c_str(), example.c_str());
  }
  auto model = std::make_unique<models::ResNet>(imported.spec);
  io::TensorFile weights;
  weights.path = o.onnx;
  weights.tensors = imported.tensors;
  nn::load_state_dict(*model, weights);
  train::save_checkpoint(o.out, *model, nullptr, nullptr, imported.card, nullptr, nullptr);
  std::printf("wrote %s: %s (%s)\n", o.out.c_str(), imported.card.model.c_str(), imported.summary.c_str());
}

}  // namespace

void add_interchange_commands(CLI::App& app) {
  auto e = std::make_shared<ExportCommand>();
  auto* exp = app.add_subcommand("export", "Write a network as an ONNX file (opset 13)");
  exp->add_option("--checkpoint", e->checkpoint,
                  "Run directory, checkpoint, .onnx file, or bare safetensors weights (then --model)")
      ->required();
  exp->add_option("--onnx", e->onnx, "ONNX file to write")->required();
  exp->add_flag("--fold-bn", e->fold_bn, "Fold batch norms into the convs (smaller, inference only)");
  exp->add_flag("--int8", e->int8,
                "Write the int8 engine's quantisation as QuantizeLinear/DequantizeLinear pairs (BN folded; "
                "needs the calibration `resnet quantize` wrote)");
  exp->add_option("--calibration", e->calibration,
                  "--int8: calibration file (default: RUN/calibration.json, or FILE.calibration.json)");
  exp->add_flag("--ema", e->ema, "Export the checkpoint's EMA weights");
  exp->add_flag("--allow-nonfinite", e->allow_nonfinite,
                "Export weights holding NaN/Inf or negative BN variances anyway (forensics)");
  exp->add_option("--model", e->model, "For bare weights: the model name (see `resnet models`)");
  exp->add_option("--classes", e->classes, "For bare weights: number of classes (default: the model's)");
  exp->add_option("--in-channels", e->in_channels, "For bare weights: input channels (default 3)");
  exp->callback([e] { run_export(*e); });

  auto i = std::make_shared<ImportCommand>();
  auto* imp = app.add_subcommand(
      "import", "Read an ONNX ResNet into a resnet.cpp checkpoint (torchvision names, trainable)");
  imp->add_option("model", i->onnx, "ONNX file")->required();
  imp->add_option("--out", i->out, "Checkpoint (.safetensors) to write")->required();
  add_list_option(imp, "--mean", i->mean,
                  "Per-channel normalisation mean, e.g. 0.485 0.456 0.406 (with --std)");
  add_list_option(imp, "--std", i->std,
                  "Per-channel normalisation std, e.g. 0.229 0.224 0.225 (with --mean)");
  imp->add_option("--class-names", i->class_names, "Text file of class names, one per line");
  imp->add_option("--dataset", i->dataset, "Data set spec eval/predict --index use by default");
  imp->add_option("--input-size", i->input_size, "Input height = width the model expects")
      ->check(CLI::PositiveNumber);
  imp->add_flag("--allow-nonfinite", i->allow_nonfinite,
                "Import weights holding NaN/Inf or negative BN variances anyway (forensics)");
  imp->callback([i] { run_import(*i); });
}

}  // namespace resnet::cli
