// The trainer end to end on small Fashion-MNIST subsets: a learning test, exact resume, kill during a
// checkpoint save, the NaN stop, the run directory, the paper's CIFAR recipe on synthetic CIFAR files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "card_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/train/checkpoint.h"
#include "resnet/train/trainer.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("resnet_trainer_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A small, quick run: ResNet-20 on the first `train` Fashion-MNIST images.
Config small_run(const fs::path& dir, const std::string& name, int64_t train = 512, int64_t test = 256) {
  Config c = default_config();
  merge_config(c,
               {{"data", {{"train_limit", train}, {"test_limit", test}, {"workers", 1}}},
                {"optim", {{"epochs", 2}, {"batch_size", 64}, {"lr", 0.1}}},
                {"schedule", {{"warmup_epochs", 0.5}}},
                {"run", {{"dir", dir.string()}, {"name", name}, {"plots", false}, {"eval_batch_size", 128}}}},
               "test");
  return c;
}

// Every tensor of two checkpoints, bit for bit.
void expect_identical_checkpoints(const std::string& a, const std::string& b) {
  const auto fa = io::load_safetensors(a), fb = io::load_safetensors(b);
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (size_t i = 0; i < fa.tensors.size(); ++i) {
    const auto& [name, ta] = fa.tensors[i];
    const Tensor& tb = fb.at(name);
    ASSERT_EQ(ta.nbytes(), tb.nbytes()) << name;
    EXPECT_EQ(std::memcmp(ta.raw(), tb.raw(), ta.nbytes()), 0) << name << " differs";
  }
}

TEST(Trainer, LearnsFashionMnistSubset) {
  const auto dir = fresh_dir("learn");
  Config c = small_run(dir, "learn", 4000, 1000);
  merge_config(c,
               {{"optim", {{"epochs", 3}, {"nesterov", true}, {"lr", 0.2}, {"label_smoothing", 0.1}}},
                {"run", {{"plots", true}}}},
               "test");
  const RunResult r = train(c);
  ASSERT_TRUE(r.finished);
  // Measured 77.6 % (3 epochs of 62 steps on 4,000 images, 1 thread); chance is 10 %. The bar leaves room
  // for thread-count differences while failing on any broken gradient or data path.
  EXPECT_GE(r.summary["final_top1"].get<double>(), 70.0) << r.summary.dump();
  for (const char* f : {"config.json", "last.safetensors", "best.safetensors", "metrics.jsonl", "metrics.csv",
                        "curves.png", "confusion.png", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / "learn" / f)) << f;
  std::ifstream csv(dir / "learn" / "metrics.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 1 + 3);  // header + one line per epoch
  // The best checkpoint is a self-describing model.
  const models::Checkpoint best = models::load_checkpoint((dir / "learn").string());
  EXPECT_EQ(testing::json_of(best.card)["model"], "resnet20");
  EXPECT_EQ(testing::json_of(best.card)["class_names"][9], "Ankle boot");
  EXPECT_NO_THROW(models::model_from_checkpoint(best));
  fs::remove_all(dir);
}

TEST(Trainer, StoppedAndResumedRunIsBitIdentical) {
  const auto dir = fresh_dir("resume");
  // Everything that carries state: momentum (Nesterov), EMA, mixing, smoothing, clipping, warm-up, the
  // per-step records (a training window of 3 steps spans both stops; evaluations between epoch ends).
  const Config extras = {
      {"optim", {{"nesterov", true}, {"ema_decay", 0.9}, {"label_smoothing", 0.1}, {"grad_clip", 5.0}}},
      {"run", {{"log_every_steps", 3}, {"eval_every_steps", 4}}},
      {"data",
       {{"mixup_alpha", 0.2},
        {"cutmix_alpha", 1.0},
        {"mix_prob", 0.7},
        {"train_transforms",
         {"random_crop(28, padding=2)", "hflip", "normalize", "random_erasing(p=0.5)"}}}}};
  Config straight = small_run(dir, "straight");
  merge_config(straight, extras, "test");
  merge_config(straight, {{"data", {{"workers", 0}}}}, "test");
  ASSERT_TRUE(train(straight).finished);

  Config stopped = small_run(dir, "stopped");
  merge_config(stopped, extras, "test");
  merge_config(stopped, {{"run", {{"stop_after_steps", 5}}}, {"data", {{"workers", 3}}}}, "test");
  RunResult first = train(stopped);  // 8 steps per epoch: stops inside epoch 1
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.exit_code, 0);
  const std::string run = (dir / "stopped").string();
  EXPECT_FALSE(resume(run, {{"run", {{"stop_after_steps", 6}}}}).finished);  // across the epoch boundary
  const RunResult last = resume(run, {{"run", {{"stop_after_steps", 0}}}});
  ASSERT_TRUE(last.finished);
  expect_identical_checkpoints((dir / "straight" / "last.safetensors").string(), run + "/last.safetensors");
  // The metrics agree too (not the timings), and the history has one record per epoch.
  const models::Checkpoint a = models::load_checkpoint((dir / "straight").string(), true),
                           b = models::load_checkpoint(run, true);
  ASSERT_EQ(b.state["history"].size(), 2u);
  for (size_t e = 0; e < 2; ++e)
    for (const char* k : {"train_loss", "train_acc", "eval_loss", "eval_acc", "ema_eval_acc", "lr"})
      EXPECT_EQ(a.state["history"][e][k], b.state["history"][e][k]) << k << " epoch " << e;
  // Steps 3, 6, 9, 12, 15 log a window; 4 and 12 evaluate (8 and 16 end epochs, which evaluate anyway).
  const auto& steps = b.state["step_history"];
  ASSERT_EQ(steps.size(), 6u) << steps.dump();
  EXPECT_EQ(steps[1]["step"], 4);
  EXPECT_TRUE(steps[1].contains("eval_acc") && !steps[1].contains("train_acc"));
  EXPECT_TRUE(steps[4].contains("eval_acc") && steps[4].contains("train_acc"));
  EXPECT_EQ(a.state["step_history"], steps);
  EXPECT_TRUE(fs::exists(run + "/metrics_steps.csv"));
  // Changing the trajectory on resume is refused.
  EXPECT_THROW(resume(run, {{"optim", {{"lr", 0.5}}}}), UserError);
  fs::remove_all(dir);
}

