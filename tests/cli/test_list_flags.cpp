// Issue 23: one syntax for every list flag. `--mean 0.5 0.4 0.3` and `--mean 0.5,0.4,0.3` (and a mix)
// mean the same to every command, `resnet convert` and `resnet import` alike.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "card_util.h"
#include "cli_util.h"
#include "resnet/models/checkpoint.h"

namespace resnet::testing {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = RESNET_FIXTURES_DIR;

std::vector<double> mean_of(const std::string& checkpoint) {
  return json_of(models::load_checkpoint(checkpoint).card).at("mean").get<std::vector<double>>();
}

TEST(ListFlagsCli, ConvertAndImportTakeSpacesAndCommas) {
  const fs::path dir = fresh_dir("list_flags");
  const std::vector<double> expected{0.5, 0.4, 0.3};
  const std::string pth = kFixtures + "/pth/resnet20_w025.pth --model resnet20 --width 0.25";
  // An ONNX file to import: the converted model, exported.
  const std::string plain = (dir / "plain.safetensors").string(), onnx = (dir / "m.onnx").string();
  ASSERT_EQ(run_cli("convert " + pth + " --out " + plain).status, 0);
  ASSERT_EQ(run_cli("export --checkpoint " + plain + " --onnx " + onnx).status, 0);
  for (const std::string lists :
       {" --mean 0.5 0.4 0.3 --std 0.2 0.2 0.25", " --mean 0.5,0.4,0.3 --std 0.2,0.2,0.25",
        " --mean 0.5,0.4 0.3 --std 0.2 0.2,0.25"}) {
    const std::string converted = (dir / "converted.safetensors").string();
    auto out = run_cli("convert " + pth + " --out " + converted + lists);
    ASSERT_EQ(out.status, 0) << lists << "\n" << out.text;
    EXPECT_EQ(mean_of(converted), expected) << lists;
    const std::string imported = (dir / "imported.safetensors").string();
    out = run_cli("import " + onnx + " --out " + imported + " --dataset fashion-mnist" + lists);
    ASSERT_EQ(out.status, 0) << lists << "\n" << out.text;
    EXPECT_EQ(mean_of(imported), expected) << lists;
  }
  // A value that is not a number names the flag.
  const auto bad = run_cli("convert " + pth + " --out " + (dir / "x.safetensors").string() +
                           " --mean 0.5,abc,0.3 --std 0.2 0.2 0.2");
  EXPECT_EQ(bad.status, 2) << bad.text;
  EXPECT_NE(bad.text.find("--mean"), std::string::npos) << bad.text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
