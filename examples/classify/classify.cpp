// classify: the top-k classes of an image file, from a resnet.cpp checkpoint, on the fp32 inference engine.
//
//   classify CHECKPOINT IMAGE [K]      CHECKPOINT: a .safetensors file, a run directory or an .onnx file
#include <cstdio>
#include <exception>
#include <string>

#include "resnet/core/tensor.h"
#include "resnet/infer/engine.h"
#include "resnet/infer/predict.h"
#include "resnet/models/checkpoint.h"
#include "resnet/onnx/import.h"

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT IMAGE [K]\n", argv[0]);
    return 2;
  }
  resnet::onnx::register_checkpoint_reader();  // .onnx files load as checkpoints too
  // The checkpoint's model card says how to rebuild the network and how to feed it.
  const resnet::models::Checkpoint checkpoint = resnet::models::load_checkpoint(argv[1]);
  auto model = resnet::models::model_from_checkpoint(checkpoint);  // weights loaded, eval mode
  const resnet::models::ModelCard& card = checkpoint.card;

  // Decode to the model's channel count, resize to its input size when the card's evaluation transforms
  // (e.g. normalize) do not size the image themselves, then run those transforms.
  const resnet::infer::CardPreprocessing preprocessing(card, argv[1]);
  const resnet::Tensor input = preprocessing.load(argv[2]);
  const resnet::models::InputSize size = preprocessing.input_size();

  // One engine for batches of one image: batch norm folded into the convs, ReLUs and sums fused.
  resnet::infer::Engine engine(*model, {1, size.channels, size.height, size.width});
  const resnet::Tensor& logits = engine.run(input);

  // Softmax over the logits, then the k most likely classes.
  const int64_t k = argc > 3 ? std::stoll(argv[3]) : 5;
  for (const resnet::infer::ClassScore& score :
       resnet::infer::top_k(logits.data<float>(), logits.size(1), k)) {
    const auto c = static_cast<size_t>(score.index);
    const std::string name = c < card.class_names.size() ? card.class_names[c] : "class " + std::to_string(c);
    std::printf("%-16s %5.1f%%\n", name.c_str(), 100.0 * score.probability);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
