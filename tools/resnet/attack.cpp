// `resnet attack`: robust accuracy of a checkpoint under adversarial attacks (robust/), on a data set or on
// a tensor file, with the gradient-masking checks run beside every evaluation. Flags are wired to library
// calls; the attacks live in src/robust/.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "attack.h"
#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "resnet/core/parallel.h"
#include "resnet/data/image.h"
#include "resnet/explain/targets.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/infer/predict.h"
#include "resnet/io/atomic_file.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"
#include "resnet/robust/attacks.h"
#include "resnet/viz/grid.h"

namespace resnet::cli {

std::vector<float> floats(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

Batch load_batch(const data::Dataset& set, const infer::CardPreprocessing& pre, int64_t start, int64_t count,
                 const std::vector<float>& mean, const std::vector<float>& std) {
  const models::InputSize size = pre.input_size();
  const int64_t c = size.channels, plane = size.height * size.width;
  Batch b{Tensor::empty({count, c, size.height, size.width}), {}};
  data::Image image;
  for (int64_t i = 0; i < count; ++i) {
    set.load(start + i, image);
    float* v = b.x.data<float>() + i * c * plane;
    pre.apply(image, v, set.describe() + " image " + std::to_string(start + i));
    for (int64_t ch = 0; ch < c; ++ch) {
      const float m = mean.empty() ? 0.0f : mean[mean.size() == 1 ? 0 : ch];
      const float s = std.empty() ? 1.0f : std[std.size() == 1 ? 0 : ch];
      for (int64_t p = 0; p < plane; ++p)
        v[ch * plane + p] = std::clamp(v[ch * plane + p] * s + m, 0.0f, 1.0f);
    }
    b.labels.push_back(set.label(start + i));
  }
  return b;
}

data::Image to_image(const Tensor& x, int64_t i, int64_t scale) {
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
  data::Image img{c, h * scale, w * scale,
                  std::vector<uint8_t>(static_cast<size_t>(c * h * w * scale * scale))};
  const float* v = x.data<float>() + i * c * h * w;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h * scale; ++y)
      for (int64_t xx = 0; xx < w * scale; ++xx)
        img.pixels[static_cast<size_t>((ch * h * scale + y) * w * scale + xx)] = static_cast<uint8_t>(
            std::lround(255 * std::clamp(v[(ch * h + y / scale) * w + xx / scale], 0.0f, 1.0f)));
  return img;
}

namespace {

namespace fs = std::filesystem;
using robust::Attack;

std::string format_eps(double eps) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", eps);
  return text;
}

// One row of results: an attack at an ε, counted over the images attacked.
struct Tally {
  int64_t robust = 0, check_robust = 0;          // check_robust: among the first check_images
  std::map<std::string, int64_t> engine_robust;  // the same examples on the deployed engines
  double seconds = 0;
};

void run_attack(const AttackCliOptions& o) {
  if (o.corruptions_flag->count() > 0) return run_corruptions(o);
  o.output.begin();
  // Names and numbers first: a typo costs no file read.
  std::vector<Attack> attacks;
  for (const auto& a : o.attacks) attacks.push_back(robust::parse_attack(a));
  const robust::Norm norm = robust::parse_norm(o.norm);
  std::vector<infer::Precision> engines;
  for (const auto& e : o.engines) engines.push_back(infer::parse_precision(e));
  for (double e : o.eps)
    robust::check_options(
        {.norm = norm, .eps = e, .steps = o.steps, .alpha = o.alpha, .restarts = o.restarts}, 10);
  if (o.batch < 1) throw UserError("--batch " + std::to_string(o.batch) + " is not allowed: give at least 1");
  if (o.limit < 0) throw UserError("--limit must be ≥ 0 (0: the whole split)");
  const bool raw = !o.input.empty();
  if (o.checkpoint.empty() && (o.model.empty() || !raw))
    throw UserError(
        "give --checkpoint RUN (a data set is attacked), or --input X.safetensors with --checkpoint or "
        "--model/--weights");
  if (!o.model.empty() && (o.weights.empty() || !raw))
    throw UserError("--model needs --weights W and --input X.safetensors (tensor mode)");
  if (!o.model.empty()) check_model_flag(o.model);
  if (raw && (attacks.size() != 1 || o.eps.size() != 1))
    throw UserError("tensor mode (--input) runs one attack at one ε: give one --attack and one --eps");
  if (!o.mean.empty() && o.mean.size() != o.std.size())
    throw UserError("--mean and --std go together, with one value per channel (or one for all)");
  for (double s : o.std)
    if (!(s > 0)) throw UserError("--std values must be > 0");
  set_num_threads(o.threads);

  // The network and its normalisation.
  std::unique_ptr<models::ResNet> model;
  models::Checkpoint c;
  std::vector<float> mean = floats(o.mean), std = floats(o.std);
  if (!o.checkpoint.empty()) {
    c = models::load_checkpoint(o.checkpoint);
    model = models::model_from_checkpoint(c, o.ema);
    if (mean.empty()) {
      mean = floats(c.card.preprocessing.mean), std = floats(c.card.preprocessing.std);
      if (mean.empty() || std.empty())
        throw UserError("checkpoint '" + c.path() +
                        "' carries no normalisation (mean/std): give --mean and --std (--mean 0 --std 1 "
                        "for a model that takes [0, 1] pixels as they are)");
    }
  } else {
    if (mean.empty())
      throw UserError("--weights '" + o.weights +
                      "' carries no normalisation: give --mean and --std (--mean 0 --std 1 for none)");
    const io::TensorFile input = io::load_safetensors(o.input);
    model = model_from_weights(o.model, o.weights, o.classes, input.at("input").size(1));
  }
  model->eval();
  robust::PixelModel target(*model, mean, std);
  const int64_t classes = target.classes();
  for (Attack a : attacks) robust::check_options({.attack = a, .norm = norm, .targets = o.targets}, classes);

  robust::AttackOptions base{.norm = norm,
                             .steps = o.steps,
                             .alpha = o.alpha,
                             .random_start = o.random_start,
                             .restarts = o.restarts,
                             .targets = o.targets,
                             .seed = o.seed};

  if (raw) {  // tensor mode: as `forward` works
    const io::TensorFile f = io::load_safetensors(o.input);
    if (!f.find("input") || !f.find("label"))
      throw UserError("'" + o.input +
                      "' must hold 'input' (f32 [N, C, H, W] in [0, 1]) and 'label' (i64 [N])");
    const Tensor x = f.at("input").clone(Layout::contiguous);
    const Tensor& l = f.at("label");
    if (x.ndim() != 4 || x.dtype() != DType::f32 || x.size(1) != model->spec().in_channels)
      throw UserError("'" + o.input + "': 'input' must be f32 [N, " +
                      std::to_string(model->spec().in_channels) + ", H, W], got " + x.str());
    if (l.dtype() != DType::i64 || l.ndim() != 1 || l.size(0) != x.size(0))
      throw UserError("'" + o.input + "': 'label' must be i64 [" + std::to_string(x.size(0)) + "], got " +
                      l.str());
    for (int64_t e = 0; e < x.numel(); ++e) {
      const float v = x.data<float>()[e];
      if (!(v >= 0.0f && v <= 1.0f))
        throw UserError("'" + o.input + "': 'input' holds " + std::to_string(v) + " at element " +
                        std::to_string(e) +
                        ": attacks take [0, 1] pixels (the model's normalisation is applied "
                        "inside); undo any normalisation first");
    }
    std::vector<int64_t> labels(l.data<int64_t>(), l.data<int64_t>() + l.numel());
    for (int64_t y : labels)
      if (y < 0 || y >= classes)
        throw UserError("'" + o.input + "': label " + std::to_string(y) + " is outside 0-" +
                        std::to_string(classes - 1) + " (the model has " + std::to_string(classes) +
                        " classes)");
    robust::AttackOptions ao = base;
    ao.attack = attacks.front(), ao.eps = o.eps.front();
    const Tensor clean = target.logits(x);
    const robust::AttackResult r = robust::attack(target, x, labels, ao);
    int64_t robust_count = 0, clean_count = 0;
    const std::vector<int64_t> clean_pred = explain::predicted_classes(clean);
    for (size_t i = 0; i < labels.size(); ++i) {
      clean_count += clean_pred[i] == labels[i];
      robust_count += clean_pred[i] == labels[i] && r.predicted[i] == labels[i];
    }
    if (!o.output_file.empty())
      io::save_safetensors(o.output_file, {{"adversarial", r.adversarial}, {"logits", r.logits}},
                           {{"attack", std::string(robust::attack_name(ao.attack))},
                            {"norm", std::string(robust::norm_name(norm))},
                            {"eps", format_eps(ao.eps)}});
    const double n = static_cast<double>(labels.size());
    o.output.print("%s %s eps %s: clean %.2f %%, robust %.2f %% of %lld%s%s\n",
                   std::string(robust::attack_name(ao.attack)).c_str(),
                   std::string(robust::norm_name(norm)).c_str(), format_eps(ao.eps).c_str(),
                   100 * clean_count / n, 100 * robust_count / n, static_cast<long long>(labels.size()),
                   o.output_file.empty() ? "" : " -> ", o.output_file.c_str());
    o.output.result(
        {{"attack", robust::attack_name(ao.attack)},
         {"norm", robust::norm_name(norm)},
         {"eps", ao.eps},
         {"images", labels.size()},
         {"clean_accuracy", clean_count / n},
         {"robust_accuracy", robust_count / n},
         {"output", o.output_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.output_file)}});
    return;
  }

