// fine_tune: start from a checkpoint's weights and train on a folder of images with the library's trainer.
//
//   fine_tune CHECKPOINT IMAGE_DIR RUN_DIR [section.key=value ...]
//
// IMAGE_DIR has torchvision's ImageFolder layout: IMAGE_DIR/<class>/*.png|jpg, or IMAGE_DIR/train/<class>/…
// and IMAGE_DIR/val/<class>/… for a held-out split. The run (checkpoints, metrics) goes to RUN_DIR/fine_tune.
// A network trained for another number of classes gets a fresh classifier.
#include <cstdio>
#include <exception>
#include <string>

#include "resnet/models/checkpoint.h"
#include "resnet/train/config.h"
#include "resnet/train/trainer.h"

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CHECKPOINT IMAGE_DIR RUN_DIR [section.key=value ...]\n", argv[0]);
    return 2;
  }
  // The images are brought to the size the checkpoint's network was trained on (image folders: square).
  const resnet::models::Checkpoint checkpoint = resnet::models::load_checkpoint(argv[1]);
  const auto size = checkpoint.card.preprocessing.input_size;
  // Every setting starts at its default (`resnet train --print-config` lists them) ...
  resnet::train::Config config = resnet::train::default_config();
  // ... then ours, merged as a JSON tree (keys and types are checked) ...
  resnet::train::merge_config(
      config,
      {{"model", {{"init_from", argv[1]}}},
       {"data", {{"dataset", std::string("folder:") + argv[2]}, {"image_size", size ? size->height : 0}}},
       {"optim", {{"steps", 20}, {"batch_size", 16}, {"lr", 0.01}}},
       {"run", {{"dir", argv[3]}, {"name", "fine_tune"}, {"plots", false}}}},
      "fine_tune");
  // ... and last the command line's, as `resnet train --set` takes them (e.g. optim.steps=50).
  for (int i = 4; i < argc; ++i) resnet::train::set_config_value(config, argv[i]);

  const resnet::train::RunResult result = resnet::train::train(config);
  if (result.finished) std::printf("%s\n", result.summary.dump(2).c_str());
  return result.exit_code;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
