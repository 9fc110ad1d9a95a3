// Classification metrics accumulated over batches: mean loss, top-1 and top-5 accuracy, per-class
// accuracy, precision, recall and F1, and the confusion matrix (rows = true class, columns = predicted).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "resnet/core/tensor.h"

namespace resnet::train {

// One class's scores as fractions in [0, 1]. Recall is that class's accuracy; a class never predicted has
// precision 0 (no correct predictions of it), as scikit-learn's default; a class with no sample has NaN
// recall and F1 (nothing to find) and precision 0 or NaN when it was never predicted either.
struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // samples of this class
};

class ClassificationMetrics {
 public:
  explicit ClassificationMetrics(int64_t num_classes);
  // logits [n, K] f32, labels [n] i64; `mean_loss` of these n samples.
  void add(const Tensor& logits, const Tensor& labels, double mean_loss);
  void reset();

  int64_t count() const { return count_; }
  double loss() const { return count_ ? loss_sum_ / static_cast<double>(count_) : 0.0; }
  double top1() const;                             // percent
  double top5() const;                             // percent (top-K accuracy when K < 5)
  std::vector<double> per_class_accuracy() const;  // percent; NaN for classes with no sample
  std::vector<ClassScores> per_class_scores() const;
  // The unweighted mean of per_class_scores over the classes that have samples (support: their total).
  ClassScores macro_average() const;
  // Top-5 says something only with more than five classes (with five or fewer it is 100 %).
  bool top5_meaningful() const { return k_ > 5; }
  const std::vector<std::vector<int64_t>>& confusion() const { return confusion_; }

  // For checkpoints (a run stopped mid-epoch resumes its running averages exactly).
  nlohmann::json to_json() const;
  void from_json(const nlohmann::json& j);

 private:
  int64_t k_;
  int64_t count_ = 0, correct1_ = 0, correct5_ = 0;
  double loss_sum_ = 0;
  std::vector<std::vector<int64_t>> confusion_;
};

// "class  precision  recall  F1  samples" table with a macro-average row and the confusion matrix below
// it, for the terminal.
std::string format_class_report(const ClassificationMetrics& m, const std::vector<std::string>& class_names);

}  // namespace resnet::train
