#include "resnet/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "resnet/core/check.h"

namespace resnet::train {

ClassificationMetrics::ClassificationMetrics(int64_t num_classes) : k_(num_classes) {
  RESNET_CHECK(num_classes > 0);
  reset();
}

void ClassificationMetrics::reset() {
  count_ = correct1_ = correct5_ = 0;
  loss_sum_ = 0;
  confusion_.assign(static_cast<size_t>(k_), std::vector<int64_t>(static_cast<size_t>(k_), 0));
}

void ClassificationMetrics::add(const Tensor& logits, const Tensor& labels, double mean_loss) {
  const int64_t n = logits.size(0);
  RESNET_CHECK(logits.ndim() == 2 && logits.size(1) == k_ && logits.is_contiguous()) << logits.shape();
  RESNET_CHECK(labels.size(0) == n);
  const int64_t top = std::min<int64_t>(5, k_);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data<float>() + i * k_;
    const int64_t truth = labels.data<int64_t>()[i];
    RESNET_CHECK(truth >= 0 && truth < k_) << truth;
    const int64_t predicted = std::max_element(row, row + k_) - row;
    // Rank of the true class: classes scoring strictly higher (ties count in its favour, as top-k does
    // with stable ordering on the first index).
    int64_t higher = 0;
    for (int64_t c = 0; c < k_; ++c) higher += row[c] > row[truth] || (row[c] == row[truth] && c < truth);
    correct1_ += predicted == truth;
    correct5_ += higher < top;
    ++confusion_[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
  }
  loss_sum_ += mean_loss * static_cast<double>(n);
  count_ += n;
}

double ClassificationMetrics::top1() const {
  return count_ ? 100.0 * static_cast<double>(correct1_) / static_cast<double>(count_) : 0.0;
}
double ClassificationMetrics::top5() const {
  return count_ ? 100.0 * static_cast<double>(correct5_) / static_cast<double>(count_) : 0.0;
}

std::vector<double> ClassificationMetrics::per_class_accuracy() const {
  std::vector<double> out;
  for (int64_t c = 0; c < k_; ++c) {
    int64_t total = 0;
    for (int64_t v : confusion_[static_cast<size_t>(c)]) total += v;
    out.push_back(total ? 100.0 * static_cast<double>(confusion_[c][c]) / static_cast<double>(total)
                        : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

std::vector<ClassScores> ClassificationMetrics::per_class_scores() const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<ClassScores> out(static_cast<size_t>(k_));
  for (size_t c = 0; c < out.size(); ++c) {
    int64_t predicted = 0;
    for (const auto& row : confusion_) predicted += row[c];
    for (int64_t v : confusion_[c]) out[c].support += v;
    const auto correct = static_cast<double>(confusion_[c][c]);
    ClassScores& s = out[c];
    s.precision = predicted ? correct / static_cast<double>(predicted) : (s.support ? 0.0 : nan);
    s.recall = s.support ? correct / static_cast<double>(s.support) : nan;
    s.f1 = !s.support                   ? nan
           : s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall)
                                        : 0.0;
  }
  return out;
}

ClassScores ClassificationMetrics::macro_average() const {
  ClassScores mean;
  int64_t classes = 0;
  for (const ClassScores& s : per_class_scores()) {
    if (!s.support) continue;
    mean.precision += s.precision, mean.recall += s.recall, mean.f1 += s.f1;
    mean.support += s.support;
    ++classes;
  }
  if (!classes)
    return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
            std::numeric_limits<double>::quiet_NaN(), 0};
  const auto n = static_cast<double>(classes);
  mean.precision /= n, mean.recall /= n, mean.f1 /= n;
  return mean;
}

nlohmann::json ClassificationMetrics::to_json() const {
  return {{"count", count_},
          {"correct1", correct1_},
          {"correct5", correct5_},
          {"loss_sum", loss_sum_},
          {"confusion", confusion_}};
}

void ClassificationMetrics::from_json(const nlohmann::json& j) {
  count_ = j.at("count");
  correct1_ = j.at("correct1");
  correct5_ = j.at("correct5");
  loss_sum_ = j.at("loss_sum");
  confusion_ = j.at("confusion").get<std::vector<std::vector<int64_t>>>();
  RESNET_CHECK(static_cast<int64_t>(confusion_.size()) == k_);
}

std::string format_class_report(const ClassificationMetrics& m, const std::vector<std::string>& names) {
  std::string out;
  char line[256];
  size_t width = 9;  // "macro avg"
  for (const auto& n : names) width = std::max(width, std::min<size_t>(n.size(), 24));
  const auto scores = m.per_class_scores();
  // NaN (a class with no sample) prints as "-": there is nothing to score.
  auto cell = [](double v) {
    char b[16];
    if (std::isnan(v))
      std::snprintf(b, sizeof b, "%9s", "-");
    else
      std::snprintf(b, sizeof b, "%9.4f", v);
    return std::string(b);
  };
  auto row = [&](const std::string& name, const ClassScores& s) {
    std::snprintf(line, sizeof line, "%-*.*s %s %s %s  %7lld\n", static_cast<int>(width), 24, name.c_str(),
                  cell(s.precision).c_str(), cell(s.recall).c_str(), cell(s.f1).c_str(),
                  static_cast<long long>(s.support));
    out += line;
  };
  std::snprintf(line, sizeof line, "%-*s %9s %9s %9s  %7s\n", static_cast<int>(width), "class", "precision",
                "recall", "F1", "samples");
  out += line;
  for (size_t c = 0; c < names.size(); ++c) row(names[c], scores[c]);
  row("macro avg", m.macro_average());
  if (names.size() > 30) return out;  // a matrix that wide does not fit a terminal; see the PNG
  out += "\nconfusion matrix (rows: true class, columns: predicted)\n";
  // Row labels are "<index> <name>", so the label column is wider than the name column above.
  const size_t label_width = width + std::to_string(names.size() - 1).size() + 1;
  std::snprintf(line, sizeof line, "%-*s", static_cast<int>(label_width), "");
  out += line;
  for (size_t c = 0; c < names.size(); ++c) {
    std::snprintf(line, sizeof line, " %5zu", c);
    out += line;
  }
  out += "\n";
  for (size_t r = 0; r < names.size(); ++r) {
    const std::string label = std::to_string(r) + " " + names[r].substr(0, 24);
    std::snprintf(line, sizeof line, "%-*s", static_cast<int>(label_width), label.c_str());
    out += line;
    for (int64_t v : m.confusion()[r]) {
      std::snprintf(line, sizeof line, " %5lld", static_cast<long long>(v));
      out += line;
    }
    out += "\n";
  }
  return out;
}

}  // namespace resnet::train
