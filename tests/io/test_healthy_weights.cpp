// Healthy numbers (issue 29): weights and BN statistics holding NaN/Inf, or a negative running_var, are
// refused when loaded, by tensor, index and file, before anything is changed; --allow-nonfinite
// (LoadOptions::allow_nonfinite, or the process-wide default) loads them for forensics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "resnet/core/check.h"
#include "resnet/core/finite.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/nn/state_dict.h"

namespace resnet::io {
namespace {

// A resnet20's own weights as a file, with one value replaced.
TensorFile weights_with(const std::string& name, int64_t flat, double value, DType dtype = DType::f32) {
  auto source = models::create_model("resnet20");
  Rng rng(1);
  nn::init_torchvision(*source, rng);
  TensorFile file;
  file.path = "damaged.safetensors";
  for (auto& [n, t] : state_dict(*source)) {
    Tensor copy = t.clone().to(t.dtype() == DType::f32 ? dtype : t.dtype());
    if (n == name) copy.set_flat(flat, value);
    file.tensors.emplace_back(n, copy);
  }
  return file;
}

std::string load_error(const TensorFile& file) {
  auto model = models::create_model("resnet20");
  const Tensor before = model->find_module("conv1")->named_parameters().front().second->value().clone();
  try {
    load_state_dict(*model, file);
  } catch (const UserError& e) {
    // Nothing was loaded.
    const Tensor after = model->find_module("conv1")->named_parameters().front().second->value();
    for (int64_t i = 0; i < after.numel(); ++i) EXPECT_EQ(after.get_flat(i), before.get_flat(i));
    return e.what();
  }
  return "";
}

TEST(HealthyWeights, NaNInAWeightIsRefusedByNameIndexAndFile) {
  const std::string what = load_error(weights_with("layer2.1.conv1.weight", 100, std::nan("")));
  EXPECT_NE(what.find("tensor 'layer2.1.conv1.weight' of 'damaged.safetensors' holds NaN at index "
                      "[0, 11, 0, 1] (flat 100)"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("--allow-nonfinite"), std::string::npos) << what;
}

TEST(HealthyWeights, InfinityInEveryFloatTypeIsRefused) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NE(load_error(weights_with("fc.bias", 3, -inf))
                .find("'fc.bias' of 'damaged.safetensors' holds -inf "
                      "at index [3]"),
            std::string::npos);
  EXPECT_NE(load_error(weights_with("fc.weight", 0, inf, DType::bf16)).find("holds inf"), std::string::npos);
  EXPECT_NE(load_error(weights_with("fc.weight", 0, inf, DType::f64)).find("holds inf"), std::string::npos);
  // A finite f64 beyond f32's range would load as inf: refused too.
  EXPECT_NE(load_error(weights_with("fc.weight", 0, 1e300, DType::f64)).find("holds inf"), std::string::npos);
}

TEST(HealthyWeights, BatchNormStatisticsMustBeFiniteAndVariancesNonNegative) {
  EXPECT_NE(load_error(weights_with("bn1.running_mean", 2, std::nan(""))).find("'bn1.running_mean'"),
            std::string::npos);
  const std::string what = load_error(weights_with("layer1.0.bn2.running_var", 5, -0.25));
  EXPECT_NE(what.find("tensor 'layer1.0.bn2.running_var' of 'damaged.safetensors' holds the negative "
                      "variance -0.25 at index [5]"),
            std::string::npos)
      << what;
  // A negative weight or mean is ordinary.
  EXPECT_EQ(load_error(weights_with("layer1.0.bn2.running_mean", 5, -0.25)), "");
}

TEST(HealthyWeights, AllowNonfiniteLoadsThemForForensics) {
  const TensorFile file = weights_with("fc.bias", 1, std::nan(""));
  auto model = models::create_model("resnet20");
  EXPECT_NO_THROW(load_state_dict(*model, file, {.allow_nonfinite = true}));
  EXPECT_TRUE(std::isnan(model->find_module("fc")->named_parameters().back().second->value().get_flat(1)));
  // The process-wide default (what the commands' --allow-nonfinite sets).
  set_allow_nonfinite_weights(true);
  auto other = models::create_model("resnet20");
  EXPECT_NO_THROW(load_state_dict(*other, file));
  set_allow_nonfinite_weights(false);
  EXPECT_THROW(load_state_dict(*other, file), UserError);
}

TEST(HealthyWeights, FindsTheFirstBadValueInAnyLayout) {
  Tensor t = Tensor::zeros({2, 3, 4, 5}, DType::f32, Layout::channels_last);
  EXPECT_FALSE(first_nonfinite(t).has_value());
  t.at<float>({1, 2, 3, 4}) = std::numeric_limits<float>::quiet_NaN();
  t.at<float>({1, 2, 3, 1}) = -std::numeric_limits<float>::infinity();
  const auto i = first_nonfinite(t);
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(describe_index(t.shape(), *i), "[1, 2, 3, 1] (flat 116)");
  EXPECT_FALSE(first_nonfinite(Tensor::full({4}, 7, DType::i64)).has_value());
}

}  // namespace
}  // namespace resnet::io
