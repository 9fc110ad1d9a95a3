// PyTorch checkpoints: files written by Debian's torch 1.13 (tests/fixtures/generate_pth.py) read into the
// tensors torch holds; hostile pickles and damaged archives refused with a message naming the file and the
// fault; `resnet convert` end to end, through to `resnet predict`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "card_util.h"
#include "fixture_fill.h"
#include "resnet/io/pickle.h"
#include "resnet/io/pth.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/checkpoint.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"
#include "test_util.h"

using namespace resnet;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(RESNET_FIXTURES_DIR) + "/pth/";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("resnet_pth_" + std::to_string(getpid()) + "_" + name)).string();
}

// Same name, dtype, shape and bit-identical values.
void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  ASSERT_EQ(got.dtype(), want.dtype()) << name;
  ASSERT_EQ(got.shape(), want.shape()) << name;
  EXPECT_TRUE(got.is_contiguous()) << name;
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_EQ(got.get_flat(i), want.get_flat(i)) << name << " element " << i;
}

// Every "<prefix>.<name>" tensor of expected.safetensors, compared with the file's tensors in order.
void expect_matches_fixture(const io::PthFile& pth, const std::string& prefix) {
  const io::TensorFile expected = io::load_safetensors(kDir + "expected.safetensors");
  std::vector<std::string> want_names;
  for (const auto& [name, t] : expected.tensors)
    if (name.rfind(prefix + ".", 0) == 0) want_names.push_back(name.substr(prefix.size() + 1));
  ASSERT_FALSE(want_names.empty());
  std::vector<std::string> got_names;
  for (const auto& [name, t] : pth.tensors) got_names.push_back(name);
  std::sort(want_names.begin(), want_names.end());
  std::sort(got_names.begin(), got_names.end());
  EXPECT_EQ(got_names, want_names);
  for (const auto& [name, t] : pth.tensors)
    if (const Tensor* want = expected.find(prefix + "." + name)) expect_same(t, *want, name);
}

struct Output {
  int status = -1;
  std::string text;
};

Output run_cli(const std::string& args) {
  const std::string cmd = std::string(RESNET_CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  Output out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.text.append(buf.data(), n);
  const int status = pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::unique_ptr<models::ResNet> formula_resnet20_w025() {
  auto m = models::create_model("resnet20", {.num_classes = 10, .in_channels = 3, .width_multiplier = 0.25});
  resnet::testing::fill_module(*m);
  for (auto& [name, b] : m->named_buffers())
    if (name.find("num_batches_tracked") != std::string::npos) b->fill(static_cast<double>(name.size()));
  return m;
}

}  // namespace

TEST(Pth, TrainingScriptCheckpointGivesTheStateDictWithoutModulePrefix) {
  const io::PthFile pth = io::load_pth(kDir + "resnet20_w025.pth");
  EXPECT_EQ(pth.format, "zip");
  EXPECT_EQ(pth.key, "state_dict");
  std::string notes;
  for (const auto& n : pth.notes) notes += n + "\n";
  EXPECT_NE(notes.find("'module.'"), std::string::npos) << notes;
  auto model = formula_resnet20_w025();
  const auto want = nn::state_dict(*model);
  ASSERT_EQ(pth.tensors.size(), want.size());
  EXPECT_EQ(pth.tensors.front().first, "conv1.weight") << "torch's order";
  for (const auto& [name, w] : want) {
    const auto it =
        std::find_if(pth.tensors.begin(), pth.tensors.end(), [&](const auto& t) { return t.first == name; });
    ASSERT_NE(it, pth.tensors.end()) << name << " missing";
    ASSERT_EQ(it->second.shape(), w.shape()) << name;
    ASSERT_EQ(it->second.dtype(), w.dtype()) << name;
    EXPECT_LE(resnet::testing::max_rel_error(it->second, w), 1e-7) << name;
  }
  // --keep-module-prefix keeps DataParallel's names.
  const io::PthFile kept = io::load_pth(kDir + "resnet20_w025.pth", {.key = "", .keep_module_prefix = true});
  EXPECT_EQ(kept.tensors.front().first, "module.conv1.weight");
}

TEST(Pth, DtypesSharedStoragesAndStridesMatchTorch) {
  const io::PthFile pth = io::load_pth(kDir + "dtypes.pth");
  EXPECT_EQ(pth.key, "");
  expect_matches_fixture(pth, "dtypes");
  // The two views of one storage are separate dense copies.
  const Tensor* row = nullptr;
  for (const auto& [name, t] : pth.tensors)
    if (name == "shared_row") row = &t;
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->get_flat(0), -3.0 + 12 * 0.25);
}

