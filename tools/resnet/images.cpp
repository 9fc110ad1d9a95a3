// `resnet images`: writes images of a data set as PNG files (to look at them, or to try `resnet predict` on
// real files): <out>/<index>_<class>.png.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "resnet/data/image.h"
#include "resnet/data/sources.h"

namespace resnet::cli {
namespace {

struct ImagesOptions {
  std::string dataset = "fashion-mnist", split = "test", out = "images";
  int64_t first = 0, count = 8;
};

void run_images(const ImagesOptions& o) {
  check_dataset_flag(o.dataset);
  const auto sources = data::open_data_sources(o.dataset, {});
  const auto set = o.split == "train" ? sources.train : sources.test;
  if (!set) throw UserError("data set '" + o.dataset + "' has no " + o.split + " split");
  if (o.first < 0 || o.first >= set->size())
    throw UserError("--first " + std::to_string(o.first) + " is outside the " + std::to_string(set->size()) +
                    " images of " + set->describe());
  std::filesystem::create_directories(o.out);
  data::Image image;
  const int64_t end = std::min(set->size(), o.first + o.count);
  for (int64_t i = o.first; i < end; ++i) {
    set->load(i, image);
    std::string name = set->class_names()[static_cast<size_t>(set->label(i))];
    std::replace_if(
        name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '-');
    char file[64];
    std::snprintf(file, sizeof file, "%05lld_%s.png", static_cast<long long>(i), name.c_str());
    data::write_png(o.out + "/" + file, image);
  }
  std::printf("wrote %lld images of %s to %s/\n", static_cast<long long>(end - o.first),
              set->describe().c_str(), o.out.c_str());
}

}  // namespace

void add_images_command(CLI::App& app) {
  auto o = std::make_shared<ImagesOptions>();
  auto* cmd =
      app.add_subcommand("images", "Write images of a data set as PNG files (<out>/<index>_<class>.png)");
  cmd->add_option("--dataset", o->dataset, "Data set spec")->capture_default_str();
  cmd->add_option("--split", o->split, "test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--first", o->first, "Index of the first image")->capture_default_str();
  cmd->add_option("--count", o->count, "Number of images")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->callback([o] { run_images(*o); });
}

}  // namespace resnet::cli
