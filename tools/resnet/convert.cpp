// `resnet convert model.pth --out model.safetensors`: a PyTorch checkpoint (torch.save, zip or legacy) to
// safetensors with torchvision names; with --model, checked against that architecture and written as a
// resnet.cpp checkpoint that `resnet eval` and `resnet predict` take directly.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "resnet/data/imagenet_classes.h"
#include "resnet/data/transforms.h"
#include "resnet/io/pth.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/class_names.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"
#include "resnet/train/checkpoint.h"

namespace resnet::cli {
namespace {

struct ConvertOptions {
  std::string input, out, key, model, class_names_file;
  int64_t classes = 0, in_channels = 0, input_size = 0;
  double width = 0;  // 0: from conv1.weight
  std::vector<double> mean, std;
  bool keep_module_prefix = false, allow_nonfinite = false;
};

// The first dimension of tensor `name`, or 0 when absent.
int64_t dim_of(const io::PthFile& pth, const std::string& name, int dim) {
  for (const auto& [n, t] : pth.tensors)
    if (n == name && t.ndim() > dim) return t.size(dim);
  return 0;
}

void run_convert(const ConvertOptions& o) {
  namespace fs = std::filesystem;
  if (fs::exists(o.out) && fs::equivalent(o.input, o.out))
    throw UserError("--out '" + o.out + "' is the input file: choose another output path");
  if (!o.model.empty()) check_model_flag(o.model);  // an unknown name fails before any file is read
  const io::PthFile pth = io::load_pth(o.input, {.key = o.key, .keep_module_prefix = o.keep_module_prefix});
  for (const auto& note : pth.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  if (!o.allow_nonfinite)  // also without --model, where nothing else loads the weights
    for (const auto& [name, t] : pth.tensors) io::check_healthy(name, t, o.input);
  int64_t values = 0;
  for (const auto& [n, t] : pth.tensors) values += t.numel();

  if (o.model.empty()) {
    io::save_safetensors(o.out, pth.tensors, {{"source", fs::path(o.input).filename().string()}});
    std::printf(
        "wrote %s: %zu tensors, %lld values (from a %s-format .pth); add --model NAME to check them "
        "against an architecture and make a checkpoint for `resnet predict`\n",
        o.out.c_str(), pth.tensors.size(), static_cast<long long>(values), pth.format.c_str());
    return;
  }

  const int64_t classes = o.classes > 0 ? o.classes : dim_of(pth, "fc.weight", 0);
  const int64_t channels = o.in_channels > 0 ? o.in_channels : dim_of(pth, "conv1.weight", 1);
  double width = o.width;
  if (width <= 0) {  // a narrower or wider net: the stem's width against the model's own
    width = 1.0;
    const int64_t stem = dim_of(pth, "conv1.weight", 0);
    auto standard = models::create_model(o.model, {.num_classes = classes, .in_channels = channels});
    const int64_t standard_stem = standard->named_parameters().front().second->value().size(0);
    if (stem > 0 && stem != standard_stem) {
      width = static_cast<double>(stem) / static_cast<double>(standard_stem);
      std::fprintf(
          stderr, "note: conv1 has %lld channels where %s has %lld: width multiplier %g (--width sets it)\n",
          static_cast<long long>(stem), o.model.c_str(), static_cast<long long>(standard_stem), width);
    }
  }
  auto model = models::create_model(
      o.model, {.num_classes = classes, .in_channels = channels, .width_multiplier = width});
  io::TensorFile file;
  file.path = o.input;
  file.tensors = pth.tensors;
  nn::load_state_dict(*model, file);  // strict: missing, unexpected and mis-shaped names reported together
  model->eval();

  const auto& registry = models::registered_models();
  const auto info_it = std::find_if(registry.begin(), registry.end(),
                                    [&](const models::ModelInfo& m) { return m.name == o.model; });
  const bool imagenet_style = info_it->default_size >= 224;
  const int64_t size = o.input_size > 0 ? o.input_size : info_it->default_size;
  const int64_t actual_classes = model->named_parameters().back().second->value().size(0);
  const int64_t actual_channels = model->named_parameters().front().second->value().size(1);

  std::vector<double> mean = o.mean, stdev = o.std;
  if (mean.empty() != stdev.empty()) throw UserError("give both --mean and --std, or neither");
  if (mean.empty()) {
    if (actual_channels != 3)
      throw UserError("a " + std::to_string(actual_channels) +
                      "-channel model needs its training normalisation: pass --mean and --std (one value per "
                      "channel, as in the training script's Normalize)");
    mean.assign(std::begin(data::kImageNetMean), std::end(data::kImageNetMean));
    stdev.assign(std::begin(data::kImageNetStd), std::end(data::kImageNetStd));
    if (!imagenet_style)
      std::fprintf(
          stderr,
          "note: no --mean/--std given: using ImageNet's; pass the training script's Normalize values "
          "if they differ\n");
  }
  const auto list = [](const std::vector<double>& v) {
    std::string s;
    for (double x : v) s += (s.empty() ? "" : ", ") + nlohmann::json(x).dump();
    return "[" + s + "]";
  };
  std::vector<std::string> eval_transforms;
  if (imagenet_style && o.mean.empty()) {
    eval_transforms = data::imagenet_eval_transform_specs(size);
  } else {
    if (imagenet_style)
      eval_transforms = {"resize(" + std::to_string(size * 256 / 224) + ")",
                         "center_crop(" + std::to_string(size) + ")"};
    eval_transforms.push_back("normalize(mean=" + list(mean) + ", std=" + list(stdev) + ")");
  }
  data::parse_pipeline(eval_transforms);  // a bad --mean/--std fails here, before anything is written

  std::vector<std::string> names;
  if (!o.class_names_file.empty()) {
    names = models::read_class_names(o.class_names_file, actual_classes);
  } else if (imagenet_style && actual_classes == 1000) {
    // torchvision's published weights: predict prints "golden retriever", not "207".
    names = data::imagenet_class_names();
  } else {
    for (int64_t i = 0; i < actual_classes; ++i) names.push_back(std::to_string(i));
  }
  const models::ModelCard card{
      .model = o.model,
      .num_classes = actual_classes,
      .in_channels = actual_channels,
      .width_multiplier = width,
      .class_names = names,
      .preprocessing = {.input_size = models::InputSize{actual_channels, size, size},
                        .mean = mean,
                        .std = stdev,
                        .eval_transforms = eval_transforms},
      .provenance = {.source_file = fs::path(o.input).filename().string(), .source_format = "pth"}};
  train::save_checkpoint(o.out, *model, nullptr, nullptr, card, nullptr, nullptr);
  std::printf(
      "wrote %s: %s, %lld classes, %lld input channels, %zu tensors checked against the architecture; "
      "classify with: resnet predict --checkpoint %s IMAGE...\n",
      o.out.c_str(), o.model.c_str(), static_cast<long long>(actual_classes),
      static_cast<long long>(actual_channels), pth.tensors.size(), o.out.c_str());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand(
      "convert",
      "PyTorch checkpoint (.pth/.pt from torch.save) to safetensors, or to a resnet.cpp checkpoint");
  cmd->add_option("input", o->input, "The .pth file (zip or legacy torch.save format)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "safetensors file to write (atomically)")->required();
  cmd->add_option("--key", o->key, "Entry holding the state_dict, e.g. state_dict or model (a/b for nested)");
  cmd->add_flag("--keep-module-prefix", o->keep_module_prefix, "Keep DataParallel's 'module.' name prefix");
  cmd->add_option("--model", o->model,
                  "Check the weights against this zoo model (see `resnet models`) and write a checkpoint for "
                  "`resnet eval`/`resnet predict`");
  cmd->add_option("--classes", o->classes, "Classes (default: from fc.weight)");
  cmd->add_option("--in-channels", o->in_channels, "Input channels (default: from conv1.weight)");
  cmd->add_option("--width", o->width,
                  "Width multiplier the model was built with (default: from conv1.weight)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-size", o->input_size, "Input height = width (default: the model's design size)");
  cmd->add_option("--class-names", o->class_names_file,
                  "Text file, one class name a line (default: ImageNet's 1,000 names for a 1,000-class "
                  "ImageNet model, else the indices)")
      ->check(CLI::ExistingFile);
  add_list_option(cmd, "--mean", o->mean, "Normalisation mean per channel (default ImageNet's)");
  add_list_option(cmd, "--std", o->std, "Normalisation std per channel (default ImageNet's)");
  cmd->add_flag("--allow-nonfinite", o->allow_nonfinite,
                "Convert weights holding NaN/Inf or negative BN variances anyway (forensics)");
  cmd->callback([o] { run_convert(*o); });
}

}  // namespace resnet::cli