TEST(Pth, LegacyFormatGivesTheSameTensors) {
  const io::PthFile pth = io::load_pth(kDir + "dtypes_legacy.pth");
  EXPECT_EQ(pth.format, "legacy");
  expect_matches_fixture(pth, "dtypes");
}

TEST(Pth, NestedCheckpointWithOptimizerStatePicksTheModel) {
  const io::PthFile pth = io::load_pth(kDir + "nested.pth");
  EXPECT_EQ(pth.key, "model");
  expect_matches_fixture(pth, "nested");
  EXPECT_EQ(io::load_pth(kDir + "nested.pth", {.key = "model"}).tensors.size(), pth.tensors.size());
  const std::string no_key = error_of([] { io::load_pth(kDir + "nested.pth", {.key = "weights"}); });
  EXPECT_NE(no_key.find("no entry 'weights'"), std::string::npos) << no_key;
  EXPECT_NE(no_key.find("'optimizer'"), std::string::npos) << "lists the entries: " << no_key;
  const std::string not_sd = error_of([] { io::load_pth(kDir + "nested.pth", {.key = "optimizer"}); });
  EXPECT_NE(not_sd.find("not a state_dict"), std::string::npos) << not_sd;
}

TEST(Pth, DeeperStateDictIsFoundByItsKeyPathAndAmbiguityNeedsKey) {
  const io::PthFile deeper = io::load_pth(kDir + "nested_deeper.pth");
  EXPECT_EQ(deeper.key, "checkpoint/model");
  expect_matches_fixture(deeper, "nested");
  const std::string msg = error_of([] { io::load_pth(kDir + "nested_ambiguous.pth"); });
  EXPECT_NE(msg.find("several dicts of tensors ('a/state_dict', 'b/weights')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--key"), std::string::npos) << msg;
  EXPECT_EQ(io::load_pth(kDir + "nested_ambiguous.pth", {.key = "b/weights"}).key, "b/weights");
}

struct HostileCase {
  const char* file;
  const char* message;
};

void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << c.file;
}

class PthHostileFile : public ::testing::TestWithParam<HostileCase> {};

