// libFuzzer target for PNG/JPEG decoding (libspng, TurboJPEG) with resnet.cpp's limits: any file must
// decode into an image whose buffer matches its declared size, or raise UserError (SampleError). The
// input's size modulo 3 picks the requested channels (0: the file's own, 1: grey, 3: RGB).
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.h"
#include "resnet/core/check.h"
#include "resnet/data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int64_t channels[3] = {0, 1, 3};
  const std::string path = resnet::fuzz::write_file("image", data, size);
  try {
    resnet::data::Image image = resnet::data::decode_image(path, channels[size % 3]);
    // The buffer must hold channels * height * width bytes; touch the last one.
    if (image.pixels.size() != static_cast<size_t>(image.channels * image.height * image.width)) std::abort();
    volatile uint8_t sink = 0;
    if (!image.pixels.empty()) sink = sink + image.pixels.back();
  } catch (const resnet::UserError&) {
  }
  return 0;
}