  // Data-set mode.
  if (o.out.empty())
    throw UserError("--out DIR is needed with a data set (the grid and summary.json go there)");
  models::require(c.card, c.path(), {models::CardField::input_size, models::CardField::eval_transforms},
                  "resnet attack");
  const infer::CardPreprocessing pre(c.card, c.path());
  const std::string spec = o.dataset.empty() ? c.card.provenance.dataset : o.dataset;
  if (spec.empty()) throw UserError("checkpoint '" + c.path() + "' names no data set: give --dataset D");
  const auto set = open_split(spec, o.split, pre.input_size().channels, o.limit);
  const int64_t n = set->size();
  if (n == 0) throw UserError("the " + o.split + " split of '" + spec + "' is empty");

  // The deployed engines, and an independently trained model for the transfer check.
  std::vector<std::unique_ptr<infer::EngineSet>> engine_sets;
  std::vector<infer::Calibration> calibrations(engines.size());
  for (size_t e = 0; e < engines.size(); ++e) {
    calibrations[e] = infer::calibration_for(engines[e], o.checkpoint, "");
    engine_sets.push_back(std::make_unique<infer::EngineSet>(*model, engines[e], &calibrations[e]));
  }
  std::unique_ptr<models::ResNet> source_model;
  std::unique_ptr<robust::PixelModel> source;
  if (!o.transfer_from.empty()) {
    const models::Checkpoint sc = models::load_checkpoint(o.transfer_from);
    source_model = models::model_from_checkpoint(sc);
    source_model->eval();
    if (source_model->spec().num_classes != classes)
      throw UserError("--transfer-from '" + sc.path() + "' has " +
                      std::to_string(source_model->spec().num_classes) + " classes, the attacked model " +
                      std::to_string(classes) + ": give a model of the same task");
    source = std::make_unique<robust::PixelModel>(*source_model, floats(sc.card.preprocessing.mean),
                                                  floats(sc.card.preprocessing.std));
  }

