// `resnet models` (the zoo) and `resnet forward` (eval-mode forward of a tensor file: the door for users who
// preprocess elsewhere, and for parity checks).
#include <algorithm>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "output.h"
#include "resnet/core/finite.h"
#include "resnet/core/format.h"
#include "resnet/core/parallel.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/memory_estimate.h"
#include "resnet/models/registry.h"
#include "resnet/models/summary.h"
#include "resnet/nn/state_dict.h"

namespace resnet::cli {
namespace {

// "3x224x224" -> [3, 224, 224].
Shape parse_chw(const std::string& text) {
  Shape s;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('x', start), text.size());
    try {
      s.push_back(std::stoll(text.substr(start, end - start)));
    } catch (const std::exception&) {
      throw UserError("--input '" + text + "' is not CxHxW (e.g. 3x224x224)");
    }
    start = end + 1;
  }
  if (s.ndim() != 3) throw UserError("--input '" + text + "' is not CxHxW (e.g. 3x224x224)");
  return s;
}

struct SummaryOptions {
  std::string model, input, stem;
  int64_t classes = 0, in_channels = 0;
  double width = 1.0;
  Output output;
};

// The builder options shared by the commands that name a model.
models::ModelOptions model_options(int64_t classes, int64_t in_channels, const std::string& stem,
                                   double width) {
  models::ModelOptions o{.num_classes = classes, .in_channels = in_channels, .width_multiplier = width};
  if (stem == "imagenet") o.imagenet_stem = true;
  if (stem == "small") o.imagenet_stem = false;
  return o;
}

nlohmann::json shape_json(const Shape& shape) {
  return std::vector<int64_t>(shape.begin(), shape.end());
}

void run_summary(const SummaryOptions& o) {
  o.output.begin();
  check_model_flag(o.model);
  auto model = models::create_model(o.model, model_options(o.classes, o.in_channels, o.stem, o.width));
  const auto& info = *std::find_if(models::registered_models().begin(), models::registered_models().end(),
                                   [&](const models::ModelInfo& m) { return m.name == o.model; });
  const int64_t channels = o.in_channels > 0 ? o.in_channels : 3;
  const Shape input =
      o.input.empty() ? Shape{channels, info.default_size, info.default_size} : parse_chw(o.input);
  const models::Summary s = models::summarize(*model, input);
  o.output.print("%-28s %-12s %-20s %12s %12s\n", "layer", "type", "output", "parameters", "MACs");
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers) {
    o.output.print("%-28s %-12s %-20s %12lld %12s\n", l.name.c_str(), l.type.c_str(), l.output.str().c_str(),
                   static_cast<long long>(l.parameters), format_count(static_cast<double>(l.macs)).c_str());
    layers.push_back({{"name", l.name},
                      {"type", l.type},
                      {"output", shape_json(l.output)},
                      {"parameters", l.parameters},
                      {"macs", l.macs}});
  }
  o.output.print("total: %lld parameters, %s MACs per image at %s\n", static_cast<long long>(s.parameters),
                 format_count(static_cast<double>(s.macs)).c_str(), input.str().c_str());
  o.output.result({{"model", o.model},
                   {"input", shape_json(input)},
                   {"parameters", s.parameters},
                   {"macs", s.macs},
                   {"layers", layers}});
}

struct ForwardOptions {
  std::string model, weights, input, output;
  int64_t classes = 0, in_channels = 0;
  int threads = 0;
  bool allow_nonfinite = false;
};

void run_forward(const ForwardOptions& o) {
  set_num_threads(o.threads);
  check_model_flag(o.model);  // an unknown name fails before any file is read
  const io::TensorFile input_file = io::load_safetensors(o.input);
  const Tensor& input = input_file.at("input");
  if (input.ndim() != 4 || input.dtype() != DType::f32)
    throw UserError("'" + o.input + "': tensor 'input' must be f32 [N, C, H, W], got " + input.str());
  // A NaN or Inf pixel does not always surface as NaN logits (ReLU and max-pool can drop it): refused.
  if (const auto i = first_nonfinite(input); i && !o.allow_nonfinite)
    throw UserError("'" + o.input + "': tensor 'input' holds " + describe_value(input.get_flat(*i)) +
                    " at index " + describe_index(input.shape(), *i) +
                    ": give finite values (or --allow-nonfinite to run it anyway)");
  io::set_allow_nonfinite_weights(o.allow_nonfinite);
  const int64_t channels = o.in_channels > 0 ? o.in_channels : input.size(1);
  models::check_inference_fits(
      models::model_spec(o.model, {.num_classes = o.classes, .in_channels = channels}), input.size(0),
      input.size(1), input.size(2), input.size(3), "the forward of '" + o.input + "' through " + o.model,
      "split the input into smaller batches");
  auto model = model_from_weights(o.model, o.weights, o.classes, channels);
  const Tensor& logits = model->forward(input);
  io::save_safetensors(o.output, {{"output", logits}}, {{"model", o.model}});
  std::printf("wrote %s: output %s\n", o.output.c_str(), logits.shape().str().c_str());
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto* list = app.add_subcommand("models", "List every model the zoo builds, with its parameter count");
  auto list_output = std::make_shared<Output>();
  list_output->add_flags(list);
  list->callback([list_output] {
    const Output& out = *list_output;
    out.begin();
    out.print("%-18s %12s %10s %9s  %s\n", "name", "parameters", "MACs", "input", "description");
    nlohmann::json zoo = nlohmann::json::array();
    for (const auto& m : models::registered_models()) {
      auto model = models::create_model(m.name);
      const models::Summary s = models::summarize(*model, {3, m.default_size, m.default_size});
      out.print("%-18s %12lld %10s %5lld²  %s\n", m.name.c_str(), static_cast<long long>(s.parameters),
                format_count(static_cast<double>(s.macs)).c_str(), static_cast<long long>(m.default_size),
                m.description.c_str());
      zoo.push_back({{"name", m.name},
                     {"parameters", s.parameters},
                     {"macs", s.macs},
                     {"input_size", m.default_size},
                     {"classes", m.default_classes},
                     {"description", m.description}});
    }
    out.result({{"models", zoo}});
  });

  auto so = std::make_shared<SummaryOptions>();
  auto* summary =
      app.add_subcommand("summary", "Layer-by-layer output shapes, parameters and MACs of a model");
  summary->add_option("--model", so->model, "Model name (see `resnet models`)")->required();
  summary->add_option("--input", so->input, "Input CxHxW (default: 3 x the model's design size)");
  summary->add_option("--classes", so->classes, "Number of classes (default: the model's)");
  summary->add_option("--in-channels", so->in_channels, "Input channels (default 3)");
  summary
      ->add_option("--stem", so->stem, "imagenet (7x7/2 + max-pool) or small (3x3/1); default: the model's")
      ->check(CLI::IsMember({"imagenet", "small"}));
  summary->add_option("--width", so->width, "Width multiplier for every stage")->check(CLI::PositiveNumber);
  so->output.add_flags(summary);
  summary->callback([so] { run_summary(*so); });

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
  fwd->add_flag("--allow-nonfinite", o->allow_nonfinite,
                "Run non-finite inputs, and weights holding NaN/Inf or negative BN variances (forensics)");
  fwd->callback([o] { run_forward(*o); });
}

}  // namespace resnet::cli
