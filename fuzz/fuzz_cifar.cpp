// libFuzzer target for the CIFAR binary reader: the input is a test-split data file, read as CIFAR-10
// (test_batch.bin, 3073-byte records), CIFAR-100 fine and coarse (test.bin, 3074-byte records). Each
// reading must load or raise UserError (not a whole number of records, a label out of range, ...).
#include <cstdint>
#include <filesystem>

#include "fuzz_util.h"
#include "resnet/core/check.h"
#include "resnet/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using resnet::data::CifarVariant;
  const std::string dir = resnet::fuzz::scratch_dir().string();
  for (const CifarVariant variant :
       {CifarVariant::cifar10, CifarVariant::cifar100_fine, CifarVariant::cifar100_coarse}) {
    const std::string path = resnet::fuzz::write_file(
        variant == CifarVariant::cifar10 ? "test_batch.bin" : "test.bin", data, size);
    try {
      auto set = resnet::data::load_cifar(dir, variant, "test");
      if (set->size() > 0 &&
          (set->label(set->size() - 1) < 0 || set->label(set->size() - 1) >= set->num_classes()))
        std::abort();
    } catch (const resnet::UserError&) {
    }
    std::filesystem::remove(path);
  }
  return 0;
}
