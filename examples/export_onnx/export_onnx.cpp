// export_onnx: write a resnet.cpp checkpoint as an ONNX file (opset 13) for ONNX Runtime, OpenCV, TensorRT…
//
//   export_onnx CHECKPOINT OUT.onnx [--fold-bn]
//
// The file's input is "input" f32 [N, C, H, W] (H and W fixed to the model card's input size), its output
// "logits" f32 [N, classes]; the card (class names, mean/std, …) travels in its metadata_props.
#include <cstdio>
#include <exception>
#include <string>

#include "resnet/models/checkpoint.h"
#include "resnet/onnx/export.h"

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT OUT.onnx [--fold-bn]\n", argv[0]);
    return 2;
  }
  const resnet::models::Checkpoint checkpoint = resnet::models::load_checkpoint(argv[1]);
  auto model = resnet::models::model_from_checkpoint(checkpoint);

  resnet::onnx::ExportOptions options;
  options.card = checkpoint.card;
  options.fold_bn = argc > 3 && std::string(argv[3]) == "--fold-bn";  // BN folded into the convs
  if (const auto& size = checkpoint.card.preprocessing.input_size) {  // else H and W stay dynamic
    options.height = size->height;
    options.width = size->width;
  }
  resnet::onnx::export_onnx(*model, argv[2], options);

  std::printf("wrote %s: %s, input [N, %lld, %lld, %lld], %lld classes\n", argv[2],
              checkpoint.card.model.c_str(), static_cast<long long>(model->spec().in_channels),
              static_cast<long long>(options.height), static_cast<long long>(options.width),
              static_cast<long long>(model->spec().num_classes));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
