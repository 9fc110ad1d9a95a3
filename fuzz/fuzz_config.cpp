// libFuzzer target for training configs: any byte string as a TOML file must be read, merged into the
// defaults (keys and types checked) and validated (ranges), or raise UserError naming the file or setting.
#include <cstdint>

#include "fuzz_util.h"
#include "resnet/core/check.h"
#include "resnet/train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = resnet::fuzz::write_file("config.toml", data, size);
  try {
    resnet::train::Config config = resnet::train::default_config();
    resnet::train::merge_config(config, resnet::train::read_toml_config(path), path);
    resnet::train::validate_config(config);
  } catch (const resnet::UserError&) {
  }
  return 0;
}
