// classify: the top-k classes of an image file, from a resnet.cpp checkpoint, on the fp32 inference engine.
//
//   classify CHECKPOINT IMAGE [K]      CHECKPOINT: a .safetensors file, a run directory or an .onnx file
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

#include "resnet/core/rng.h"
#include "resnet/core/tensor.h"
#include "resnet/data/image.h"
#include "resnet/data/transforms.h"
#include "resnet/infer/engine.h"
#include "resnet/train/checkpoint.h"

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT IMAGE [K]\n", argv[0]);
    return 2;
  }
  // The checkpoint's model card says how to rebuild the network and how to feed it.
  const resnet::train::Checkpoint checkpoint = resnet::train::load_checkpoint(argv[1]);
  auto model = resnet::train::model_from_checkpoint(checkpoint);  // weights loaded, eval mode
  const resnet::models::ModelCard& card = checkpoint.card;
  const resnet::models::InputSize size = card.preprocessing.input_size.value();

  // Decode to the model's channel count; resize to its input size when the card's evaluation transforms
  // (e.g. normalize) do not size the image themselves; then run those transforms.
  resnet::data::FloatImage image;
  resnet::data::to_float(resnet::data::decode_image(argv[2], size.channels), image);
  std::vector<std::string> specs = card.preprocessing.eval_transforms.value_or(std::vector<std::string>{});
  const bool sizes_itself = std::any_of(specs.begin(), specs.end(), [](const std::string& s) {
    return s.starts_with("resize") || s.starts_with("center_crop");
  });
  if (!sizes_itself && (image.height != size.height || image.width != size.width))
    specs.insert(specs.begin(),
                 "resize(" + std::to_string(size.height) + ", " + std::to_string(size.width) + ")");
  resnet::Rng rng(0);  // evaluation transforms draw nothing
  resnet::data::parse_pipeline(specs)->apply(image, rng);

  // One engine for batches of one image: batch norm folded into the convs, ReLUs and sums fused.
  resnet::infer::Engine engine(*model, {1, size.channels, size.height, size.width});
  resnet::Tensor input = resnet::Tensor::empty({1, size.channels, size.height, size.width});
  std::copy(image.values.begin(), image.values.end(), input.data<float>());
  const resnet::Tensor& logits = engine.run(input);

  // Softmax over the logits, then the k most likely classes.
  const float* row = logits.data<float>();
  const auto classes = static_cast<size_t>(logits.size(1));
  const size_t k = std::min<size_t>(argc > 3 ? std::stoul(argv[3]) : 5, classes);
  const float top = *std::max_element(row, row + classes);
  double sum = 0;
  for (size_t j = 0; j < classes; ++j) sum += std::exp(double(row[j] - top));
  std::vector<size_t> order(classes);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](size_t a, size_t b) { return row[a] > row[b]; });
  for (size_t j = 0; j < k; ++j) {
    const size_t c = order[j];
    const std::string name = c < card.class_names.size() ? card.class_names[c] : "class " + std::to_string(c);
    std::printf("%-16s %5.1f%%\n", name.c_str(), 100.0 * std::exp(double(row[c] - top)) / sum);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
