// `resnet explain`: attribution maps of a checkpoint's decisions (explain/), written as pictures, tensors
// and a JSON summary. Flags are wired to library calls; the methods live in src/explain/.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "resnet/core/finite.h"
#include "resnet/core/parallel.h"
#include "resnet/data/image.h"
#include "resnet/explain/cam.h"
#include "resnet/explain/evaluation.h"
#include "resnet/explain/integrated_gradients.h"
#include "resnet/explain/layers.h"
#include "resnet/explain/methods.h"
#include "resnet/explain/occlusion.h"
#include "resnet/explain/saliency.h"
#include "resnet/explain/targets.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/infer/predict.h"
#include "resnet/io/atomic_file.h"
#include "resnet/io/safetensors.h"
#include "resnet/viz/grid.h"
#include "resnet/viz/overlay.h"

namespace resnet::cli {
namespace {

namespace fs = std::filesystem;
using explain::Method;

struct ExplainOptions {
  std::string checkpoint, model, weights, dataset, input, out, layer, target = "predicted",
                                                                      rule = "gauss-legendre";
  std::string baseline = "black", engine, calibration;
  std::vector<std::string> methods{"grad-cam"}, inputs, indices;
  std::vector<double> mean, std;
  int64_t classes = 0;
  int64_t steps = 32, samples = 32, window = 4, stride = 2, chunk = 16;
  double sigma = 0.15, fill = 0.0, blur_sigma = 0;
  uint64_t seed = 0;
  bool ema = false, evaluate = false;
  int64_t evaluate_steps = 16;
  int threads = 0;
  Output output;
};

// One value per input channel from the card's normalisation (empty card lists: identity).
std::vector<float> per_channel(const std::vector<double>& values, double fallback) {
  std::vector<float> out;
  for (double v : values) out.push_back(static_cast<float>(v));
  if (out.empty()) out.push_back(static_cast<float>(fallback));
  return out;
}

std::vector<int64_t> resolve_targets(const std::string& spec, const Tensor& logits,
                                     const std::vector<std::string>& names) {
  const int64_t n = logits.size(0), classes = logits.size(1);
  if (spec == "predicted") return explain::predicted_classes(logits);
  int64_t index = -1;
  if (!spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos) {
    index = spec.size() > 9 ? classes : std::stoll(spec);
  } else {
    for (size_t c = 0; c < names.size(); ++c)
      if (names[c] == spec) index = static_cast<int64_t>(c);
    if (index < 0) {
      std::string list;
      for (size_t c = 0; c < names.size() && c < 12; ++c) list += (c ? ", " : "") + names[c];
      throw UserError("--target '" + spec +
                      "' is not a class of this model: give 'predicted', an index in 0-" +
                      std::to_string(classes - 1) + (list.empty() ? "" : " or a class name (" + list + ")"));
    }
  }
  std::vector<int64_t> targets(static_cast<size_t>(n), index);
  explain::check_targets(targets, classes);
  return targets;
}

// The network's input back to 8-bit pixels: the card's normalisation undone, else each image's range.
data::Image display_image(const Tensor& x, int64_t i, const std::vector<float>& mean,
                          const std::vector<float>& std, bool known, int64_t scale) {
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3), plane = h * w;
  const float* v = x.data<float>() + i * c * plane;
  const auto [lo, hi] = std::minmax_element(v, v + c * plane);
  data::Image img{c, h * scale, w * scale,
                  std::vector<uint8_t>(static_cast<size_t>(c * plane * scale * scale))};
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h * scale; ++y)
      for (int64_t xx = 0; xx < w * scale; ++xx) {
        const float value = v[ch * plane + (y / scale) * w + xx / scale];
        double p = known ? value * std[std.size() == 1 ? 0 : ch] + mean[mean.size() == 1 ? 0 : ch]
                         : (*hi > *lo ? (value - *lo) / (*hi - *lo) : 0.5);
        p = std::clamp(p, 0.0, 1.0);
        img.pixels[(ch * h * scale + y) * w * scale + xx] = static_cast<uint8_t>(std::lround(255 * p));
      }
  return img;
}

