// LR schedules (values at hand-computed steps), the config schema (unknown keys, types, TOML, --set) and
// every shipped config.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "resnet/core/check.h"
#include "resnet/optim/schedule.h"
#include "resnet/train/config.h"
#include "resnet/train/metrics.h"

namespace resnet::train {
namespace {
using optim::LrSchedule;

TEST(Schedule, MultistepDividesAtMilestones) {
  LrSchedule s({.kind = "multistep", .lr = 0.1, .milestones = {32000, 48000}, .gamma = 0.1});
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(31999), 0.1);
  EXPECT_NEAR(s.at(32000), 0.01, 1e-15);
  EXPECT_NEAR(s.at(47999), 0.01, 1e-15);
  EXPECT_NEAR(s.at(48000), 0.001, 1e-15);
  EXPECT_NEAR(s.at(63999), 0.001, 1e-15);
}

TEST(Schedule, ConstantWarmupIsThePapersResNet110Trick) {
  LrSchedule s({.kind = "multistep",
                .lr = 0.1,
                .milestones = {32000},
                .warmup_steps = 400,
                .warmup = "constant",
                .warmup_lr = 0.01});
  EXPECT_DOUBLE_EQ(s.at(0), 0.01);
  EXPECT_DOUBLE_EQ(s.at(399), 0.01);
  EXPECT_DOUBLE_EQ(s.at(400), 0.1);
}

TEST(Schedule, LinearWarmupThenCosineToZero) {
  LrSchedule s({.kind = "cosine", .lr = 0.2, .total_steps = 110, .warmup_steps = 10});
  EXPECT_DOUBLE_EQ(s.at(0), 0.2 * 1 / 10);
  EXPECT_DOUBLE_EQ(s.at(4), 0.2 * 5 / 10);
  EXPECT_DOUBLE_EQ(s.at(9), 0.2);
  EXPECT_DOUBLE_EQ(s.at(10), 0.2);    // cosine starts at the peak
  EXPECT_NEAR(s.at(60), 0.1, 1e-15);  // halfway
  EXPECT_NEAR(s.at(35), 0.1 * (1 + std::cos(std::numbers::pi / 4)), 1e-15);
  EXPECT_NEAR(s.at(110), 0.0, 1e-15);
}

TEST(Schedule, CosineFloorAndWarmupStartFactor) {
  LrSchedule s({.kind = "cosine",
                .lr = 1.0,
                .total_steps = 20,
                .min_lr = 0.1,
                .warmup_steps = 4,
                .warmup_start_factor = 0.5});
  EXPECT_DOUBLE_EQ(s.at(0), 0.5 + 0.5 * 1 / 4);
  EXPECT_NEAR(s.at(20), 0.1, 1e-15);
}

TEST(Schedule, OneCycleRisesToPeakThenAnneals) {
  LrSchedule s({.kind = "onecycle",
                .lr = 0.4,
                .total_steps = 101,
                .pct_start = 0.25,
                .div_factor = 25,
                .final_div_factor = 1e4});
  EXPECT_DOUBLE_EQ(s.at(0), 0.4 / 25);
  // The peak is at step pct_start · total - 1 = 24.25: the nearest whole steps are 24 and 25.
  double peak = 0;
  int64_t peak_step = 0;
  for (int64_t t = 0; t < 101; ++t)
    if (s.at(t) > peak) peak = s.at(t), peak_step = t;
  EXPECT_TRUE(peak_step == 24 || peak_step == 25) << peak_step;
  EXPECT_GT(peak, 0.399);
  EXPECT_NEAR(s.at(100), 0.4 / 25 / 1e4, 1e-12);
}

TEST(Schedule, RejectsBadOptions) {
  EXPECT_THROW(LrSchedule({.kind = "cosin", .total_steps = 10}), UserError);
  EXPECT_THROW(LrSchedule({.kind = "cosine", .total_steps = 10, .warmup_steps = 10}), UserError);
  EXPECT_THROW(LrSchedule({.kind = "multistep", .milestones = {5, 3}}), UserError);
  EXPECT_THROW(LrSchedule({.kind = "constant", .lr = 0}), UserError);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// The typed settings: every value as its type, validation first, and no setting of the schema left unread.
TEST(Config, SettingsAreTheConfigAsTypes) {
  Config c = default_config();
  set_config_value(c, "data.std=[0.25, 0.5]");
  set_config_value(c, "data.mean=[0.5, 0.5]");
  set_config_value(c, "schedule.milestone_steps=[100, 200]");
  set_config_value(c, "run.seed=18446744073709551615");  // the largest uint64 seed
  set_config_value(c, "model.name=resnet56");
  const Settings s = settings_of(c);
  EXPECT_EQ(s.model.name, "resnet56");
  EXPECT_EQ(s.data.std_dev, std::vector<double>({0.25, 0.5}));
  EXPECT_EQ(s.data.mean, std::vector<double>({0.5, 0.5}));
  EXPECT_EQ(s.schedule.milestone_steps, std::vector<int64_t>({100, 200}));
  EXPECT_EQ(s.run.seed, 18446744073709551615ULL);
  EXPECT_EQ(s.optim.batch_size, 128);
  EXPECT_DOUBLE_EQ(s.optim.lr, 0.1);
  EXPECT_EQ(s.data.dataset, "fashion-mnist");
  EXPECT_TRUE(s.run.plots);

  set_config_value(c, "optim.momentum=5");
  EXPECT_THROW(settings_of(c), UserError) << "settings_of validates first";

  Config extra = default_config();
  extra["optim"]["unread"] = 1;  // a schema key without its field (what merge_config would refuse)
  EXPECT_THROW(settings_of(extra), CheckError);
}

TEST(Config, UnknownKeySuggestsTheClosest) {
  Config c = default_config();
  const auto msg = error_of([&] { set_config_value(c, "optim.momentun=0.8"); });
  EXPECT_NE(msg.find("unknown setting 'optim.momentun'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("optim.momentum"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean"), std::string::npos) << msg;
  const auto section = error_of([&] { set_config_value(c, "optimizer.lr=0.1"); });
  EXPECT_NE(section.find("optim"), std::string::npos) << section;
}

TEST(Config, TypesAreChecked) {
  Config c = default_config();
  EXPECT_THROW(set_config_value(c, "optim.epochs=2.5"), UserError);
  EXPECT_THROW(set_config_value(c, "optim.nesterov=yes"), UserError);
  EXPECT_THROW(set_config_value(c, "data.train_transforms=hflip"), UserError);
  set_config_value(c, "optim.lr=1");                      // an integer may stand for a float
  EXPECT_TRUE(c.at("optim").at("lr").is_number_float());  // the stored tree: an integer becomes a float
  EXPECT_DOUBLE_EQ(settings_of(c).optim.lr, 1.0);
  set_config_value(c, "model.name=resnet56");  // bare strings need no quotes
  EXPECT_EQ(settings_of(c).model.name, "resnet56");
  set_config_value(c, R"(data.train_transforms=["hflip", "normalize"])");
  EXPECT_EQ(settings_of(c).data.train_transforms.size(), 2u);
  EXPECT_THROW(set_config_value(c, "optim.lr"), UserError);
}

TEST(Config, TomlFileMergesAndReportsSyntaxErrorsByLine) {
  const auto dir = std::filesystem::temp_directory_path() / "resnet_config_test";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "good.toml").string(), bad = (dir / "bad.toml").string();
  std::ofstream(good) << "[optim]\nepochs = 3\nlr = 0.05\n[schedule]\nmilestones = [1, 2]\n";
  std::ofstream(bad) << "[optim]\nepochs = 3\nlr = = 0.05\n";
  Config c = default_config();
  merge_config(c, read_toml_config(good), good);
  EXPECT_EQ(settings_of(c).optim.epochs, 3);
  EXPECT_DOUBLE_EQ(settings_of(c).optim.lr, 0.05);
  EXPECT_EQ(settings_of(c).schedule.milestones.size(), 2u);
  const auto msg = error_of([&] { read_toml_config(bad); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { read_toml_config((dir / "absent.toml").string()); }).find("does not exist"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Config, EveryShippedConfigIsValid) {
  const auto configs = std::filesystem::path(RESNET_FIXTURES_DIR) / "../../configs";
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(configs)) {
    if (e.path().extension() != ".toml") continue;
    Config c = default_config();
    EXPECT_NO_THROW(merge_config(c, read_toml_config(e.path().string()), e.path().string())) << e.path();
    ++count;
  }
  EXPECT_GE(count, 5);
}

TEST(Metrics, TopKPerClassAndConfusionByHand) {
  ClassificationMetrics m(6);
  // Three samples; true classes 0, 1, 2.
  Tensor logits = Tensor::empty({3, 6});
  const float values[18] = {5, 4, 3, 2, 1, 0,   // true 0: rank 1
                            6, 5, 4, 3, 2, 1,   // true 1: rank 2 (top-5 yes, top-1 no)
                            0, 1, 2, 3, 4, 5};  // true 2: rank 4 → in top-5
  std::copy(values, values + 18, logits.data<float>());
  Tensor labels = Tensor::empty({3}, DType::i64);
  labels.data<int64_t>()[0] = 0, labels.data<int64_t>()[1] = 1, labels.data<int64_t>()[2] = 2;
  m.add(logits, labels, 0.5);
  EXPECT_NEAR(m.top1(), 100.0 / 3, 1e-12);
  EXPECT_NEAR(m.top5(), 100.0, 1e-12);
  EXPECT_DOUBLE_EQ(m.loss(), 0.5);
  EXPECT_EQ(m.confusion()[1][0], 1);
  EXPECT_EQ(m.confusion()[2][5], 1);
  const auto per_class = m.per_class_accuracy();
  EXPECT_DOUBLE_EQ(per_class[0], 100.0);
  EXPECT_DOUBLE_EQ(per_class[1], 0.0);
  EXPECT_TRUE(std::isnan(per_class[3]));
  // Rank 6 of 6 is outside the top 5.
  const float last[6] = {0, 1, 2, 3, 4, 5};
  Tensor one = Tensor::empty({1, 6});
  std::copy(last, last + 6, one.data<float>());
  Tensor label0 = Tensor::zeros({1}, DType::i64);
  ClassificationMetrics n(6);
  n.add(one, label0, 1.0);
  EXPECT_DOUBLE_EQ(n.top5(), 0.0);
  ClassificationMetrics restored(6);
  restored.from_json(m.to_json());
  EXPECT_EQ(restored.confusion(), m.confusion());
  EXPECT_DOUBLE_EQ(restored.top1(), m.top1());
}

TEST(Metrics, PrecisionRecallAndF1ByHand) {
  // (true, predicted): class 0 → 0, 0, 1; class 1 → 1, 0, 2; class 2 has no sample but is predicted
  // (for class 4); class 3 neither has samples nor is predicted; class 4's one sample is missed.
  const std::vector<std::pair<int64_t, int64_t>> pairs = {{0, 0}, {0, 0}, {0, 1}, {1, 1},
                                                          {1, 0}, {1, 2}, {4, 2}};
  Tensor logits = Tensor::zeros({7, 5});
  Tensor labels = Tensor::empty({7}, DType::i64);
  for (size_t i = 0; i < pairs.size(); ++i) {
    labels.data<int64_t>()[i] = pairs[i].first;
    logits.data<float>()[i * 5 + static_cast<size_t>(pairs[i].second)] = 1;
  }
  ClassificationMetrics m(5);
  m.add(logits, labels, 1.0);
  const auto s = m.per_class_scores();
  EXPECT_DOUBLE_EQ(s[0].precision, 2.0 / 3);  // column 0 holds 3 predictions, 2 right
  EXPECT_DOUBLE_EQ(s[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s[0].f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(s[1].recall, 1.0 / 3);
  EXPECT_DOUBLE_EQ(s[1].f1, 0.4);  // 2·(1/2)(1/3) / (1/2 + 1/3)
  EXPECT_EQ(s[1].support, 3);
  EXPECT_DOUBLE_EQ(s[2].precision, 0.0);  // predicted twice, never right
  EXPECT_TRUE(std::isnan(s[2].recall) && std::isnan(s[2].f1));
  EXPECT_TRUE(std::isnan(s[3].precision) && std::isnan(s[3].recall));
  EXPECT_DOUBLE_EQ(s[4].precision, 0.0);  // has a sample, never predicted
  EXPECT_DOUBLE_EQ(s[4].f1, 0.0);
  // The macro average is over the classes with samples: 0, 1 and 4.
  const ClassScores macro = m.macro_average();
  EXPECT_DOUBLE_EQ(macro.precision, (2.0 / 3 + 0.5 + 0) / 3);
  EXPECT_DOUBLE_EQ(macro.recall, (2.0 / 3 + 1.0 / 3 + 0) / 3);
  EXPECT_DOUBLE_EQ(macro.f1, (2.0 / 3 + 0.4 + 0) / 3);
  EXPECT_EQ(macro.support, 7);
  EXPECT_FALSE(m.top5_meaningful()) << "five classes";
  const std::string report = format_class_report(m, {"a", "b", "c", "d", "e"});
  EXPECT_NE(report.find("precision"), std::string::npos) << report;
  EXPECT_NE(report.find("macro avg"), std::string::npos) << report;
}

TEST(Metrics, ConfusionMatrixColumnsLineUpWhateverTheNameLengths) {
  // Names of unequal length (the longest one sets the label column) and two-digit class indices.
  std::vector<std::string> names;
  for (int c = 0; c < 12; ++c)
    names.push_back(c == 3 ? std::string("a-much-longer-name")
                           : std::string(1, 'c').append(std::to_string(c)));
  ClassificationMetrics m(12);
  Tensor logits = Tensor::zeros({1, 12});
  Tensor labels = Tensor::zeros({1}, DType::i64);
  m.add(logits, labels, 1.0);
  const std::string report = format_class_report(m, names);
  const auto matrix = report.substr(report.find("confusion matrix"));
  std::vector<size_t> lengths;
  size_t start = matrix.find('\n') + 1;
  for (size_t end; (end = matrix.find('\n', start)) != std::string::npos; start = end + 1)
    lengths.push_back(end - start);
  ASSERT_EQ(lengths.size(), 13u);  // header + one row per class
  for (size_t length : lengths) EXPECT_EQ(length, lengths[0]) << report;
}

}  // namespace
}  // namespace resnet::train
