// libFuzzer target for the .pth reader: the restricted unpickler on raw bytes, then the whole reader (zip
// archive or legacy stream, storages checked against tensors). Any byte string must load or raise
// UserError — never crash, hang, read out of bounds, recurse without bound or run anything.
// Build and run with: bash scripts/fuzz.sh 60 pth
#include <cstdint>
#include <span>

#include "resnet/io/pickle.h"
#include "resnet/io/pth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    resnet::io::pickle::unpickle(bytes, "fuzz-input");
  } catch (const resnet::UserError&) {
  }
  try {
    const resnet::io::PthFile file = resnet::io::parse_pth(bytes, "fuzz-input");
    // Touch every tensor's last byte: each is a dense copy of the right size.
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : file.tensors)
      if (t.nbytes()) sink = sink + static_cast<const uint8_t*>(t.raw())[t.nbytes() - 1];
  } catch (const resnet::UserError&) {
  }
  return 0;
}