  const int64_t check_n = o.no_checks ? 0 : std::min(o.check_images, n);
  fs::create_directories(o.out);
  o.output.note("Attacking %lld images of %s: %zu attack%s × %zu ε (%s)\n", static_cast<long long>(n),
                set->describe().c_str(), attacks.size(), attacks.size() == 1 ? "" : "s", o.eps.size(),
                std::string(robust::norm_name(norm)).c_str());
  train::ProgressBar bar("attack", n * static_cast<int64_t>(attacks.size() * o.eps.size()));
  int64_t done = 0, clean_correct = 0, clean_check = 0;
  std::vector<std::vector<Tally>> tally(attacks.size(), std::vector<Tally>(o.eps.size()));
  std::vector<int64_t> worst(o.eps.size(), 0), worst_check(o.eps.size(), 0);
  std::vector<Tally> fgsm_check(o.eps.size()), fewer_check(o.eps.size()), transfer(o.eps.size());
  int64_t large_eps_robust = 0;
  constexpr int64_t kGridImages = 8;
  std::vector<data::Image> cells;
  std::vector<std::string> captions;
  const int64_t scale = std::max<int64_t>(1, 96 / std::max<int64_t>(pre.input_size().height, 1));
  auto class_name = [&](int64_t k) {
    return k >= 0 && k < static_cast<int64_t>(c.card.class_names.size()) ? c.card.class_names[k]
                                                                         : std::to_string(k);
  };
  auto count_correct = [](const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels,
                          const std::vector<bool>& clean_ok, int64_t upto) {
    int64_t k = 0;
    for (size_t i = 0; i < predicted.size() && static_cast<int64_t>(i) < upto; ++i)
      k += clean_ok[i] && predicted[i] == labels[i];
    return k;
  };
  for (int64_t start = 0; start < n; start += o.batch) {
    const int64_t count = std::min(o.batch, n - start);
    const Batch b = load_batch(*set, pre, start, count, mean, std);
    const std::vector<int64_t> clean_pred = explain::predicted_classes(target.logits(b.x));
    std::vector<bool> clean_ok(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) clean_ok[i] = clean_pred[i] == b.labels[i];
    clean_correct += count_correct(clean_pred, b.labels, clean_ok, count);
    const int64_t in_check = std::clamp<int64_t>(check_n - start, 0, count);
    clean_check += count_correct(clean_pred, b.labels, clean_ok, in_check);
    std::vector<Tensor> grid_examples(o.eps.size());
    for (size_t e = 0; e < o.eps.size(); ++e) {
      std::vector<bool> robust_all = clean_ok;
      Tensor first_fooling;
      for (size_t a = 0; a < attacks.size(); ++a) {
        robust::AttackOptions ao = base;
        ao.attack = attacks[a], ao.eps = o.eps[e];
        const auto t0 = std::chrono::steady_clock::now();
        const robust::AttackResult r = robust::attack(target, b.x, b.labels, ao, start);
        Tally& t = tally[a][e];
        t.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        t.robust += count_correct(r.predicted, b.labels, clean_ok, count);
        t.check_robust += count_correct(r.predicted, b.labels, clean_ok, in_check);
        for (size_t k = 0; k < engines.size(); ++k) {
          const Tensor logits = explain::engine_logits(*engine_sets[k])(target.normalise(r.adversarial));
          t.engine_robust[std::string(infer::precision_name(engines[k]))] +=
              count_correct(explain::predicted_classes(logits), b.labels, clean_ok, count);
        }
        if (!first_fooling.defined()) first_fooling = r.adversarial.clone(Layout::contiguous);
        for (int64_t i = 0; i < count; ++i) {
          const bool fooled_here = r.predicted[i] != b.labels[i];
          if (fooled_here && robust_all[i]) {  // the grid shows the first attack that fooled the image
            std::copy_n(r.adversarial.data<float>() + i * (b.x.numel() / count), b.x.numel() / count,
                        first_fooling.data<float>() + i * (b.x.numel() / count));
          }
          if (fooled_here) robust_all[i] = false;
        }
        done += count;
        bar.update(done, std::string(robust::attack_name(attacks[a])) + " ε " + format_eps(o.eps[e]));
      }
      grid_examples[e] = first_fooling;
      for (int64_t i = 0; i < count; ++i) {
        worst[e] += robust_all[i];
        if (i < in_check) worst_check[e] += robust_all[i];
      }
      // The checks run on the first check_images images: FGSM, the same PGD with fewer steps, transfer.
      if (in_check > 0) {
        const Tensor xs = b.x.narrow(0, 0, in_check).clone(Layout::contiguous);
        const std::vector<int64_t> ls(b.labels.begin(), b.labels.begin() + in_check);
        robust::AttackOptions f = base;
        f.attack = Attack::fgsm, f.eps = o.eps[e];
        fgsm_check[e].check_robust +=
            count_correct(robust::attack(target, xs, ls, f, start).predicted, ls, clean_ok, in_check);
        robust::AttackOptions few = base;
        few.attack = Attack::pgd, few.eps = o.eps[e], few.steps = std::max<int64_t>(1, o.steps / 4);
        few.alpha = o.alpha > 0 ? o.alpha : 2.5 * o.eps[e] / static_cast<double>(o.steps);
        fewer_check[e].check_robust +=
            count_correct(robust::attack(target, xs, ls, few, start).predicted, ls, clean_ok, in_check);
        if (source) {
          robust::AttackOptions p = base;
          p.attack = Attack::pgd, p.eps = o.eps[e];
          const Tensor adv = robust::attack(*source, xs, ls, p, start).adversarial;
          transfer[e].check_robust +=
              count_correct(explain::predicted_classes(target.logits(adv)), ls, clean_ok, in_check);
        }
      }
    }
    if (in_check > 0) {  // a large ε must bring accuracy to 0
      const Tensor xs = b.x.narrow(0, 0, in_check).clone(Layout::contiguous);
      const std::vector<int64_t> ls(b.labels.begin(), b.labels.begin() + in_check);
      robust::AttackOptions big = base;
      big.attack = Attack::pgd, big.steps = std::max<int64_t>(o.steps, 10), big.alpha = 0;
      big.eps = norm == robust::Norm::linf ? 1.0 : std::sqrt(static_cast<double>(xs.numel() / in_check));
      large_eps_robust +=
          count_correct(robust::attack(target, xs, ls, big, start).predicted, ls, clean_ok, in_check);
    }
    for (int64_t i = 0; i < count && static_cast<int64_t>(cells.size()) <
                                         kGridImages * static_cast<int64_t>(o.eps.size() + 1);
         ++i) {
      cells.push_back(to_image(b.x, i, scale));
      captions.push_back(class_name(clean_pred[i]));
      for (size_t e = 0; e < o.eps.size(); ++e) {
        const Tensor one = grid_examples[e].narrow(0, i, 1).clone(Layout::contiguous);
        cells.push_back(to_image(one, 0, scale));
        captions.push_back(class_name(explain::predicted_classes(target.logits(one))[0]));
      }
    }
  }
  bar.finish();

