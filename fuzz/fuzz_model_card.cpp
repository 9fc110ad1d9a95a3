// libFuzzer target for a checkpoint's model card: the "info" metadata record (JSON: model name or full
// "spec", classes, channels, ...) that `resnet eval`/`predict` read to rebuild the network. The input is
// that record; the checkpoint holds no tensors, so a record that passes must end in the UserError naming
// the missing weights. Anything else — a json exception, bad_alloc from an absurd width — is a finding.
#include <cstdint>
#include <string>

#include "resnet/models/checkpoint.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"

namespace {

// Networks within the library's limits (up to ~2e9 parameters) are legal but take seconds and gigabytes to
// build; the fuzzer skips those whose size it can tell (anything it cannot tell goes to the real reader).
bool too_big_to_build_quickly(const resnet::models::ModelCard& card) {
  try {
    const resnet::models::ResNetSpec spec =
        card.spec ? *card.spec
                  : resnet::models::model_spec(card.model, {.num_classes = card.num_classes,
                                                            .in_channels = card.in_channels,
                                                            .width_multiplier = card.width_multiplier});
    return resnet::models::spec_parameter_bound(spec) > 2e7;
  } catch (...) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  resnet::io::TensorFile file;
  file.path = "fuzz-checkpoint.safetensors";
  file.metadata["format"] = resnet::models::kCheckpointFormat;
  file.metadata["info"] = std::string(reinterpret_cast<const char*>(data), size);
  try {
    const resnet::models::Checkpoint checkpoint = resnet::models::checkpoint_from_file(std::move(file));
    if (too_big_to_build_quickly(checkpoint.card)) return 0;
    (void)resnet::models::model_from_checkpoint(checkpoint);
  } catch (const resnet::UserError&) {
  }
  return 0;
}
