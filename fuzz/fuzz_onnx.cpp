// libFuzzer target for the ONNX importer: any byte string written as a .onnx file must import as a ResNet
// or raise UserError — protobuf parsing, initializers (sizes checked against the bytes present before any
// allocation), constant folding and graph recognition included.
#include <cstdint>

#include "fuzz_util.h"
#include "resnet/core/check.h"
#include "resnet/onnx/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = resnet::fuzz::write_file("model.onnx", data, size);
  try {
    (void)resnet::onnx::import_onnx(path);
  } catch (const resnet::UserError&) {
  }
  return 0;
}