// The map of image i that a picture shows: magnitude (max |a| over channels) for gradients, the signed
// channel sum for gradient × input and integrated gradients, the map itself otherwise.
viz::FloatMap display_map(Method m, const Tensor& a, int64_t i) {
  const bool channels = a.ndim() == 4;
  const int64_t c = channels ? a.size(1) : 1, h = a.size(a.ndim() - 2), w = a.size(a.ndim() - 1);
  const float* v = a.data<float>() + i * c * h * w;
  viz::FloatMap map{h, w, std::vector<float>(static_cast<size_t>(h * w), 0.0f)};
  for (int64_t p = 0; p < h * w; ++p)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float e = v[ch * h * w + p];
      if (m == Method::saliency || m == Method::smoothgrad)
        map.values[p] = std::max(map.values[p], std::abs(e));
      else
        map.values[p] += e;
    }
  return map;
}

viz::Colormap colormap_of(Method m) {
  return m == Method::gradient_x_input || m == Method::integrated_gradients || m == Method::occlusion
             ? viz::Colormap::kBlueWhiteRed
             : viz::Colormap::kInferno;
}

// A caption that fits under a small picture.
std::string short_name(Method m) {
  if (m == Method::gradient_x_input) return "grad × input";
  if (m == Method::integrated_gradients) return "int. gradients";
  return std::string(explain::method_name(m));
}

// Rows [start, start + count) of a tensor along dim 0, as a fresh dense copy.
Tensor rows(const Tensor& t, int64_t start, int64_t count) {
  return t.narrow(0, start, count).clone(Layout::contiguous);
}

