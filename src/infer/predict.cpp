#include "resnet/infer/predict.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "resnet/core/rng.h"
#include "resnet/data/image.h"

namespace resnet::infer {

CardPreprocessing::CardPreprocessing(const models::ModelCard& card, const std::string& source) {
  models::require(card, source, {models::CardField::input_size, models::CardField::eval_transforms},
                  "preprocessing images for the model");
  size_ = *card.preprocessing.input_size;
  std::vector<std::string> specs = *card.preprocessing.eval_transforms;
  sizes_itself_ = std::any_of(specs.begin(), specs.end(), [](const std::string& s) {
    return s.starts_with("resize") || s.starts_with("center_crop");
  });
  pipeline_ = data::parse_pipeline(specs);
  specs.insert(specs.begin(),
               "resize(" + std::to_string(size_.height) + ", " + std::to_string(size_.width) + ")");
  resizing_pipeline_ = data::parse_pipeline(specs);
}

void CardPreprocessing::apply(const data::Image& image, float* out, const std::string& name) const {
  data::FloatImage f;
  data::to_float(image, f);
  Rng unused(0);  // evaluation transforms draw nothing
  const bool resize = !sizes_itself_ && (f.height != size_.height || f.width != size_.width);
  (resize ? resizing_pipeline_ : pipeline_)->apply(f, unused);
  if (f.channels != size_.channels || f.height != size_.height || f.width != size_.width)
    throw UserError("'" + name + "' does not come out of the model's preprocessing at " +
                    std::to_string(size_.height) + "×" + std::to_string(size_.width));
  std::copy(f.values.begin(), f.values.end(), out);
}

Tensor CardPreprocessing::load(const std::string& file) const {
  Tensor input = Tensor::empty({1, size_.channels, size_.height, size_.width});
  apply(data::decode_image(file, size_.channels), input.data<float>(), file);
  return input;
}

std::vector<ClassScore> top_k(const float* logits, int64_t classes, int64_t k) {
  RESNET_CHECK(classes >= 1) << "top_k of " << classes << " classes";
  k = std::clamp<int64_t>(k, 1, classes);
  const float top = *std::max_element(logits, logits + classes);
  double z = 0;  // softmax shifted by the largest logit: no overflow
  for (int64_t j = 0; j < classes; ++j) z += std::exp(static_cast<double>(logits[j] - top));
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  std::vector<ClassScore> scores;
  for (int64_t j = 0; j < k; ++j)
    scores.push_back({order[j], std::exp(static_cast<double>(logits[order[j]] - top)) / z});
  return scores;
}

}  // namespace resnet::infer
