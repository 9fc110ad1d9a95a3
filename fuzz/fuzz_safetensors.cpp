// libFuzzer target for the safetensors parser: any byte string must either parse or raise UserError —
// never crash, hang, read out of bounds or allocate without bound. Build and run with scripts/fuzz.sh.
#include <cstdint>
#include <cstring>

#include "resnet/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = resnet::Storage::allocate(size);
  if (size) std::memcpy(bytes->data(), data, size);
  try {
    const resnet::io::TensorFile file = resnet::io::parse_safetensors(bytes, "fuzz-input");
    // Touch every tensor's last byte: any view the parser made must lie inside the input.
    volatile uint8_t sink = 0;
    for (const auto& [name, t] : file.tensors)
      if (t.nbytes()) sink = sink + static_cast<const uint8_t*>(t.raw())[t.nbytes() - 1];
  } catch (const resnet::UserError&) {
  }
  return 0;
}
