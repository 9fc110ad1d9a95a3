// The inference engine: a trained ResNet compiled into a fixed list of oneDNN primitives for one input
// shape and precision.
//
// What it does to the network (the "inference graph" of He et al.'s nets, eval-mode semantics):
//   - every batch norm that follows a conv is folded into that conv's weights and bias;
//   - the ReLU after it, and at a block's end the residual sum and its ReLU, become oneDNN post-ops of the
//     conv (sum, then eltwise): the last conv of a block accumulates onto the shortcut's buffer in place;
//   - the paper's option-A shortcut (subsample + zero channels) is an exact 1×1 strided conv whose weights
//     are 0/1, so it fuses the same way;
//   - activations stay in the layout oneDNN picks from the stem to the pool; a reorder runs only where a
//     primitive asks for another (at the input edge, typically), and reorders() counts them;
//   - all buffers are planned once (liveness-based reuse), so run() allocates nothing.
// Pre-activation nets keep a standalone BN + ReLU (oneDNN inference batch norm with the ReLU fused) where
// a block's input is normalised, since the unnormalised input is also the shortcut.
//
// Precision: f32, or bf16 (weights and activations bf16, f32 accumulation, f32 logits; needs AVX512-BF16
// for speed, and is emulated — slowly but correctly — elsewhere by oneDNN), or int8 (post-training
// quantisation, below).
//
// int8: weights are s8 with one scale per output channel (max |w| / 127 of the folded weights);
// activations are u8 where calibration saw no negative value (every ReLU output) and s8 otherwise (the
// input, projection shortcuts), one scale per tensor (its calibrated max / 255 or / 127); the convs
// accumulate in s32 (VNNI) and requantise through oneDNN's per-channel output scales, with the residual
// sum and ReLU still fused as post-ops (the sum rescales the shortcut's own scale). The global average pool
// and the classifier run in f32 on the dequantised last feature map. The activation ranges come from a
// Calibration: an fp32 engine of the same model run over representative images records the min and max
// of every step's output. Pre-activation nets are fp32/bf16 only (their standalone BN would need its own
// int8 path).
//
// Contract: the engine copies (folds) the model's parameters and running statistics when built; later
// changes to the model are not seen. run(x) takes x [N, C, H, W] f32, NCHW or NHWC, of the shape given at
// construction, and returns the logits [N, classes] f32, owned by the engine and valid until the next run.
// One engine runs one batch at a time (run() is not reentrant).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::infer {

enum class Precision { f32, bf16, int8 };
std::string_view precision_name(Precision p);
// "fp32"/"f32", "bf16" or "int8"; throws UserError naming the choices otherwise.
Precision parse_precision(std::string_view name);

// What this CPU offers (oneDNN's effective ISA). bf16 needs AVX-512 (oneDNN has no bf16 kernels below
// it; AVX512-BF16 makes them native). int8 runs on AVX2 and up; without VNNI, oneDNN's u8×s8 products
// are summed in pairs into s16 and can saturate, so weights are then quantised to 7 bits (±63).
bool precision_supported(Precision p);
bool cpu_has_vnni();

// The range of values each planned step wrote, over the calibration images. Keys are the step names of
// describe() without their fusion suffixes ("input", "conv1", "layer1.0.conv2", "layer2.0.downsample",
// "maxpool", …), so a calibration fits any engine of the same model, whatever its batch size.
struct Calibration {
  struct Range {
    float min = 0, max = 0;
  };
  std::map<std::string, Range> ranges;
  int64_t images = 0;

  // {"images": N, "ranges": {"conv1": [min, max], …}}
  std::string to_json() const;
  // Throws UserError naming `source` if the text is not a calibration.
  static Calibration from_json(const std::string& text, const std::string& source);
};

// How int8 engines store a tensor whose calibrated range is `r`: u8 when the range has no negative value,
// s8 otherwise; real value = scale × stored integer (zero point 0), scale = the range's magnitude / 255 or
// / 127 (1 for an all-zero range). The ONNX exporter's QDQ files (onnx/export.h) use the same rule.
struct TensorQuantisation {
  bool is_unsigned = false;
  float scale = 1.f;
};
TensorQuantisation tensor_quantisation(const Calibration::Range& r);
// A weight row's (one output channel's) scale: max |w| / `weight_max` (1 for an all-zero row). Engines use
// weight_max 127 with VNNI and 63 without (cpu_has_vnni()); exported files always 127.
float weight_scale(const float* w, int64_t n, float weight_max = 127.f);

class Engine {
 public:
  // int8 needs `calibration` (ranges for every step of this model; a missing one is an error naming it);
  // f32 and bf16 ignore it.
  Engine(models::ResNet& model, const Shape& input, Precision precision = Precision::f32,
         const Calibration* calibration = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Tensor& run(const Tensor& x);

  const Shape& input_shape() const;
  Precision precision() const;
  // One line per primitive: what it computes and the oneDNN implementation chosen.
  std::string describe() const;
  // Runs x `repeats` times step by step and returns each step's median milliseconds, in plan order
  // (describe()'s lines): where an engine's time goes.
  std::vector<double> profile(const Tensor& x, int repeats = 5);
  // fp32 engines only: runs x and widens `into`'s ranges by what every step wrote (min and max over all
  // elements), counting x's images. Run it over enough batches to see the data's range.
  void observe(const Tensor& x, Calibration& into);

  int64_t reorders() const;
  int64_t primitives() const;
  // Bytes of planned activation buffers, folded weights and scratchpads.
  size_t activation_bytes() const;
  size_t weight_bytes() const;

 private:
  void bind_input(const Tensor& x);
  struct Plan;
  std::unique_ptr<Plan> plan_;
};

}  // namespace resnet::infer

namespace resnet::infer {

// Engines for one model and precision at whatever batch sizes come (a data set's short last batch): an
// engine is built the first time a shape is seen and kept. Same contract as Engine::run.
class EngineSet {
 public:
  EngineSet(models::ResNet& model, Precision precision, const Calibration* calibration = nullptr)
      : model_(model), precision_(precision), calibration_(calibration) {}
  const Tensor& run(const Tensor& x);
  Engine& engine_for(const Shape& input);

 private:
  models::ResNet& model_;
  Precision precision_;
  const Calibration* calibration_;
  std::map<std::vector<int64_t>, std::unique_ptr<Engine>> engines_;
};

}  // namespace resnet::infer
