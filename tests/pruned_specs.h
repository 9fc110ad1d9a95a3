// Pruned zoo specs for the tests: one coupling group of a zoo net narrowed by editing conv_widths, as a
// structured pruner would.
#pragma once

#include <string>

#include "resnet/models/architecture.h"
#include "resnet/models/registry.h"

namespace resnet::testing {

// The spec of zoo net `name` (10 classes) with every conv of the coupling group holding `member` at `width`.
inline models::ResNetSpec pruned_spec(const std::string& name, const std::string& member, int64_t width) {
  models::ResNetSpec spec = models::model_spec(name, {.num_classes = 10});
  const models::Architecture design = models::architecture_of(spec);
  for (const models::CouplingGroup& g : design.coupling_groups)
    for (const std::string& conv : g.convs)
      if (conv == member)
        for (const std::string& c : g.convs) spec.conv_widths[c] = width;
  return spec;
}

}  // namespace resnet::testing
