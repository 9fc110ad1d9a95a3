// The images a command reads, as `resnet predict` and `resnet explain` take them: image files and
// directories (positional), then test-set images of a data set by index (`--index 0-7`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "resnet/data/dataset.h"
#include "resnet/models/checkpoint.h"

namespace resnet::cli {

// A split ("train"/"test") of data set `spec`, decoded at `channels`, its first `limit` images (0: all).
std::shared_ptr<const data::Dataset> open_split(const std::string& spec, const std::string& split,
                                                int64_t channels, int64_t limit);

// "3", "0-7", "1,5,9" → ranges [first, last], checked against the `count` images of `set` before
// anything is expanded (0-999999999 names the valid range instead of taking gigabytes first).
std::vector<std::pair<int64_t, int64_t>> parse_indices(const std::vector<std::string>& texts, int64_t count,
                                                       const std::string& set);

struct InputImage {
  std::string name;  // the file, or "test image 7"
  data::Image image;
  int64_t truth = -1;  // the label of a data-set image; -1 for files
};

// Files and directories (data::image_files) in order, then `indices` of the test split of `dataset` (""
// = the one checkpoint `c` was trained on; UserError when it names none, which suggests --dataset when the
// command has that flag), decoded at `channels`.
std::vector<InputImage> gather_images(const models::Checkpoint& c, int64_t channels,
                                      const std::vector<std::string>& inputs,
                                      const std::vector<std::string>& indices,
                                      const std::string& dataset = "", bool dataset_flag = false);

}  // namespace resnet::cli
