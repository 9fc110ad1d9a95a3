// A network description read from a file (checkpoint "spec", imported models): implausible numbers are
// named in a UserError before anything is built — no json exception, no allocation sized by the file.
#include <gtest/gtest.h>

#include "resnet/models/spec_json.h"

using namespace resnet;

namespace {

std::string spec_error(const std::string& blocks, const std::string& widths, const std::string& extra = "") {
  const std::string text =
      R"({"block":"basic","groups":1,"width_per_group":64,"stride_in_1x1":false,"dropout":0.0,"stem_width":16,)"
      R"("imagenet_stem":false,"shortcut":"A","in_channels":3,"num_classes":10,"blocks_per_stage":)" +
      blocks + R"(,"widths":)" + widths + extra + "}";
  try {
    models::spec_from_json(nlohmann::json::parse(text), "damaged.safetensors");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(SpecJson, ImplausibleNetworkDescriptionsAreRefusedByField) {
  EXPECT_EQ(spec_error("[3,3,3]", "[16,32,64]"), "");  // ResNet-20
  auto expect = [](const std::string& msg, const std::string& needle) {
    EXPECT_NE(msg.find("'damaged.safetensors'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  };
  expect(spec_error("[3]", "[1000000000]"), "stage width");
  expect(spec_error("[1e300]", "[16]"), "'blocks_per_stage' is not an integer");  // a float cast was UB
  expect(spec_error("[3]", "[16.5]"), "'widths' is not an integer");
  expect(spec_error("[0]", "[16]"), "blocks per stage");
  expect(spec_error("[1000]", "[16384]"), "parameters, beyond the 2000000000");
  expect(spec_error("[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]"),
         "'blocks_per_stage' is not a list of at most 16");
  expect(spec_error("[3]", "[16]", R"(,"num_classes":1000000000000)"), "num_classes");
  expect(spec_error("[3]", "[16]", R"(,"dropout":1.5)"), "dropout");
}

}  // namespace
