// The ONNX commands end to end: `resnet export` from a checkpoint and from an .onnx file, `resnet import`,
// `resnet eval` / `resnet predict` reading an .onnx directly, and the errors a user meets.
#include <gtest/gtest.h>

#include <fstream>

#include "card_util.h"
#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/data/image.h"
#include "resnet/onnx/export.h"
#include "resnet/onnx/import.h"
#include "resnet/train/checkpoint.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

// A Fashion-MNIST-shaped ResNet-20 (1 channel, 10 classes) with the info a trained checkpoint carries.
nlohmann::json fashion_info() {
  return {{"model", "resnet20"},
          {"width_multiplier", 1.0},
          {"num_classes", 10},
          {"in_channels", 1},
          {"input_size", {1, 28, 28}},
          {"class_names",
           {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
            "Ankle boot"}},
          {"mean", {0.286}},
          {"std", {0.353}},
          {"eval_transforms", {"normalize(mean=[0.286], std=[0.353])"}},
          {"dataset", "fashion-mnist"}};
}

TEST(OnnxCli, ExportImportAndBackKeepTheNetworkAndItsInfo) {
  auto model = models::create_model("resnet20", 10, 1);
  fill_module(*model);
  model->eval();
  const fs::path dir = fresh_dir("cli");
  const std::string ckpt = (dir / "model.safetensors").string(), onnx = (dir / "model.onnx").string(),
                    back = (dir / "back.safetensors").string(), again = (dir / "again.onnx").string();
  train::save_checkpoint(ckpt, *model, nullptr, nullptr, card_of(fashion_info()), nullptr, nullptr);

  auto out = run_cli("export --checkpoint " + ckpt + " --onnx " + onnx);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("opset 13"), std::string::npos) << out.text;
  out = run_cli("import " + onnx + " --out " + back);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("option-A"), std::string::npos) << out.text;
  // An .onnx is accepted wherever a checkpoint is: export it again, folded.
  out = run_cli("export --checkpoint " + onnx + " --onnx " + again + " --fold-bn");
  ASSERT_EQ(out.status, 0) << out.text;

  const Tensor x = fill_input({4, 1, 28, 28});
  const Tensor expected = logits_of(*model, x);
  for (const std::string& path : {back, again}) {
    const models::Checkpoint c = models::load_checkpoint(path);
    EXPECT_EQ(json_of(c.card).at("class_names"), fashion_info()["class_names"]) << path;
    EXPECT_EQ(json_of(c.card).at("dataset"), "fashion-mnist") << path;
    auto loaded = models::model_from_checkpoint(c);
    EXPECT_LE(max_rel_error(logits_of(*loaded, x), expected), 1e-5) << path;
  }
  fs::remove_all(dir);
}

TEST(OnnxCli, EvalAndPredictRunAnOnnxFile) {
  auto model = models::create_model("resnet20", 10, 1);
  fill_module(*model);
  model->eval();
  const fs::path dir = fresh_dir("cli_eval");
  const std::string onnx = (dir / "model.onnx").string(), png = (dir / "img.png").string();
  onnx::export_onnx(*model, onnx, {.card = card_of(fashion_info())});
  data::Image image;
  image.resize(1, 28, 28);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>((i * 37) % 251);
  data::write_png(png, image);
  auto out = run_cli("predict --checkpoint " + onnx + " " + png + " --top-k 2");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("img.png:"), std::string::npos) << out.text;
  if (fs::exists("/usr/share/datasets/fashion-mnist")) {
    out = run_cli("eval --checkpoint " + onnx + " --limit 50 --threads 1");
    ASSERT_EQ(out.status, 0) << out.text;
    EXPECT_NE(out.text.find("top-1"), std::string::npos) << out.text;
  }
  fs::remove_all(dir);
}

