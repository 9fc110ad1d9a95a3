#include "resnet/explain/layers.h"

#include "resnet/core/check.h"

namespace resnet::explain {

std::vector<std::string> layer_names(const models::Architecture& architecture) {
  std::vector<std::string> names;
  for (const models::Tap& tap : architecture.taps) names.push_back(tap.name);
  for (const models::Block& block : architecture.blocks) names.push_back(block.name);
  return names;
}

std::string resolve_layer(const models::Architecture& architecture, const std::string& name) {
  RESNET_CHECK(!architecture.taps.empty()) << "a network without stages";
  if (name.empty()) return architecture.taps.back().name;
  for (const std::string& known : layer_names(architecture))
    if (known == name) return name;
  std::string stages;
  for (const models::Tap& tap : architecture.taps) stages += (stages.empty() ? "" : ", ") + tap.name;
  const models::Block& last = architecture.blocks.back();
  throw UserError("--layer '" + name + "' is not a layer of this network: name a stage (" + stages +
                  ") or one of its blocks (" + architecture.blocks.front().name + " … " + last.name + ")");
}

}  // namespace resnet::explain