TEST_P(PthHostileFile, IsRefusedWithAMessageNamingTheFileAndFault) {
  const std::string path = kDir + GetParam().file;
  ASSERT_TRUE(fs::exists(path)) << path;
  const std::string msg = error_of([&] { io::load_pth(path); });
  ASSERT_FALSE(msg.empty()) << GetParam().file << " was accepted";
  EXPECT_NE(msg.find(GetParam().file), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().message), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Files, PthHostileFile,
    ::testing::Values(HostileCase{"hostile_os_system.pth", "refusing the pickle global 'posix.system'"},
                      HostileCase{"hostile_eval.pth", "refusing the pickle global '__builtin__.eval'"},
                      HostileCase{"hostile_exec_legacy.pth", "refusing the pickle global 'builtins.exec'"},
                      HostileCase{"hostile_deep.pth", "nested deeper than 100"},
                      HostileCase{"hostile_truncated.pth", "truncated"},
                      HostileCase{"hostile_missing_record.pth", "lacks the record 'archive/data/0'"},
                      HostileCase{"hostile_short_record.pth", "holds 8 bytes"},
                      HostileCase{"hostile_offset.pth", "reaches element 1003 of a storage of 4"},
                      HostileCase{"hostile_stride.pth", "reaches element 6 of a storage of 4"},
                      HostileCase{"hostile_legacy_truncated.pth", "truncated"},
                      HostileCase{"hostile_torchscript.pth", "looks like TorchScript"},
                      HostileCase{"hostile_expand.pth", "1073741824 elements viewing a storage of 4"}),
    [](const ::testing::TestParamInfo<HostileCase>& info) {
      std::string name = fs::path(info.param.file).stem().string();
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// Streams built here, byte by byte, for faults the Python pickler cannot write.
TEST(PthHostile, MalformedStreamsAreRefused) {
  const auto run = [](std::vector<uint8_t> bytes) {
    return error_of([&] { io::pickle::unpickle(bytes, "stream"); });
  };
  // The bytes of a string literal, embedded NULs included, without the terminating one.
  const auto s = [](const auto& literal) {
    return std::vector<uint8_t>(std::begin(literal), std::end(literal) - 1);
  };
  EXPECT_NE(run({}).find("ends early"), std::string::npos);
  EXPECT_NE(run(s("\x80\x02"
                  "0."))
                .find("empty stack"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02N"
                  "r\xff\xff\xff\x7f."))
                .find("memo index"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02h\x05.")).find("never stored"), std::string::npos);
  // A list appended to after it was nested: the pattern that would build deep chains or cycles.
  EXPECT_NE(run(s("\x80\x02]q\x00]q\x01h\x00"
                  "ah\x00N"
                  "a."))
                .find("already nested"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02]q\x00h\x00"
                  "a."))
                .find("inside itself"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02\x8a\x09"
                  "123456789."))
                .find("more than 64 bits"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02\x8c\x02os\x8c\x06system\x93.")).find("'os.system'"), std::string::npos);
  EXPECT_NE(run(s("\x80\x02"
                  "cbuiltins\ngetattr\n."))
                .find("'builtins.getattr'"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02X\xff\xff\x00\x00"
                  "abc."))
                .find("past the end"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02I1\n.")).find("unsupported pickle opcode 0x49"), std::string::npos);
  EXPECT_NE(run(s("\x80\x02NN.")).find("values left"), std::string::npos);
  EXPECT_NE(run(s("\x80\x02"
                  "ctorch\nFloatStorage\n)R."))
                .find("cannot be called"),
            std::string::npos);
  EXPECT_NE(run(s("\x80\x02((((((((((((((((((((.")).find("empty stack"), std::string::npos);
  // 10^5 MARKs are within the stack limit; more are not, whatever memory they would take.
  std::vector<uint8_t> marks = {0x80, 0x02};
  marks.insert(marks.end(), (1 << 20) + 1, '(');
  EXPECT_NE(run(marks).find("too many MARKs"), std::string::npos);
}

TEST(PthHostile, NotACheckpointIsNamed) {
  const std::string safetensors = kDir + "expected.safetensors";
  const std::string msg = error_of([&] { io::load_pth(safetensors); });
  EXPECT_NE(msg.find("not a PyTorch checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("safetensors already"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { io::load_pth("/nonexistent/model.pth"); }).find("cannot open"), std::string::npos);
}

TEST(PthCli, AnImageNetModelGetsImageNetsClassNamesAndNormalisation) {
  // The layout of torchvision's published resnet18 (1,000 classes) at 1/32 width.
  const std::string out = temp_path("r18.safetensors");
  Output r = run_cli("convert " + kDir + "resnet18_tiny_imagenet.pth --out " + out + " --model resnet18");
  ASSERT_EQ(r.status, 0) << r.text;
  const models::Checkpoint c = models::load_checkpoint(out);
  ASSERT_EQ(c.card.class_names.size(), 1000u);
  EXPECT_EQ(c.card.class_names[0], "tench");
  EXPECT_EQ(c.card.class_names[207], "golden retriever");
  EXPECT_EQ(c.card.class_names[999], "toilet tissue");
  ASSERT_EQ(c.card.preprocessing.mean.size(), 3u);
  EXPECT_NEAR(c.card.preprocessing.mean[0], 0.485, 1e-9);
  r = run_cli("predict --checkpoint " + out + " " + kDir + "photo_300x200.png --top-k 1 --json");
  ASSERT_EQ(r.status, 0) << r.text;
  const size_t at = r.text.find("\"class\"");
  ASSERT_NE(at, std::string::npos) << r.text;
  const std::string name = r.text.substr(r.text.find('"', r.text.find(':', at)) + 1);
  const std::string predicted = name.substr(0, name.find('"'));
  EXPECT_NE(std::find(c.card.class_names.begin(), c.card.class_names.end(), predicted),
            c.card.class_names.end())
      << "predict prints ImageNet's names: " << r.text;
  EXPECT_FALSE(std::all_of(predicted.begin(), predicted.end(), ::isdigit)) << r.text;
  // A names file still wins.
  const std::string names = temp_path("names1000.txt");
  {
    std::ofstream f(names);
    for (int i = 0; i < 1000; ++i) f << "n" << i << "\n";
  }
  r = run_cli("convert " + kDir + "resnet18_tiny_imagenet.pth --out " + out +
              " --model resnet18 --class-names " + names);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_EQ(models::load_checkpoint(out).card.class_names[207], "n207");
  fs::remove(out), fs::remove(names);
}

TEST(PthCli, ConvertChecksTheArchitectureAndPredictUsesTheCheckpoint) {
  const std::string names = temp_path("names.txt"), out = temp_path("r20.safetensors"),
                    plain = temp_path("plain.safetensors");
  {
    std::ofstream f(names);
    for (int i = 0; i < 10; ++i) f << "class_" << char('a' + i) << "\n";
  }
  // Without --model: the tensors under torchvision names.
  Output r = run_cli("convert " + kDir + "resnet20_w025.pth --out " + plain);
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("'module.'"), std::string::npos) << "the prefix note: " << r.text;
  const io::TensorFile file = io::load_safetensors(plain);
  EXPECT_NE(file.find("layer3.2.bn2.running_var"), nullptr);

  r = run_cli("convert " + kDir + "resnet20_w025.pth --out " + out +
              " --model resnet20 --width 0.25 --mean 0.49 0.48 0.45 --std 0.25 0.24 0.26 --class-names " +
              names);
  ASSERT_EQ(r.status, 0) << r.text;
  const models::Checkpoint c = models::load_checkpoint(out);
  EXPECT_EQ(resnet::testing::json_of(c.card).at("num_classes"), 10);
  EXPECT_EQ(resnet::testing::json_of(c.card).at("class_names")[3], "class_d");
  auto converted = models::model_from_checkpoint(c);
  auto reference = formula_resnet20_w025();
  reference->eval();
  const Tensor x = resnet::testing::fill_input({2, 3, 32, 32});
  EXPECT_LE(resnet::testing::max_rel_error(converted->forward(x), reference->forward(x).clone()), 0.0);

  r = run_cli("predict --checkpoint " + out + " " + kDir + "photo_300x200.png --top-k 2");
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("photo_300x200.png:  class_"), std::string::npos) << r.text;

  // A converted checkpoint names no data set: eval and --index say what to give instead.
  r = run_cli("eval --checkpoint " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("pass --dataset"), std::string::npos) << r.text;
  r = run_cli("predict --checkpoint " + out + " --index 3");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("give image files instead"), std::string::npos) << r.text;

  // The wrong architecture: every mismatch named, nothing written.
  const std::string wrong = temp_path("wrong.safetensors");
  r = run_cli("convert " + kDir + "resnet20_w025.pth --out " + wrong + " --model resnet32 --width 0.25");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("missing from the file"), std::string::npos) << r.text;
  EXPECT_FALSE(fs::exists(wrong));

  // A hostile file: refused, named, nothing written, the existing output untouched.
  const auto before = fs::file_size(out);
  r = run_cli("convert " + kDir + "hostile_os_system.pth --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.text.find("posix.system"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("pwned"), std::string::npos) << "the payload must never run: " << r.text;
  EXPECT_EQ(fs::file_size(out), before);
  EXPECT_NO_THROW(models::load_checkpoint(out));
  for (const auto& p : {names, out, plain}) fs::remove(p);
}
