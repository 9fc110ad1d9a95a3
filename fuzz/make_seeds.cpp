// Writes small valid seed inputs for the fuzz targets that have no committed fixtures of their own (IDX,
// CIFAR, PNG/JPEG, model cards) under DIR/<target>/. Built with -DRESNET_FUZZ=ON; scripts/fuzz.sh runs it.
//   make_seeds DIR
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "resnet/data/image.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"

namespace fs = std::filesystem;
using namespace resnet;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb9");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string idx(std::initializer_list<uint32_t> dims, int fill) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int k = 3; k >= 0; --k) s += static_cast<char>(d >> (8 * k));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) s += static_cast<char>((i * 37 + fill) % (fill ? 256 : 4));
  return s;
}

data::Image pattern(int64_t c, int64_t h, int64_t w) {
  data::Image im;
  im.resize(c, h, w);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<uint8_t>(i * 29 + i / 7);
  return im;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* t : {"idx", "cifar", "image", "model_card"}) fs::create_directories(root / t);

  write(root / "idx/images-3x2x2", idx({3, 2, 2}, 1));
  write(root / "idx/labels-4", idx({4}, 0));
  write_gz(root / "idx/images-3x4x4.gz", idx({3, 4, 4}, 5));
  write_gz(root / "idx/labels-6.gz", idx({6}, 0));

  std::string cifar10, cifar100;
  for (int r = 0; r < 2; ++r) {
    cifar10 += static_cast<char>(r * 7 % 10) + std::string(3072, static_cast<char>(r + 1));
    cifar100 += std::string{static_cast<char>(r * 3 % 20), static_cast<char>(r * 41 % 100)} +
                std::string(3072, static_cast<char>(r + 9));
  }
  write(root / "cifar/cifar10-2", cifar10);
  write(root / "cifar/cifar100-2", cifar100);

  data::write_png((root / "image/grey-8x8.png").string(), pattern(1, 8, 8));
  data::write_png((root / "image/rgb-5x7.png").string(), pattern(3, 5, 7));
  data::write_jpeg((root / "image/grey-8x8.jpg").string(), pattern(1, 8, 8), 90);
  data::write_jpeg((root / "image/rgb-16x9.jpg").string(), pattern(3, 16, 9), 75);

  const nlohmann::json by_name = {{"model", "resnet20"},
                                  {"width_multiplier", 1.0},
                                  {"num_classes", 10},
                                  {"in_channels", 1},
                                  {"input_size", {1, 28, 28}},
                                  {"class_names", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
                                  {"mean", {0.286}},
                                  {"std", {0.353}},
                                  {"eval_transforms", {"normalize"}},
                                  {"dataset", "fashion-mnist"}};
  write(root / "model_card/resnet20.json", by_name.dump());
  nlohmann::json with_spec = by_name;
  with_spec["model"] = "resnet8";
  with_spec["spec"] =
      models::spec_to_json(models::model_spec("resnet20", {.num_classes = 10, .in_channels = 1}));
  with_spec["spec"]["blocks_per_stage"] = {1, 1, 1};
  write(root / "model_card/spec.json", with_spec.dump());
  return 0;
}