// A foreign file carries no class names or preprocessing: `resnet import` takes them from the command line.
TEST(OnnxCli, ImportTakesClassNamesAndPreprocessing) {
  auto model = filled_model("resnet20", 3);
  const fs::path dir = fresh_dir("cli_overrides");
  const std::string onnx = (dir / "m.onnx").string(), out_path = (dir / "m.safetensors").string();
  onnx::export_onnx(*model, onnx);
  std::ofstream(dir / "names.txt") << "cat\ndog\nbird\n";
  // Without normalisation in the file or on the command line, the import says how to give it.
  auto out = run_cli("import " + onnx + " --out " + out_path);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("no preprocessing metadata"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("--mean 0.485 0.456 0.406 --std 0.229 0.224 0.225"), std::string::npos) << out.text;
  out = run_cli("import " + onnx + " --out " + out_path +
                " --mean 0.5,0.4,0.3 --std 0.2,0.2,0.25 --class-names " + (dir / "names.txt").string() +
                " --input-size 40 --dataset folder:/data/pets");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_EQ(out.text.find("no preprocessing metadata"), std::string::npos) << out.text;
  const models::Checkpoint c = models::load_checkpoint(out_path);
  EXPECT_EQ(json_of(c.card).at("class_names"), nlohmann::json({"cat", "dog", "bird"}));
  EXPECT_EQ(json_of(c.card).at("input_size"), nlohmann::json({3, 40, 40}));
  EXPECT_EQ(json_of(c.card).at("dataset"), "folder:/data/pets");
  ASSERT_EQ(json_of(c.card).at("eval_transforms").size(), 1u);
  EXPECT_EQ(json_of(c.card).at("eval_transforms")[0].get<std::string>().rfind("normalize(mean=[0.5", 0), 0u);
  out = run_cli("import " + onnx + " --out " + out_path + " --mean 0.5 --std 0.2");
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("one value per input channel"), std::string::npos) << out.text;
  fs::remove_all(dir);
}

// Turns the first node of type `from` into `to` in an exported file.
void retype_first(const std::string& path, const std::string& from, const std::string& to) {
  auto m = onnx::read_model(path);
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == from) {
      n.set_op_type(to);
      break;
    }
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(OnnxCli, ErrorsNameTheFileTheNodeAndTheProblem) {
  auto model = filled_model("resnet20");
  const fs::path dir = fresh_dir("cli_errors");
  const std::string onnx = (dir / "model.onnx").string();
  onnx::export_onnx(*model, onnx);

  // An import that does not name its data set asks for one instead of guessing.
  auto out = run_cli("eval --checkpoint " + onnx + " --limit 5");
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("pass --dataset"), std::string::npos) << out.text;

  retype_first(onnx, "Relu", "Sigmoid");
  out = run_cli("import " + onnx + " --out " + (dir / "x.safetensors").string());
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("Sigmoid"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("'relu'"), std::string::npos) << "names the node: " << out.text;
  EXPECT_NE(out.text.find(onnx), std::string::npos) << "names the file: " << out.text;
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));

  std::ofstream(dir / "garbage.onnx") << "this is not a protobuf at all \x01\x02\x03";
  out = run_cli("eval --checkpoint " + (dir / "garbage.onnx").string());
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("is not an ONNX model"), std::string::npos) << out.text;

  out = run_cli("import " + (dir / "missing.onnx").string() + " --out " + (dir / "y.safetensors").string());
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("does not exist"), std::string::npos) << out.text;

  // A structure the importer cannot map (a dilated conv) is refused by name, not mis-imported.
  onnx::export_onnx(*model, onnx);
  auto m = onnx::read_model(onnx);
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == "layer2.1.conv1")
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "dilations") a.set_ints(0, 2), a.set_ints(1, 2);
  std::string bytes;
  m.SerializeToString(&bytes);
  std::ofstream(onnx, std::ios::binary) << bytes;
  try {
    onnx::import_onnx(onnx);
    ADD_FAILURE() << "a dilated conv was imported";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.1.conv1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dilated"), std::string::npos) << e.what();
  }

  // Export into a directory that does not exist fails cleanly; an existing file is left as it was.
  const std::string ckpt = (dir / "w.safetensors").string();
  train::save_checkpoint(ckpt, *model, nullptr, nullptr,
                         card_of({{"model", "resnet20"}, {"num_classes", 10}, {"in_channels", 3}}), nullptr,
                         nullptr);
  out = run_cli("export --checkpoint " + ckpt + " --onnx " + (dir / "no/such/dir/m.onnx").string());
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("no/such/dir"), std::string::npos) << out.text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