  // The report.
  const double total = static_cast<double>(n);
  o.output.print("clean accuracy: %.2f %% of %lld\n", 100 * clean_correct / total, static_cast<long long>(n));
  o.output.print("%-10s %-5s %10s %10s", "attack", "norm", "eps", "robust %");
  for (const auto& e : o.engines) o.output.print(" %9s", (e + " %").c_str());
  o.output.print(" %9s\n", "seconds");
  nlohmann::json rows = nlohmann::json::array();
  for (size_t a = 0; a < attacks.size(); ++a)
    for (size_t e = 0; e < o.eps.size(); ++e) {
      const Tally& t = tally[a][e];
      o.output.print("%-10s %-5s %10s %10.2f", std::string(robust::attack_name(attacks[a])).c_str(),
                     std::string(robust::norm_name(norm)).c_str(), format_eps(o.eps[e]).c_str(),
                     100 * t.robust / total);
      nlohmann::json deployed = nlohmann::json::object();
      for (const auto& [name, k] : t.engine_robust) {
        o.output.print(" %9.2f", 100 * k / total);
        deployed[name] = k / total;
      }
      o.output.print(" %9.1f\n", t.seconds);
      rows.push_back({{"attack", robust::attack_name(attacks[a])},
                      {"eps", o.eps[e]},
                      {"robust_accuracy", t.robust / total},
                      {"deployed", deployed},
                      {"seconds", t.seconds}});
    }
  nlohmann::json worst_json = nlohmann::json::array();
  for (size_t e = 0; e < o.eps.size(); ++e) {
    if (attacks.size() > 1)
      o.output.print("%-10s %-5s %10s %10.2f\n", "worst-case", std::string(robust::norm_name(norm)).c_str(),
                     format_eps(o.eps[e]).c_str(), 100 * worst[e] / total);
    worst_json.push_back({{"eps", o.eps[e]}, {"robust_accuracy", worst[e] / total}});
  }

