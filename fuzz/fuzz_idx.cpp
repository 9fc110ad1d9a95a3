// libFuzzer target for the IDX reader (plain or gzip-compressed; gzip is recognised by its magic bytes):
// any file must load as a u8 tensor of the size its header declares or raise UserError, with the inflated
// size bounded by the header. A 1-D result (a label file) also goes through the class-id check.
#include <cstdint>

#include "fuzz_util.h"
#include "resnet/core/check.h"
#include "resnet/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = resnet::fuzz::write_file("data-idx1-ubyte", data, size);
  try {
    const resnet::Tensor t = resnet::data::read_idx_u8(path);
    if (t.ndim() == 1) resnet::data::check_idx_labels(t, path);
  } catch (const resnet::UserError&) {
  }
  return 0;
}
