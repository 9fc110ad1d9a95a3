#include "resnet/models/summary.h"

#include "resnet/nn/layers.h"

namespace resnet::models {

Summary summarize(nn::Module& model, const Shape& input) {
  RESNET_CHECK(input.ndim() == 3) << "input must be [C, H, W], got " << input;
  Summary summary;
  std::vector<int> hooks;
  std::vector<nn::Module*> hooked;
  for (auto& [name, m] : model.named_modules()) {
    if (m->named_modules().size() != 1) continue;  // leaves only
    const std::string layer_name = name;
    hooked.push_back(m);
    hooks.push_back(m->add_forward_hook([&summary, layer_name](const nn::Module& module, const Tensor& y) {
      LayerSummary layer{layer_name, module.type_name(), y.shape()};
      auto& mutable_module = const_cast<nn::Module&>(module);
      for (auto& [pname, p] : mutable_module.named_parameters()) layer.parameters += p->value().numel();
      if (const auto* conv = dynamic_cast<const nn::Conv2d*>(&module)) {
        const auto& o = conv->options();
        layer.macs = y.numel() * (o.in_channels / o.groups) * o.kernel * o.kernel;
      } else if (auto* fc = dynamic_cast<nn::Linear*>(&mutable_module)) {
        layer.macs = y.numel() * fc->weight().value().size(1);
      }
      summary.parameters += layer.parameters;
      summary.macs += layer.macs;
      summary.layers.push_back(std::move(layer));
    }));
  }
  model.eval();
  model.forward(Tensor::zeros({1, input[0], input[1], input[2]}));
  for (size_t i = 0; i < hooked.size(); ++i) hooked[i]->remove_hook(hooks[i]);
  return summary;
}

}  // namespace resnet::models