  // Gradient masking: what an honest attack must satisfy, on the first check_images images.
  std::vector<std::string> warnings;
  if (check_n > 0) {
    auto pct = [&](int64_t k) {
      return format_eps(100.0 * static_cast<double>(k) / static_cast<double>(check_n));
    };
    for (size_t e = 0; e < o.eps.size(); ++e) {
      for (size_t a = 0; a < attacks.size(); ++a) {
        if (attacks[a] == Attack::fgsm) continue;
        const int64_t k = tally[a][e].check_robust;
        const std::string what =
            std::string(robust::attack_name(attacks[a])) + " at ε " + format_eps(o.eps[e]);
        if (k > fgsm_check[e].check_robust)
          warnings.push_back(what + " leaves " + pct(k) + " % robust, FGSM only " +
                             pct(fgsm_check[e].check_robust) +
                             " %: an iterative attack should never do worse than one step");
        if (attacks[a] == Attack::pgd && k > fewer_check[e].check_robust)
          warnings.push_back(what + " (" + std::to_string(o.steps) + " steps) leaves " + pct(k) +
                             " % robust, " + std::to_string(std::max<int64_t>(1, o.steps / 4)) + " steps " +
                             pct(fewer_check[e].check_robust) + " %: more steps should never do worse");
        if (e > 0 && tally[a][e].robust > tally[a][e - 1].robust)
          warnings.push_back(what + " leaves more images robust than ε " + format_eps(o.eps[e - 1]) +
                             ": accuracy should fall as ε grows");
      }
      if (source && transfer[e].check_robust < worst_check[e])
        warnings.push_back("examples transferred from '" + o.transfer_from + "' at ε " +
                           format_eps(o.eps[e]) + " leave " + pct(transfer[e].check_robust) +
                           " % robust, white-box attacks " + pct(worst_check[e]) +
                           " %: a black-box attack should be weaker");
    }
    if (large_eps_robust > 0)
      warnings.push_back("PGD at ε " + std::string(norm == robust::Norm::linf ? "1" : "√(C·H·W)") +
                         " (the whole image can change) leaves " + pct(large_eps_robust) +
                         " % robust: accuracy should reach 0");
  }
  for (const auto& w : warnings) std::fprintf(stderr, "warning: possible gradient masking: %s\n", w.c_str());
  if (check_n > 0 && warnings.empty())
    o.output.print("gradient-masking checks passed (first %lld images: FGSM, fewer steps, large ε%s)\n",
                   static_cast<long long>(check_n), source ? ", transfer" : "");