void run_explain(const ExplainOptions& o) {
  o.output.begin();
  // Names first: a typo costs no file read.
  std::vector<Method> methods;
  for (const std::string& name : o.methods) {
    const Method m = explain::parse_method(name);
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
  }
  const explain::Rule rule = explain::parse_rule(o.rule);
  const infer::Precision precision =
      o.engine.empty() ? infer::Precision::f32 : infer::parse_precision(o.engine);
  if (o.steps < 1)
    throw UserError("--steps " + std::to_string(o.steps) +
                    " is not allowed: give at least 1 (32–64 is usual)");
  if (o.samples < 1)
    throw UserError("--samples " + std::to_string(o.samples) + " is not allowed: give at least 1");
  if (o.chunk < 1) throw UserError("--chunk " + std::to_string(o.chunk) + " is not allowed: give at least 1");
  if (o.evaluate_steps < 1 || o.evaluate_steps > 100000)
    throw UserError("--evaluate-steps " + std::to_string(o.evaluate_steps) +
                    " is not allowed: give 1 to 100000 (16 is usual)");
  const bool from_tensor = !o.input.empty();
  if (from_tensor && (!o.inputs.empty() || !o.indices.empty()))
    throw UserError("--input takes a tensor file instead of images: give either --input or images/--index");
  const bool bare = !o.model.empty();
  if (bare == !o.checkpoint.empty())
    throw UserError(
        "give --checkpoint RUN, or bare weights: --model M --weights W with --input X.safetensors");
  if (bare && (o.weights.empty() || !from_tensor))
    throw UserError(
        "--model needs --weights W and --input X.safetensors (bare weights carry no "
        "preprocessing for image files)");
  if (o.mean.size() != o.std.size())
    throw UserError("--mean and --std go together, with one value per channel (or one for all)");
  for (double s : o.std)
    if (!(s > 0)) throw UserError("--std values must be > 0");
  if (bare && precision == infer::Precision::int8 && o.calibration.empty())
    throw UserError(
        "--engine int8 with bare weights needs --calibration FILE (`resnet quantize` writes one "
        "for a checkpoint)");
  if (bare) check_model_flag(o.model);
  set_num_threads(o.threads);

  // The network: a checkpoint with its card, or bare weights on a named architecture (no card: class
  // names, normalisation and calibration are what the flags give).
  models::Checkpoint c;
  std::unique_ptr<models::ResNet> model;
  io::TensorFile input_file;
  if (from_tensor) input_file = io::load_safetensors(o.input);
  if (bare) {
    const Tensor* t = input_file.find("input");
    model = model_from_weights(o.model, o.weights, o.classes, t && t->ndim() == 4 ? t->size(1) : 3);
    c.card = {.model = o.model};
  } else {
    c = models::load_checkpoint(o.checkpoint);
    model = models::model_from_checkpoint(c, o.ema);
  }
  const std::string source = bare ? o.weights : c.path();
  const std::string layer = explain::resolve_layer(model->architecture(), o.layer);
  const auto& card = c.card;
  const std::vector<double>& mean_values = o.mean.empty() ? card.preprocessing.mean : o.mean;
  const std::vector<double>& std_values = o.std.empty() ? card.preprocessing.std : o.std;
  const bool normalisation_known = !mean_values.empty() && !std_values.empty();
  const std::vector<float> mean = per_channel(mean_values, 0.0), std = per_channel(std_values, 1.0);

  // The input: a tensor as `forward` takes it, or images through the card's preprocessing.
  Tensor x;
  std::vector<std::string> names;
  std::vector<int64_t> truth;
  if (from_tensor) {
    const Tensor& t = input_file.at("input");
    if (t.ndim() != 4 || t.dtype() != DType::f32 || t.size(1) != model->spec().in_channels)
      throw UserError("'" + o.input + "': tensor 'input' must be f32 [N, " +
                      std::to_string(model->spec().in_channels) +
                      ", H, W] (normalised, as `resnet forward` takes it), got " + t.str());
    x = t.clone(Layout::contiguous);
    for (int64_t i = 0; i < x.size(0); ++i)
      names.push_back(o.input + "[" + std::to_string(i) + "]"), truth.push_back(-1);
  } else {
    models::require(card, c.path(), {models::CardField::input_size, models::CardField::eval_transforms},
                    "resnet explain");
    const infer::CardPreprocessing preprocessing(card, c.path());
    const models::InputSize size = preprocessing.input_size();
    std::vector<InputImage> items = gather_images(c, size.channels, o.inputs, o.indices, o.dataset, true);
    if (items.empty())
      throw UserError(
          "nothing to explain: give image files or directories, --index N, or --input X.safetensors");
    x = Tensor::empty({static_cast<int64_t>(items.size()), size.channels, size.height, size.width});
    const int64_t per = size.channels * size.height * size.width;
    for (size_t i = 0; i < items.size(); ++i) {
      preprocessing.apply(items[i].image, x.data<float>() + static_cast<int64_t>(i) * per, items[i].name);
      names.push_back(items[i].name), truth.push_back(items[i].truth);
    }
  }
  const int64_t n = x.size(0);

  // The logits, `chunk` images at a time like everything after (a large N must not need N activations).
  Tensor logits;
  for (int64_t start = 0; start < n; start += o.chunk) {
    const int64_t count = std::min(o.chunk, n - start);
    const Tensor part = explain::model_logits(*model)(rows(x, start, count));
    if (!logits.defined()) logits = Tensor::empty({n, part.size(1)});
    logits.narrow(0, start, count).copy_from(part);
  }
  const std::vector<int64_t> predicted = explain::predicted_classes(logits);
  const std::vector<int64_t> targets = resolve_targets(o.target, logits, card.class_names);

  // Forward-only methods score on the engine asked for; gradients need the module network.
  std::unique_ptr<infer::EngineSet> engines;
  infer::Calibration calibration;
  if (!o.engine.empty()) {
    calibration = infer::calibration_for(precision, o.checkpoint, o.calibration);
    engines = std::make_unique<infer::EngineSet>(*model, precision, &calibration);
  }
  const explain::LogitsFn scorer = engines ? explain::engine_logits(*engines) : explain::model_logits(*model);

  Tensor baseline;
  const bool needs_baseline =
      std::find(methods.begin(), methods.end(), Method::integrated_gradients) != methods.end();
  if (needs_baseline) {
    if (o.baseline == "black") {
      baseline = explain::black_baseline(x, mean, std);
    } else if (o.baseline == "blur") {
      baseline =
          explain::blur_baseline(x, o.blur_sigma > 0 ? o.blur_sigma : static_cast<double>(x.size(2)) / 8.0);
    } else if (o.baseline == "noise") {
      baseline = explain::noise_baseline(x, mean, std, o.seed);
    } else {
      if (!fs::exists(o.baseline))
        throw UserError("--baseline '" + o.baseline +
                        "' is neither black, blur, noise nor an existing file: give "
                        "one of those, or a .safetensors holding 'input' of the input's shape");
      const io::TensorFile f = io::load_safetensors(o.baseline);
      const Tensor& b = f.at("input");
      if (b.shape() != x.shape())
        throw UserError("--baseline '" + o.baseline + "': tensor 'input' is " + b.str() +
                        " but the input is " + x.str() + ": give a baseline of the input's shape");
      baseline = b.clone(Layout::contiguous);
    }
  }

  fs::create_directories(o.out);
  o.output.note("Explaining %lld image%s with %zu method%s (layer %s)\n", static_cast<long long>(n),
                n == 1 ? "" : "s", methods.size(), methods.size() == 1 ? "" : "s", layer.c_str());
  train::ProgressBar bar("explain", n * static_cast<int64_t>(methods.size()));
  int64_t done = 0;
  std::map<Method, Tensor> attributions, cams;
  nlohmann::json timings = nlohmann::json::object();
  for (Method m : methods) {
    const auto start_time = std::chrono::steady_clock::now();
    // Images go `chunk` at a time for the one-pass methods and one at a time for those that multiply
    // each image (steps, samples, windows, masks), so the bar moves.
    const int64_t group = (m == Method::saliency || m == Method::gradient_x_input || m == Method::grad_cam ||
                           m == Method::grad_cam_plus_plus)
                              ? o.chunk
                              : 1;
    std::vector<Tensor> parts, cam_parts;
    for (int64_t start = 0; start < n; start += group) {
      const int64_t count = std::min(group, n - start);
      const Tensor xs = rows(x, start, count);
      const std::vector<int64_t> ts(targets.begin() + start, targets.begin() + start + count);
      const explain::CamOptions cam_options{.layer = layer, .chunk = o.chunk};
      switch (m) {
        case Method::saliency:
          parts.push_back(explain::saliency(*model, xs, ts, {.chunk = o.chunk}));
          break;
        case Method::gradient_x_input:
          parts.push_back(explain::gradient_times_input(*model, xs, ts, {.chunk = o.chunk}));
          break;
        case Method::smoothgrad:
          parts.push_back(explain::smoothgrad(*model, xs, ts,
                                              {.samples = o.samples,
                                               .sigma = o.sigma,
                                               .seed = o.seed + static_cast<uint64_t>(start),
                                               .chunk = o.chunk}));
          break;
        case Method::integrated_gradients:
          parts.push_back(explain::integrated_gradients(*model, xs, rows(baseline, start, count), ts,
                                                        {.steps = o.steps, .rule = rule, .chunk = o.chunk}));
          break;
        case Method::grad_cam:
        case Method::grad_cam_plus_plus:
        case Method::score_cam: {
          const explain::CamResult r = m == Method::grad_cam ? explain::grad_cam(*model, xs, ts, cam_options)
                                       : m == Method::grad_cam_plus_plus
                                           ? explain::grad_cam_plus_plus(*model, xs, ts, cam_options)
                                           : explain::score_cam(*model, scorer, xs, ts, cam_options);
          parts.push_back(r.map), cam_parts.push_back(r.cam);
          break;
        }
        case Method::occlusion: {
          std::vector<float> fill;
          for (int64_t ch = 0; ch < x.size(1); ++ch)
            fill.push_back((static_cast<float>(o.fill) - mean[mean.size() == 1 ? 0 : ch]) /
                           std[std.size() == 1 ? 0 : ch]);
          parts.push_back(explain::occlusion(
              scorer, xs, ts, {.window = o.window, .stride = o.stride, .fill = fill, .chunk = o.chunk}));
          break;
        }
      }
      done += count;
      bar.update(done, std::string(explain::method_name(m)));
    }
    auto concat = [n](const std::vector<Tensor>& pieces) {
      Shape shape = pieces.front().shape();
      shape[0] = n;
      Tensor all = Tensor::empty(shape);
      int64_t at = 0;
      for (const Tensor& p : pieces) all.narrow(0, at, p.size(0)).copy_from(p), at += p.size(0);
      return all;
    };
    attributions[m] = concat(parts);
    if (!cam_parts.empty()) cams[m] = concat(cam_parts);
    timings[std::string(explain::method_name(m))] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  }
  bar.finish();

  // --evaluate: deletion (to black) and insertion (from a blur) curves per method, beside random maps.
  nlohmann::json evaluation = nullptr;
  if (o.evaluate) {
    const Tensor black =
        normalisation_known ? explain::black_baseline(x, mean, std) : Tensor::zeros(x.shape());
    const Tensor blurred = explain::blur_baseline(x, static_cast<double>(x.size(2)) / 8.0);
    const explain::CurveOptions curve_options{.steps = o.evaluate_steps, .chunk = o.chunk};
    auto scores = [&](const Tensor& map) {
      const explain::Curves c =
          explain::deletion_insertion(scorer, x, black, blurred, map, targets, curve_options);
      double d = 0, in = 0;
      for (int64_t i = 0; i < n; ++i) d += c.deletion_auc[i] / n, in += c.insertion_auc[i] / n;
      return nlohmann::json{{"deletion_auc", d}, {"insertion_auc", in}};
    };
    evaluation = {{"steps", o.evaluate_steps},
                  {"random", scores(explain::random_map(n, x.size(2), x.size(3), o.seed + 1))},
                  {"methods", nlohmann::json::object()}};
    o.output.print("%-22s %13s %14s\n", "map", "deletion AUC", "insertion AUC");
    o.output.print("%-22s %13.4f %14.4f\n", "random", evaluation["random"]["deletion_auc"].get<double>(),
                   evaluation["random"]["insertion_auc"].get<double>());
    for (Method m : methods) {
      const nlohmann::json r = scores(explain::importance_map(m, attributions[m]));
      evaluation["methods"][std::string(explain::method_name(m))] = r;
      o.output.print("%-22s %13.4f %14.4f\n", std::string(explain::method_name(m)).c_str(),
                     r["deletion_auc"].get<double>(), r["insertion_auc"].get<double>());
    }
    o.output.print(
        "(deletion: lower is better; insertion: higher is better; %lld steps, mean over %lld images)\n",
        static_cast<long long>(o.evaluate_steps), static_cast<long long>(n));
  }

  // attributions.safetensors: one method → attribution/cam; several → attribution.<method>/cam.<method>.
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (Method m : methods) {
    const std::string suffix = methods.size() == 1 ? "" : "." + std::string(explain::method_name(m));
    tensors.emplace_back("attribution" + suffix, attributions[m]);
    if (cams.count(m)) tensors.emplace_back("cam" + suffix, cams[m]);
  }
  tensors.emplace_back("logits", logits);
  Tensor target_tensor = Tensor::empty({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) target_tensor.data<int64_t>()[i] = targets[i];
  tensors.emplace_back("target", target_tensor);
  io::save_safetensors((fs::path(o.out) / "attributions.safetensors").string(), tensors,
                       {{"format", "resnet.cpp explain 1"}, {"checkpoint", source}, {"layer", layer}});

  // Per image: the original beside each method's map, in one row.
  auto class_name = [&](int64_t k) {
    return k >= 0 && k < static_cast<int64_t>(card.class_names.size()) ? card.class_names[k]
                                                                       : std::to_string(k);
  };
  const int64_t scale = std::max<int64_t>(1, 112 / std::max<int64_t>(x.size(2), 1));
  nlohmann::json images = nlohmann::json::array();
  // Several images: also one picture of all of them (the first kGridImages), a row each.
  constexpr int64_t kGridImages = 16;
  std::vector<data::Image> grid_cells;
  std::vector<std::string> grid_captions;
  // Per image: the original beside each method's map, in one row; at half size in the grid.
  auto row_of = [&](int64_t i, int64_t at_scale, std::vector<data::Image>& cells,
                    std::vector<std::string>& captions) {
    const data::Image original = display_image(x, i, mean, std, normalisation_known, at_scale);
    cells.push_back(original);
    captions.push_back(class_name(targets[i]));
    for (Method m : methods) {
      cells.push_back(viz::overlay_heatmap(original, display_map(m, attributions[m], i),
                                           {.colormap = colormap_of(m), .alpha = 0.6}));
      captions.emplace_back(short_name(m));
    }
  };
  for (int64_t i = 0; i < n; ++i) {
    std::vector<data::Image> cells;
    std::vector<std::string> captions;
    row_of(i, scale, cells, captions);
    const std::string png = (fs::path(o.out) / ("explain_" + std::to_string(i) + ".png")).string();
    data::write_png(png, viz::make_grid(cells, captions, {.rows = 1}));
    if (i < kGridImages) row_of(i, std::max<int64_t>(1, scale / 2), grid_cells, grid_captions);
    nlohmann::json entry = {{"input", names[i]},         {"png", png},
                            {"target", targets[i]},      {"target_class", class_name(targets[i])},
                            {"predicted", predicted[i]}, {"predicted_class", class_name(predicted[i])}};
    if (truth[i] >= 0) entry["truth"] = class_name(truth[i]);
    if (needs_baseline) {  // completeness: Σ attribution against f(x) - f(baseline)
      const Tensor fb = explain::model_logits(*model)(rows(baseline, i, 1)).clone(Layout::contiguous);
      const Tensor& a = attributions[Method::integrated_gradients];
      const int64_t per = a.numel() / n;
      double total = 0;
      for (int64_t e = 0; e < per; ++e) total += a.data<float>()[i * per + e];
      const double delta =
          logits.data<float>()[i * logits.size(1) + targets[i]] - fb.data<float>()[targets[i]];
      entry["ig_sum"] = total;
      entry["ig_delta"] = delta;
      entry["ig_completeness_error"] = std::abs(total - delta) / std::max(std::abs(delta), 1e-12);
    }
    images.push_back(std::move(entry));
    o.output.print("%s: target %s, predicted %s -> %s\n", names[i].c_str(), class_name(targets[i]).c_str(),
                   class_name(predicted[i]).c_str(), png.c_str());
  }
  std::string grid;
  if (n > 1) {
    grid = (fs::path(o.out) / "grid.png").string();
    data::write_png(grid,
                    viz::make_grid(grid_cells, grid_captions,
                                   {.cols = static_cast<int64_t>(methods.size()) + 1, .caption_px = 8}));
  }
  nlohmann::json method_names = nlohmann::json::array();
  for (Method m : methods) method_names.push_back(explain::method_name(m));
  nlohmann::json summary = {{"checkpoint", source},
                            {"model", card.model},
                            {"methods", method_names},
                            {"layer", layer},
                            {"target", o.target},
                            {"engine", o.engine.empty() ? "module" : o.engine},
                            {"options",
                             {{"steps", o.steps},
                              {"rule", explain::rule_name(rule)},
                              {"baseline", o.baseline},
                              {"samples", o.samples},
                              {"sigma", o.sigma},
                              {"window", o.window},
                              {"stride", o.stride},
                              {"fill", o.fill},
                              {"chunk", o.chunk},
                              {"seed", o.seed}}},
                            {"seconds", timings},
                            {"evaluation", evaluation},
                            {"images", images},
                            {"attributions", (fs::path(o.out) / "attributions.safetensors").string()},
                            {"grid", grid.empty() ? nlohmann::json(nullptr) : nlohmann::json(grid)}};
  io::write_text_atomically((fs::path(o.out) / "summary.json").string(), summary.dump(2) + "\n");
  o.output.print("Wrote %s (attributions.safetensors, summary.json, %lld PNG%s)\n", o.out.c_str(),
                 static_cast<long long>(n), n == 1 ? "" : "s");
  o.output.result(summary);
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain",
      "Attribution maps (saliency, Grad-CAM, integrated gradients, …) of a checkpoint's decisions");
  cmd->add_option("--checkpoint", o->checkpoint, "Run directory (its best.safetensors) or checkpoint file");
  cmd->add_option("--model", o->model,
                  "Bare weights: the model name (see `resnet models`), with --weights, --input");
  cmd->add_option("--weights", o->weights, "Bare weights: safetensors with torchvision names");
  cmd->add_option("--classes", o->classes, "Bare weights: number of classes (default: the model's)");
  add_list_option(cmd, "--mean", o->mean,
                  "Normalisation mean per channel (default: the card's; baselines, pictures)");
  add_list_option(cmd, "--std", o->std, "Normalisation std per channel (default: the card's)");
  cmd->add_option("inputs", o->inputs, "Image files or directories of images");
  add_list_option(cmd, "--index", o->indices, "Test-set images of the data set: 3, 0-7, 1,5,9");
  cmd->add_option("--dataset", o->dataset, "Data set --index reads (default: the checkpoint's)");
  cmd->add_option("--input", o->input, "A .safetensors holding 'input' (f32 NCHW, already normalised)");
  add_list_option(cmd, "--method", o->methods,
                  "saliency, gradient-x-input, smoothgrad, integrated-gradients (ig), grad-cam, grad-cam++, "
                  "score-cam, occlusion")
      ->capture_default_str();
  cmd->add_option("--layer", o->layer,
                  "CAM layer: a stage (layer3) or block (layer3.1); default the last stage");
  cmd->add_option("--target", o->target, "Class to explain: predicted, an index or a class name")
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "Integrated gradients: path points")->capture_default_str();
  cmd->add_option("--rule", o->rule, "Integrated gradients: riemann or gauss-legendre")
      ->capture_default_str();
  cmd->add_option("--baseline", o->baseline,
                  "Integrated gradients: black, blur, noise or FILE.safetensors ('input')")
      ->capture_default_str();
  cmd->add_option("--blur-sigma", o->blur_sigma,
                  "The blur baseline's Gaussian sigma in pixels (0: height / 8)");
  cmd->add_option("--samples", o->samples, "SmoothGrad: noisy copies")->capture_default_str();
  cmd->add_option("--sigma", o->sigma, "SmoothGrad: noise level, a fraction of the image's range")
      ->capture_default_str();
  cmd->add_option("--window", o->window, "Occlusion: patch size in pixels")->capture_default_str();
  cmd->add_option("--stride", o->stride, "Occlusion: patch step in pixels")->capture_default_str();
  cmd->add_option("--fill", o->fill, "Occlusion: patch value as a pixel in [0, 1] (normalised by the card)")
      ->capture_default_str();
  cmd->add_option("--chunk", o->chunk, "Images, steps or samples per pass: bounds memory")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "SmoothGrad noise and the noise baseline")->capture_default_str();
  cmd->add_option("--engine", o->engine,
                  "Score occlusion and Score-CAM on the inference engine: fp32, bf16 or int8 (gradients use "
                  "the module network)");
  cmd->add_option("--calibration", o->calibration, "int8: calibration file (default: the checkpoint's)");
  cmd->add_option("--out", o->out, "Directory for the PNGs, attributions.safetensors and summary.json")
      ->required();
  cmd->add_flag("--ema", o->ema, "Use the checkpoint's EMA weights");
  cmd->add_flag("--evaluate", o->evaluate,
                "Deletion and insertion AUC of each method's maps, beside random maps (Petsiuk et al. 2018)");
  cmd->add_option("--evaluate-steps", o->evaluate_steps, "--evaluate: points on each curve")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
  o->output.add_flags(cmd);
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace resnet::cli