TEST(Trainer, RefusesToOverwriteARun) {
  const auto dir = fresh_dir("twice");
  Config c = small_run(dir, "r", 256, 64);
  merge_config(c, {{"run", {{"stop_after_steps", 1}}}}, "test");
  train(c);
  EXPECT_THROW(train(c), UserError);
  fs::remove_all(dir);
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  const auto dir = fresh_dir("nan");
  Config c = small_run(dir, "nan", 512, 64);
  // lr 1e8 with weight decay multiplies the weights by ~5e4 per step: they overflow within a few steps.
  merge_config(c, {{"optim", {{"lr", 1e8}, {"epochs", 4}}}, {"run", {{"checkpoint_every", 1}}}}, "test");
  try {
    train(c);
    FAIL() << "training must stop on a non-finite loss";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("diverged"), std::string::npos) << msg;
    EXPECT_NE(msg.find("last.safetensors"), std::string::npos) << msg;
  }
  const models::Checkpoint last = models::load_checkpoint((dir / "nan").string(), true);
  for (const auto& [name, t] : last.file.tensors) {
    if (t.dtype() != DType::f32) continue;
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(t.data<float>()[i])) << name;
  }
  fs::remove_all(dir);
}

TEST(Trainer, KillDuringCheckpointSaveLeavesALoadableCheckpoint) {
  const auto dir = fresh_dir("kill");
  const std::string path = (dir / "last.safetensors").string();
  auto model = models::create_model("resnet56", 10, 1);  // 3.4 MB: each save takes a few ms
  Rng rng(1);
  nn::init_torchvision(*model, rng);
  save_checkpoint(path, *model, nullptr, nullptr, testing::card_of({{"model", "resnet56"}}), nullptr,
                  {{"value", -1}});
  int kills = 0, saved = 0;
  for (int round = 0; round < 12; ++round) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Save forever; every checkpoint's weights all equal its state's "value". Tell the parent once the
      // first save is complete, so every kill lands during a later one.
      for (int value = 0;; ++value) {
        for (auto& [name, p] : model->named_parameters()) p->value().fill(value);
        save_checkpoint(path, *model, nullptr, nullptr, testing::card_of({{"model", "resnet56"}}), nullptr,
                        {{"value", value}});
        if (value == 0) {
          const char byte = 1;
          if (write(ready[1], &byte, 1) != 1) _exit(1);
        }
      }
    }
    close(ready[1]);
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child never finished a save";
    close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + 3 * round));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    kills += WIFSIGNALED(status);
    const models::Checkpoint c = models::load_checkpoint(path);  // must load: never torn
    const double value = c.state["value"].get<double>();
    ASSERT_GE(value, 0);
    ++saved;
    for (const auto& [name, t] : c.file.tensors)
      if (name.find("running") == std::string::npos && name.find("num_batches") == std::string::npos) {
        for (int64_t i = 0; i < t.numel(); ++i) ASSERT_EQ(t.data<float>()[i], value) << name << " is torn";
      }
  }
  EXPECT_EQ(kills, 12);
  EXPECT_EQ(saved, 12);
  fs::remove_all(dir);
}