  const std::string grid = (fs::path(o.out) / "adversarial.png").string();
  data::write_png(grid, viz::make_grid(cells, captions,
                                       {.cols = static_cast<int64_t>(o.eps.size()) + 1, .caption_px = 11}));
  nlohmann::json attack_names = nlohmann::json::array();
  for (Attack a : attacks) attack_names.push_back(robust::attack_name(a));
  nlohmann::json checks = {
      {"images", check_n}, {"warnings", warnings}, {"large_eps_robust", large_eps_robust}};
  nlohmann::json summary = {{"checkpoint", c.path()},
                            {"model", c.card.model},
                            {"dataset", set->describe()},
                            {"images", n},
                            {"norm", robust::norm_name(norm)},
                            {"attacks", attack_names},
                            {"options",
                             {{"steps", o.steps},
                              {"alpha", o.alpha},
                              {"restarts", o.restarts},
                              {"random_start", o.random_start},
                              {"targets", o.targets},
                              {"seed", o.seed}}},
                            {"clean_accuracy", clean_correct / total},
                            {"results", rows},
                            {"worst_case", worst_json},
                            {"masking_checks", checks},
                            {"grid", grid}};
  io::write_text_atomically((fs::path(o.out) / "summary.json").string(), summary.dump(2) + "\n");
  o.output.print("Wrote %s (adversarial.png, summary.json)\n", o.out.c_str());
  o.output.result(summary);
}

}  // namespace

