// The typed model card: one reader, one writer, older cards still read, newer ones refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "resnet/core/check.h"
#include "resnet/models/model_card.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"
#include "resnet/train/checkpoint.h"
#include "resnet/version.h"

namespace resnet::models {
namespace {

namespace fs = std::filesystem;

ModelCard full_card() {
  ModelCard card{.model = "resnet20", .num_classes = 3, .in_channels = 1, .width_multiplier = 0.5};
  card.spec = model_spec("resnet20", {.num_classes = 3, .in_channels = 1, .width_multiplier = 0.5});
  card.class_names = {"cat", "dog", "bird"};
  card.preprocessing = {.input_size = InputSize{1, 28, 28},
                        .mean = {0.286},
                        .std = {0.353},
                        .eval_transforms = std::vector<std::string>{"normalize(mean=0.286, std=0.353)"}};
  card.provenance = {.dataset = "fashion-mnist",
                     .source_file = "w.pth",
                     .source_format = "pth",
                     .recipe = "resnet train: 8 epochs"};
  return card;
}

std::string message_of(const nlohmann::json& info) {
  try {
    (void)model_card_from_json(info, "card.safetensors");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelCard, WrittenAndReadBackFieldByField) {
  const ModelCard card = full_card();
  const nlohmann::json j = model_card_to_json(card);
  EXPECT_EQ(j.at("card_version"), kModelCardVersion);
  EXPECT_EQ(j.at("written_by"), std::string("resnet.cpp ") + version());
  const ModelCard back = model_card_from_json(j, "card.safetensors");
  EXPECT_EQ(back.version, kModelCardVersion);
  EXPECT_EQ(back.model, card.model);
  ASSERT_TRUE(back.spec.has_value());
  EXPECT_EQ(spec_to_json(*back.spec), spec_to_json(*card.spec));
  EXPECT_EQ(back.num_classes, 3);
  EXPECT_EQ(back.in_channels, 1);
  EXPECT_EQ(back.width_multiplier, 0.5);
  EXPECT_EQ(back.class_names, card.class_names);
  EXPECT_EQ(back.preprocessing.input_size, card.preprocessing.input_size);
  EXPECT_EQ(back.preprocessing.mean, card.preprocessing.mean);
  EXPECT_EQ(back.preprocessing.std, card.preprocessing.std);
  EXPECT_EQ(back.preprocessing.eval_transforms, card.preprocessing.eval_transforms);
  EXPECT_EQ(back.provenance.dataset, "fashion-mnist");
  EXPECT_EQ(back.provenance.source_file, "w.pth");
  EXPECT_EQ(back.provenance.source_format, "pth");
  EXPECT_EQ(back.provenance.recipe, "resnet train: 8 epochs");
  EXPECT_EQ(back.provenance.written_by, std::string("resnet.cpp ") + version());
  EXPECT_EQ(model_card_to_json(back), j);
}

TEST(ModelCard, VersionOneCardsReadAsBefore) {
  // What resnet.cpp wrote before cards had versions: flat keys, the source under its old names.
  const nlohmann::json converted = {{"model", "resnet20"},
                                    {"width_multiplier", 1.0},
                                    {"num_classes", 10},
                                    {"in_channels", 3},
                                    {"input_size", {3, 32, 32}},
                                    {"class_names", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
                                    {"mean", {0.5, 0.5, 0.5}},
                                    {"std", {0.25, 0.25, 0.25}},
                                    {"eval_transforms", {"normalize(mean=0.5, std=0.25)"}},
                                    {"dataset", ""},
                                    {"converted_from", "w.pth"}};
  ModelCard card = model_card_from_json(converted, "old.safetensors");
  EXPECT_EQ(card.version, 1);
  EXPECT_FALSE(card.spec.has_value());
  EXPECT_EQ(card.num_classes, 10);
  EXPECT_EQ(card.provenance.source_file, "w.pth");
  EXPECT_EQ(card.provenance.source_format, "pth");
  EXPECT_EQ(card.provenance.written_by, "");
  EXPECT_EQ(network_from_card(card, "old.safetensors")->spec().num_classes, 10);

  const nlohmann::json imported = {{"model", "m"},
                                   {"spec", spec_to_json(model_spec("resnet20", {.num_classes = 4}))},
                                   {"imported_from", "/tmp/m.onnx"}};
  card = model_card_from_json(imported, "old.safetensors");
  EXPECT_EQ(card.num_classes, 4) << "the counts come from the spec";
  EXPECT_EQ(card.in_channels, 3);
  EXPECT_EQ(card.provenance.source_file, "/tmp/m.onnx");
  EXPECT_EQ(card.provenance.source_format, "onnx");
}

TEST(ModelCard, ACardFromANewerResnetCppIsRefusedByItsVersion) {
  nlohmann::json j = model_card_to_json(full_card());
  j["card_version"] = kModelCardVersion + 1;
  j["written_by"] = "resnet.cpp 9.0.0";
  const std::string msg = message_of(j);
  EXPECT_NE(msg.find("card.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("version " + std::to_string(kModelCardVersion + 1)), std::string::npos) << msg;
  EXPECT_NE(msg.find("resnet.cpp 9.0.0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("use a newer resnet.cpp"), std::string::npos) << msg;
  j["card_version"] = "two";
  EXPECT_NE(message_of(j).find("'card_version'"), std::string::npos) << message_of(j);
}

TEST(ModelCard, DamagedFieldsAreNamed) {
  const nlohmann::json good = model_card_to_json(full_card());
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](nlohmann::json& j) { j.erase("model"); }, "lacks the key 'model'"},
      {[](nlohmann::json& j) { j["num_classes"] = 4; }, "'num_classes'"},  // its spec has 3
      {[](nlohmann::json& j) { j["in_channels"] = 3; }, "'in_channels'"},
      {[](nlohmann::json& j) { j["std"] = {0.0}; }, "'std'"},
      {[](nlohmann::json& j) {
         j["mean"] = {0.1, 0.2};
       },
       "'mean'"},  // two means, one std
      {[](nlohmann::json& j) { j["mean"] = "0.5"; }, "'mean'"},
      {[](nlohmann::json& j) {
         j["class_names"] = {"a", "b"};
       },
       "2 names for 3 classes"},
      {[](nlohmann::json& j) {
         j["input_size"] = {1, 100000, 28};
       },
       "'input_size'"},
      {[](nlohmann::json& j) { j["source"] = "w.pth"; }, "'source'"},
      {[](nlohmann::json& j) {
         j["source"] = {{"file", 7}};
       },
       "'file'"},
      {[](nlohmann::json& j) { j["recipe"] = 3; }, "'recipe'"},
      {[](nlohmann::json& j) { j["eval_transforms"] = {1}; }, "non-string transform"},
  };
  for (const auto& [damage, expected] : cases) {
    nlohmann::json j = good;
    damage(j);
    const std::string msg = message_of(j);
    EXPECT_NE(msg.find(expected), std::string::npos) << j.dump() << "\n" << msg;
    if (!msg.empty()) {
      EXPECT_NE(msg.find("card.safetensors"), std::string::npos) << msg;
    }
  }
}

TEST(ModelCard, RequireNamesTheFirstMissingFieldAndTheCommand) {
  const ModelCard bare = model_card_from_json({{"model", "resnet20"}}, "bare.safetensors");
  try {
    require(bare, "bare.safetensors", {CardField::input_size}, "resnet predict");
    ADD_FAILURE() << "a bare card passed";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    // Without a spec, the counts the network is rebuilt from come first.
    EXPECT_NE(msg.find("lacks the key 'num_classes' that resnet predict needs"), std::string::npos) << msg;
  }
  ModelCard counted = bare;
  counted.num_classes = 10;
  counted.in_channels = 1;
  try {
    require(counted, "bare.safetensors", {CardField::input_size, CardField::class_names}, "resnet predict");
    ADD_FAILURE() << "a card without input_size passed";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'input_size'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(require(full_card(), "full.safetensors",
                          {CardField::num_classes, CardField::in_channels, CardField::input_size,
                           CardField::class_names, CardField::eval_transforms, CardField::dataset},
                          "everything"));
  EXPECT_THROW(network_from_card(bare, "bare.safetensors"), UserError);
}

TEST(ModelCard, CheckpointsCarryTheTypedCard) {
  const fs::path dir = fs::temp_directory_path() / "resnet_model_card_test";
  fs::create_directories(dir);
  const std::string path = (dir / "c.safetensors").string();
  const ModelCard card = full_card();
  auto model = std::make_unique<ResNet>(*card.spec);
  train::save_checkpoint(path, *model, nullptr, nullptr, card, nullptr, nullptr);
  const io::TensorFile raw = io::load_safetensors(path);
  const auto info = nlohmann::json::parse(raw.metadata.at("info"));
  EXPECT_EQ(info.at("card_version"), kModelCardVersion);
  const models::Checkpoint c = models::load_checkpoint(path);
  EXPECT_EQ(model_card_to_json(c.card), model_card_to_json(card));
  EXPECT_EQ(models::model_from_checkpoint(c)->spec().widths, card.spec->widths);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::models
