// Predicting with a trained model: an image goes through its model card's preprocessing into the network's
// input, and the logits come back as the most likely classes. What `resnet predict` and the classify
// example do, for any C++ caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/data/dataset.h"
#include "resnet/data/transforms.h"
#include "resnet/models/model_card.h"

namespace resnet::infer {

// The card's evaluation transforms. Sets held in memory (IDX, CIFAR) were trained at their own size with
// no resize in their transforms: an image of another size is resized to the card's input size first, as a
// user would expect. Pipelines that size images themselves (resize, center_crop) take any image as it is.
class CardPreprocessing {
 public:
  // Needs the card's input_size and eval_transforms: UserError naming `source` (the checkpoint) otherwise.
  CardPreprocessing(const models::ModelCard& card, const std::string& source);
  const models::InputSize& input_size() const { return size_; }

  // `image` (decoded at input_size().channels) → normalised planar floats of the input size, written to
  // `out` (channels·height·width floats). UserError naming `name` when the pipeline gives another size.
  void apply(const data::Image& image, float* out, const std::string& name) const;
  // An image file (PNG/JPEG), decoded at the model's channel count: a [1, C, H, W] input.
  Tensor load(const std::string& file) const;

 private:
  models::InputSize size_;
  bool sizes_itself_ = false;
  std::unique_ptr<data::Transform> pipeline_, resizing_pipeline_;
};

struct ClassScore {
  int64_t index = 0;
  double probability = 0;  // softmax over all classes
};
// The `k` most likely classes of one row of `classes` logits, most likely first (ties: lower index first);
// k is clamped to [1, classes].
std::vector<ClassScore> top_k(const float* logits, int64_t classes, int64_t k);

}  // namespace resnet::infer
