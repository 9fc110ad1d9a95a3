// model_from_checkpoint on a damaged model card: a UserError naming the file and the key, whoever calls it.
#include <gtest/gtest.h>

#include "resnet/models/checkpoint.h"

using namespace resnet;

namespace {

TEST(CheckpointCard, RebuildingFromACardWithoutChannelsNamesTheKey) {
  // Reduced from the input fuzz_model_card found: "in_channels" missing ended in json's out_of_range.
  io::TensorFile file;
  file.path = "card.safetensors";
  file.metadata["format"] = models::kCheckpointFormat;
  file.metadata["info"] = R"({"model":"resnet20","num_classes":10,"input_size":[1,28,28]})";
  const models::Checkpoint c = models::checkpoint_from_file(std::move(file));
  try {
    models::model_from_checkpoint(c);
    ADD_FAILURE() << "a card without in_channels rebuilt a network";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("card.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'in_channels'"), std::string::npos) << msg;
  }
}

}  // namespace
