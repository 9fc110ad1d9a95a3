// `resnet models` (the zoo) and `resnet forward` (eval-mode forward of a tensor file: the door for users who
// preprocess elsewhere, and for parity checks).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "resnet/core/parallel.h"
#include "resnet/io/safetensors.h"
#include "resnet/io/state_dict.h"
#include "resnet/models/registry.h"

namespace resnet::cli {
namespace {

struct ForwardOptions {
  std::string model, weights, input, output;
  int64_t classes = 0, in_channels = 0;
  int threads = 0;
};

void run_forward(const ForwardOptions& o) {
  set_num_threads(o.threads);
  models::create_model(o.model);  // an unknown name fails before any file is read
  const io::TensorFile input_file = io::load_safetensors(o.input);
  const Tensor& input = input_file.at("input");
  if (input.ndim() != 4 || input.dtype() != DType::f32)
    throw UserError("'" + o.input + "': tensor 'input' must be f32 [N, C, H, W], got " + input.str());
  const int64_t channels = o.in_channels > 0 ? o.in_channels : input.size(1);
  auto model = models::create_model(o.model, o.classes, channels);
  io::load_state_dict(*model, io::load_safetensors(o.weights));
  model->eval();
  const Tensor& logits = model->forward(input);
  io::save_safetensors(o.output, {{"output", logits}}, {{"model", o.model}});
  std::printf("wrote %s: output %s\n", o.output.c_str(), logits.shape().str().c_str());
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto* list = app.add_subcommand("models", "List every model the zoo builds, with its parameter count");
  list->callback([] {
    std::printf("%-18s %12s  %s\n", "name", "parameters", "description");
    for (const auto& m : models::registered_models()) {
      const int64_t n = models::create_model(m.name)->num_parameters();
      std::printf("%-18s %12lld  %s\n", m.name.c_str(), static_cast<long long>(n), m.description.c_str());
    }
  });

  auto o = std::make_shared<ForwardOptions>();
  auto* fwd = app.add_subcommand("forward", "Eval-mode forward of the tensor 'input' in a safetensors file");
  fwd->add_option("--model", o->model, "Model name (see `resnet models`)")->required();
  fwd->add_option("--weights", o->weights, "safetensors weights with torchvision names")
      ->required()
      ->check(CLI::ExistingFile);
  fwd->add_option("--input", o->input, "safetensors file holding 'input', f32 [N, C, H, W]")
      ->required()
      ->check(CLI::ExistingFile);
  fwd->add_option("--output", o->output, "safetensors file to write the logits to, as 'output'")->required();
  fwd->add_option("--classes", o->classes, "Number of classes (default: the model's)");
  fwd->add_option("--in-channels", o->in_channels, "Input channels (default: the input's)");
  fwd->add_option("--threads", o->threads, "Threads (0 = all cores)");
  fwd->callback([o] { run_forward(*o); });
}

}  // namespace resnet::cli
