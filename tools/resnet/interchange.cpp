// `resnet export` (a checkpoint, run directory, bare weights or .onnx file → ONNX) and `resnet import`
// (an ONNX ResNet → a resnet.cpp checkpoint with torchvision names, ready to evaluate or fine-tune).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "resnet/io/safetensors.h"
#include "resnet/io/state_dict.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"
#include "resnet/onnx/export.h"
#include "resnet/onnx/import.h"
#include "resnet/train/checkpoint.h"

namespace resnet::cli {
namespace {

struct ExportCommand {
  std::string checkpoint, onnx, model;
  int64_t classes = 0, in_channels = 0;
  bool fold_bn = false, ema = false;
};

void run_export(const ExportCommand& o) {
  std::unique_ptr<models::ResNet> model;
  nlohmann::json info = nlohmann::json::object();
  if (!o.model.empty()) {
    // Bare weights: the architecture comes from the command line, as for `resnet forward --weights`.
    model = models::create_model(o.model, o.classes, o.in_channels > 0 ? o.in_channels : 3);
    io::load_state_dict(*model, io::load_safetensors(o.checkpoint));
    model->eval();
    info = {{"model", o.model},
            {"num_classes", model->spec().num_classes},
            {"in_channels", model->spec().in_channels}};
  } else {
    const train::Checkpoint c = train::load_checkpoint(o.checkpoint);
    model = train::model_from_checkpoint(c, o.ema);
    info = c.info;
  }
  onnx::export_onnx(*model, o.onnx, {.fold_bn = o.fold_bn, .info = info});
  std::printf("wrote %s: %s, opset 13, input \"input\" [N, %lld, H, W], output \"logits\" [N, %lld]%s\n",
              o.onnx.c_str(), info.value("model", std::string("resnet")).c_str(),
              static_cast<long long>(model->spec().in_channels),
              static_cast<long long>(model->spec().num_classes), o.fold_bn ? ", BN folded" : "");
}

struct ImportCommand {
  std::string onnx, out;
};

void run_import(const ImportCommand& o) {
  const onnx::ImportedModel imported = onnx::import_onnx(o.onnx);
  auto model = std::make_unique<models::ResNet>(imported.spec);
  io::TensorFile weights;
  weights.path = o.onnx;
  weights.tensors = imported.tensors;
  io::load_state_dict(*model, weights);
  train::save_checkpoint(o.out, *model, nullptr, nullptr, imported.info, nullptr, nullptr);
  std::printf("wrote %s: %s (%s)\n", o.out.c_str(), imported.info.at("model").get<std::string>().c_str(),
              imported.summary.c_str());
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
  exp->add_flag("--ema", e->ema, "Export the checkpoint's EMA weights");
  exp->add_option("--model", e->model, "For bare weights: the model name (see `resnet models`)");
  exp->add_option("--classes", e->classes, "For bare weights: number of classes (default: the model's)");
  exp->add_option("--in-channels", e->in_channels, "For bare weights: input channels (default 3)");
  exp->callback([e] { run_export(*e); });

  auto i = std::make_shared<ImportCommand>();
  auto* imp = app.add_subcommand(
      "import", "Read an ONNX ResNet into a resnet.cpp checkpoint (torchvision names, trainable)");
  imp->add_option("model", i->onnx, "ONNX file")->required();
  imp->add_option("--out", i->out, "Checkpoint (.safetensors) to write")->required();
  imp->callback([i] { run_import(*i); });
}

}  // namespace resnet::cli