void add_attack_command(CLI::App& app) {
  auto o = std::make_shared<AttackCliOptions>();
  auto* cmd = app.add_subcommand(
      "attack", "Robust accuracy under adversarial attacks (FGSM, PGD, APGD), with gradient-masking checks");
  cmd->add_option("--checkpoint", o->checkpoint,
                  "Run directory or checkpoint file (its card gives mean/std)");
  cmd->add_option("--model", o->model, "Tensor mode: model name (see `resnet models`), with --weights");
  cmd->add_option("--weights", o->weights, "Tensor mode: safetensors weights with torchvision names");
  cmd->add_option("--classes", o->classes, "Tensor mode: classes of --model (default: the model's)");
  cmd->add_option("--input", o->input,
                  "Tensor mode: a .safetensors holding 'input' (f32 NCHW in [0, 1]) and 'label' (i64 [N])");
  cmd->add_option("--output", o->output_file, "Tensor mode: write 'adversarial' and 'logits' here");
  add_list_option(cmd, "--mean", o->mean, "Normalisation mean per channel (default: the card's)");
  add_list_option(cmd, "--std", o->std, "Normalisation std per channel (default: the card's)");
  add_list_option(cmd, "--attack", o->attacks, "fgsm, pgd, apgd-ce, apgd-dlr")->capture_default_str();
  cmd->add_option("--norm", o->norm, "linf or l2")->capture_default_str();
  add_list_option(cmd, "--eps", o->eps, "Budgets in pixel units of [0, 1] images (8/255 = 0.0314)");
  cmd->add_option("--steps", o->steps, "PGD steps / APGD iterations")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "PGD step size (0: 2.5·ε/steps)")->capture_default_str();
  cmd->add_option("--restarts", o->restarts, "Random restarts (PGD, APGD)")->capture_default_str();
  cmd->add_flag("--random-start", o->random_start, "PGD: start at a random point of the ε-ball");
  cmd->add_option("--targets", o->targets, "APGD-DLR: target classes tried")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random starts")->capture_default_str();
  cmd->add_option("--dataset", o->dataset, "Data set to attack (default: the checkpoint's)");
  cmd->add_option("--split", o->split, "train or test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Attack the first N images (0: all)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Images per attack batch")->capture_default_str();
  add_list_option(cmd, "--engine", o->engines,
                  "Also evaluate the examples on the deployed engines: fp32, bf16, int8 (int8: the "
                  "checkpoint's calibration)");
  cmd->add_option("--transfer-from", o->transfer_from,
                  "An independently trained checkpoint: its PGD examples must be weaker than white-box ones");
  cmd->add_option("--check-images", o->check_images, "Images the gradient-masking checks use")
      ->capture_default_str();
  cmd->add_flag("--no-checks", o->no_checks, "Skip the gradient-masking checks");
  o->corruptions_flag =
      cmd->add_option("--corruptions", o->corruptions,
                      "Accuracy under common corruptions instead of attacks: all (no names), or some of "
                      "gaussian-noise, shot-noise, impulse-noise, defocus-blur, motion-blur, zoom-blur, "
                      "brightness, contrast, elastic, pixelate, jpeg")
          ->delimiter(',')
          ->expected(0, -1);
  cmd->add_option("--reference", o->reference,
                  "Corruptions: the checkpoint the corruption errors (CE, mCE) are relative to");
  cmd->add_option("--out", o->out, "Directory for adversarial.png and summary.json");
  cmd->add_flag("--ema", o->ema, "Use the checkpoint's EMA weights");
  cmd->add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
  o->output.add_flags(cmd);
  cmd->callback([o] { run_attack(*o); });
}

}  // namespace resnet::cli
