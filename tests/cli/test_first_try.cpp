// Issue 23: your own images train on the first try. A folder of small RGB PNGs with no split and no
// other flag used to stop twice: "no val/ or test/ split" (now a tenth is held out) and a batch larger
// than the folder (now lowered to it); its images were blown up to 224² (now small images keep their size
// and get the small-image recipe). CIFAR binary files train with no other flag too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "resnet/core/rng.h"
#include "resnet/data/image.h"
#include "resnet/models/checkpoint.h"
#include "resnet/train/tensorboard.h"

namespace resnet::testing {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

TEST(FirstTryCli, AFolderOfSmallRgbPngsTrainsWithNoOtherFlag) {
  const fs::path dir = fresh_dir("first_try_folder");
  Rng rng(5);
  const char* classes[] = {"cat", "dog", "fox"};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 12; ++i) {
      data::Image image;
      image.resize(3, 40, 40);
      for (auto& p : image.pixels) p = static_cast<uint8_t>(c * 80 + rng.below(80));
      fs::create_directories(dir / "images" / classes[c]);
      data::write_png((dir / "images" / classes[c] / (std::to_string(i) + ".png")).string(), image);
    }
  const std::string train_flags =
      "train --dataset folder:" + (dir / "images").string() + " --dir " + dir.string();
  // --print-config shows the size and transforms the run will use, resolved from the first image.
  const auto printed = run_cli_streams(train_flags + " --print-config");
  ASSERT_EQ(printed.status, 0) << printed.err;
  const nlohmann::json plan = nlohmann::json::parse(printed.out);
  EXPECT_EQ(plan["data"]["image_size"], 40);
  EXPECT_EQ(
      plan["data"]["train_transforms"],
      nlohmann::json({"resize(40)", "center_crop(40)", "random_crop(40, padding=5)", "hflip", "normalize"}));
  EXPECT_EQ(plan["data"]["eval_transforms"], nlohmann::json({"resize(40)", "center_crop(40)", "normalize"}));
  EXPECT_NE(printed.err.find("training split's statistics"), std::string::npos) << printed.err;

  const auto out = run_cli(train_flags);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("holding out 10%"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("training at 40x40"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("batch size lowered from 128 to the 32 images"), std::string::npos) << out.text;
  const fs::path run = dir / "resnet20-folder";
  const models::Checkpoint c = models::load_checkpoint(run.string());
  ASSERT_TRUE(c.card.preprocessing.input_size.has_value());
  EXPECT_EQ(c.card.preprocessing.input_size->height, 40);
  EXPECT_EQ(c.card.class_names, std::vector<std::string>({"cat", "dog", "fox"}));
  const nlohmann::json config = read_json(run / "config.json");
  EXPECT_EQ(config["optim"]["batch_size"], 32) << "saved, so that a resume takes the same steps";
  // config.json holds the pipelines that ran, the normalisation bound to the measured statistics.
  EXPECT_EQ(config["data"]["image_size"], 40);
  ASSERT_EQ(config["data"]["train_transforms"].size(), 5u) << config["data"].dump();
  EXPECT_EQ(config["data"]["train_transforms"][2], "random_crop(40, padding=5)");
  EXPECT_EQ(config["data"]["train_transforms"][4].get<std::string>().rfind("normalize(mean=", 0), 0u)
      << config["data"].dump();
  EXPECT_EQ(config["data"]["eval_transforms"][2], config["data"]["train_transforms"][4]);
  EXPECT_EQ(read_json(run / "summary.json")["final_set"], "validation");
  // TensorBoard's view: an accuracy per epoch and the confusion matrix as a PNG.
  std::ifstream event_file(run / train::kEventFileName, std::ios::binary);
  const auto events =
      train::read_event_file(std::string(std::istreambuf_iterator<char>(event_file), {}), "events");
  int accuracies = 0, images = 0;
  for (const auto& e : events) {
    accuracies += e.tag == "eval/accuracy";
    if (e.is_image) images += e.png.rfind("\x89PNG", 0) == 0;
  }
  EXPECT_EQ(accuracies, 15);
  EXPECT_EQ(images, 1);
  // The trained model predicts on one of the files.
  const auto predicted =
      run_cli("predict --checkpoint " + run.string() + " " + (dir / "images" / "fox" / "0.png").string());
  EXPECT_EQ(predicted.status, 0) << predicted.text;
  fs::remove_all(dir);
}

TEST(FirstTryCli, CifarBinaryFilesTrainWithNoOtherFlag) {
  const fs::path dir = fresh_dir("first_try_cifar");
  fs::create_directories(dir / "cifar");
  Rng rng(7);
  auto write = [&](const std::string& name, int records) {
    std::ofstream f(dir / "cifar" / name, std::ios::binary);
    for (int r = 0; r < records; ++r) {
      const auto label = static_cast<uint8_t>(r % 10);
      f.put(static_cast<char>(label));
      for (int i = 0; i < 3072; ++i) f.put(static_cast<char>(label * 20 + rng.below(40)));
    }
  };
  for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", 30);  // 150 images
  write("test_batch.bin", 20);
  // --epochs only to keep the test short: sizes, transforms and normalisation are the defaults.
  const auto out = run_cli("train --dataset cifar10:" + (dir / "cifar").string() + " --dir " + dir.string() +
                           " --epochs 2");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json config = read_json(dir / "resnet20-cifar10" / "config.json");
  EXPECT_EQ(config["optim"]["batch_size"], 128);
  const models::Checkpoint c = models::load_checkpoint((dir / "resnet20-cifar10").string());
  EXPECT_EQ(c.card.preprocessing.input_size->height, 32);
  EXPECT_EQ(c.card.class_names[0], "airplane");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