void write_cifar10(const fs::path& dir, int64_t records) {
  fs::create_directories(dir);
  Rng rng(3);
  auto write = [&](const std::string& name) {
    std::ofstream f(dir / name, std::ios::binary);
    for (int64_t r = 0; r < records; ++r) {
      const auto label = static_cast<uint8_t>(r % 10);
      f.put(static_cast<char>(label));
      for (int i = 0; i < 3072; ++i) f.put(static_cast<char>(label * 20 + rng.below(40)));
    }
  };
  for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin");
  write("test_batch.bin");
}

TEST(Trainer, PaperCifarRecipeRunsOnSyntheticCifarFiles) {
  const auto dir = fresh_dir("cifar");
  write_cifar10(dir / "cifar", 64);
  for (int depth : {20, 110}) {
    Config c = default_config();
    const auto file = (fs::path(RESNET_FIXTURES_DIR) / ".." / ".." / "configs" /
                       ("cifar10_resnet" + std::to_string(depth) + "_paper.toml"))
                          .string();
    merge_config(c, read_toml_config(file), file);
    // The recipe itself, as the paper gives it.
    EXPECT_EQ(settings_of(c).optim.steps, 64000);
    EXPECT_EQ(settings_of(c).schedule.milestone_steps, std::vector<int64_t>({32000, 48000}));
    EXPECT_DOUBLE_EQ(settings_of(c).optim.weight_decay, 1e-4);
    EXPECT_EQ(settings_of(c).optim.batch_size, 128);
    if (depth == 110) {
      EXPECT_EQ(settings_of(c).schedule.warmup, "constant");
    }
    // A few steps of it on synthetic data in the CIFAR-10 binary format.
    set_config_value(c, "data.dataset=cifar10:" + (dir / "cifar").string());
    set_config_value(c, "run.dir=" + dir.string());
    set_config_value(c, "run.stop_after_steps=2");
    set_config_value(c, "run.plots=false");
    const RunResult r = train(c);
    EXPECT_EQ(r.exit_code, 0);
    const models::Checkpoint last = models::load_checkpoint((dir / settings_of(c).run.name).string(), true);
    EXPECT_EQ(last.state["step"], 2);
    EXPECT_EQ(testing::json_of(last.card)["input_size"], nlohmann::json({3, 32, 32}));
    EXPECT_EQ(testing::json_of(last.card)["class_names"][0], "airplane");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::train

namespace resnet::train {
namespace {

// Fine-tuning (model.init_from): the run starts from the source's weights under the source's architecture,
// a classifier for another class count starts fresh, and the spec in the info lets the run be resumed and
// loaded without the source. lr 1e-9 keeps one step from moving the weights measurably.
TEST(Trainer, InitFromStartsFromTheSourceWeightsWithANewHead) {
  const auto dir = fresh_dir("init_from");
  auto source = models::create_model("resnet20", 5, 1);  // 5 classes: Fashion-MNIST has 10
  Rng rng(7);
  nn::init_torchvision(*source, rng);
  const std::string source_path = (dir / "source.safetensors").string();
  save_checkpoint(
      source_path, *source, nullptr, nullptr,
      testing::card_of(
          {{"model", "resnet20"}, {"num_classes", 5}, {"in_channels", 1}, {"input_size", {1, 28, 28}}}),
      nullptr, nullptr);

  Config c = small_run(dir, "tuned", 256, 64);
  merge_config(c,
               {{"model", {{"init_from", source_path}, {"name", "resnet56"}}},  // the name is ignored
                {"optim", {{"steps", 1}, {"lr", 1e-9}}},
                {"schedule", {{"warmup_epochs", 0.0}}}},
               "test");
  ASSERT_TRUE(train(c).finished);
  const models::Checkpoint tuned = models::load_checkpoint((dir / "tuned").string(), true);
  ASSERT_TRUE(tuned.card.spec.has_value());
  EXPECT_EQ(testing::json_of(tuned.card)["spec"]["blocks_per_stage"],
            nlohmann::json({3, 3, 3}));  // ResNet-20, not 56
  EXPECT_EQ(testing::json_of(tuned.card)["spec"]["num_classes"], 10);
  for (const char* name : {"conv1.weight", "layer2.1.conv2.weight", "layer3.0.bn1.weight"}) {
    Tensor expected;
    for (auto& [n, p] : source->named_parameters())
      if (n == name) expected = p->value();
    const Tensor& got = tuned.file.at(name);
    ASSERT_EQ(got.numel(), expected.numel()) << name;
    double worst = 0;
    for (int64_t i = 0; i < got.numel(); ++i)
      worst = std::max(worst, std::abs(got.get_flat(i) - expected.get_flat(i)));
    EXPECT_LT(worst, 1e-6) << name;
  }
  EXPECT_EQ(tuned.file.at("fc.weight").shape(), Shape({10, 64}));
  // The run directory loads alone (no source needed) as the fine-tuned architecture.
  fs::remove(source_path);
  auto model = models::model_from_checkpoint(tuned);
  EXPECT_EQ(model->spec().num_classes, 10);

  // Fine-tuning keeps the source's normalisation (a converted torchvision net's ImageNet mean/std, here
  // made-up values) unless data.mean/data.std are set; before, the new data set's were measured.
  save_checkpoint(source_path, *source, nullptr, nullptr,
                  testing::card_of({{"model", "resnet20"},
                                    {"num_classes", 5},
                                    {"in_channels", 1},
                                    {"input_size", {1, 28, 28}},
                                    {"mean", {0.25}},
                                    {"std", {0.5}}}),
                  nullptr, nullptr);
  Config keep = small_run(dir, "keeps", 256, 64);
  merge_config(keep, {{"model", {{"init_from", source_path}}}, {"optim", {{"steps", 1}}}}, "test");
  ASSERT_TRUE(train(keep).finished);
  const models::ModelCard kept = models::load_checkpoint((dir / "keeps").string()).card;
  EXPECT_EQ(kept.preprocessing.mean, std::vector<double>({0.25}));
  EXPECT_EQ(kept.preprocessing.std, std::vector<double>({0.5}));
  Config told = small_run(dir, "told", 256, 64);
  merge_config(told,
               {{"model", {{"init_from", source_path}}},
                {"optim", {{"steps", 1}}},
                {"data", {{"mean", {0.3}}, {"std", {0.4}}}}},
               "test");
  ASSERT_TRUE(train(told).finished);
  EXPECT_EQ(models::load_checkpoint((dir / "told").string()).card.preprocessing.mean,
            std::vector<double>({0.3}));

  // A source for other images is refused, naming the fix.
  auto rgb = models::create_model("resnet20", 10, 3);
  nn::init_torchvision(*rgb, rng);
  save_checkpoint(
      source_path, *rgb, nullptr, nullptr,
      testing::card_of(
          {{"model", "resnet20"}, {"num_classes", 10}, {"in_channels", 3}, {"input_size", {3, 32, 32}}}),
      nullptr, nullptr);
  Config bad = small_run(dir, "bad", 256, 64);
  merge_config(bad, {{"model", {{"init_from", source_path}}}}, "test");
  try {
    train(bad);
    ADD_FAILURE() << "a 3-channel source trained on 1-channel images";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("3-channel"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::train
