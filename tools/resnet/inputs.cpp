#include "inputs.h"

#include <algorithm>

#include "resnet/data/image.h"
#include "resnet/data/image_files.h"
#include "resnet/data/sources.h"

namespace resnet::cli {

std::shared_ptr<const data::Dataset> open_split(const std::string& spec, const std::string& split,
                                                int64_t channels, int64_t limit) {
  data::SourceOptions so{.channels = channels};
  if (split == "train") so.train_limit = limit;
  if (split == "test") so.test_limit = limit;
  const auto sources = data::open_data_sources(spec, so);
  auto set = split == "train" ? sources.train : sources.test;
  if (!set) throw UserError("data set '" + spec + "' has no " + split + " split");
  return set;
}

std::vector<std::pair<int64_t, int64_t>> parse_indices(const std::vector<std::string>& texts, int64_t count,
                                                       const std::string& set) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& text : texts) {
    size_t start = 0;
    while (start < text.size()) {
      const size_t end = std::min(text.find(',', start), text.size());
      const std::string part = text.substr(start, end - start);
      int64_t a = 0, b = 0;
      try {
        const size_t dash = part.find('-', 1);
        size_t used = 0;
        a = std::stoll(part.substr(0, dash), &used);
        if (used != std::min(dash, part.size())) throw std::invalid_argument("trailing text");
        b = a;
        if (dash != std::string::npos) {
          b = std::stoll(part.substr(dash + 1), &used);
          if (used != part.size() - dash - 1) throw std::invalid_argument("trailing text");
        }
        if (b < a || a < 0) throw std::invalid_argument("range");
      } catch (const std::exception&) {
        throw UserError("--index '" + text + "': write indices as 3, 0-7 or 1,5,9");
      }
      if (b >= count)
        throw UserError("--index " + part + " goes past the " + std::to_string(count) + " images of " + set +
                        ": valid indices are 0-" + std::to_string(count - 1));
      out.emplace_back(a, b);
      start = end + 1;
    }
  }
  return out;
}

std::vector<InputImage> gather_images(const models::Checkpoint& c, int64_t channels,
                                      const std::vector<std::string>& inputs,
                                      const std::vector<std::string>& indices, const std::string& dataset,
                                      bool dataset_flag) {
  std::vector<InputImage> items;
  for (const auto& input : inputs)
    for (const auto& f : data::image_files(input)) items.push_back({f, data::decode_image(f, channels)});
  if (!indices.empty()) {
    const std::string spec = dataset.empty() ? c.card.provenance.dataset : dataset;
    if (spec.empty())
      throw UserError("checkpoint '" + c.path() +
                      "' names no data set, so --index has nothing to index: give image files instead" +
                      (dataset_flag ? " (or --dataset D)" : ""));
    const auto test = open_split(spec, "test", channels, 0);
    for (const auto& [first, last] : parse_indices(indices, test->size(), test->describe())) {
      for (int64_t i = first; i <= last; ++i) {
        InputImage item{"test image " + std::to_string(i), {}, test->label(i)};
        test->load(i, item.image);
        items.push_back(std::move(item));
      }
    }
  }
  return items;
}

}  // namespace resnet::cli
