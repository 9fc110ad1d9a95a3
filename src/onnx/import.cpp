// Over 600 lines: one recogniser that walks the whole graph pattern (stem, every block form, head) with the
// diagnostics for each deviation; splitting it would scatter the single traversal state it shares.
#include "resnet/onnx/import.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "onnx/node_eval.h"
#include "onnx/proto.h"
#include "resnet/models/architecture.h"
#include "resnet/models/model_card.h"
#include "resnet/models/spec_json.h"

namespace resnet::onnx {
namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;
constexpr double kOurEps = 1e-5;                // BatchNorm2d's epsilon
constexpr int64_t kOpenEnd = int64_t{1} << 30;  // a Slice end at least this large means "to the end"

// Ops that only compute the target shape of a flattening Reshape from the activation's Shape.
const std::set<std::string> kShapeOps{"Shape",   "Gather", "Unsqueeze", "Concat",         "Cast",
                                      "Squeeze", "Slice",  "Reshape",   "ConstantOfShape"};

struct ConvUnit {
  int node = -1;
  Tensor weight, bias;  // bias undefined when absent
  int64_t kernel = 0, stride = 1, pad = 0, groups = 1;
  std::string out;
  int64_t out_channels() const { return weight.size(0); }
};

using Shortcut = models::Shortcut;  // what the recognised block ends in

struct Block {
  models::BlockKind kind;
  Shortcut shortcut = Shortcut::identity;
  bool projection_norm = false;
  int64_t in_channels = 0, out_channels = 0, stride = 1, width = 0, groups = 1;
  bool stride_in_1x1 = false;
  Named tensors;  // local names ("conv1.weight", "bn1.running_var", "downsample.0.weight")
};

Tensor ones(int64_t n) {
  return Tensor::full({n}, 1.0);
}

void add_norm(Named& out, const std::string& name, Tensor gamma, Tensor beta, Tensor mean, Tensor var) {
  out.emplace_back(name + ".weight", gamma);
  out.emplace_back(name + ".bias", beta);
  out.emplace_back(name + ".running_mean", mean);
  out.emplace_back(name + ".running_var", var);
  out.emplace_back(name + ".num_batches_tracked", Tensor::zeros(Shape{}, DType::i64));
}

class Recogniser {
 public:
  Recogniser(const pb::ModelProto& model, std::string path)
      : model_(model), g_(model.graph()), path_(std::move(path)) {}

  ImportedModel run() {
    prepare();
    return recognise();
  }

 private:
  const pb::ModelProto& model_;
  const pb::GraphProto& g_;
  std::string path_;
  std::map<std::string, Tensor> constants_;
  std::map<std::string, std::string> alias_;
  std::set<std::string> shape_values_;  // values computed only from shapes (the flatten chain)
  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<int>> consumers_;  // data consumers among live nodes
  std::map<int, std::vector<std::string>> inputs_;     // live nodes' inputs, aliases resolved
  std::set<int> live_, taken_;
  int64_t height_ = 0, width_ = 0;  // tracked spatial size when the input's is static (else 0)
  bool softmax_dropped_ = false;

  const pb::NodeProto& node(int i) const { return g_.node(i); }
  std::string where(int i) const { return "'" + path_ + "': " + describe_node(node(i), i); }
  [[noreturn]] void fail(int i, const std::string& problem) const {
    throw UserError(where(i) + ": " + problem);
  }
  [[noreturn]] void fail_value(const std::string& v, const std::string& problem) const {
    throw UserError("'" + path_ + "': value '" + v + "': " + problem);
  }
  std::string resolve(std::string v) const {
    for (auto it = alias_.find(v); it != alias_.end(); it = alias_.find(v)) v = it->second;
    return v;
  }
  const std::string& op(int i) const { return node(i).op_type(); }

  // ---------------------------------------------------------------- graph preparation
  void prepare() {
    for (const auto& t : g_.initializer())
      constants_[t.name()] = tensor_from_proto(t, "'" + t.name() + "'", path_);
    for (int i = 0; i < g_.node_size(); ++i) {
      const auto& n = node(i);
      if (!n.domain().empty() && n.domain() != "ai.onnx")
        fail(i, "ops of domain '" + n.domain() + "' are not supported (standard ONNX ops only)");
      // The structure every op below relies on (found by fuzz_onnx: an Identity without outputs ended in
      // protobuf's FatalException): at least one output, and the op's required inputs.
      static const std::map<std::string, int> kRequiredInputs = {
          {"Constant", 0}, {"Conv", 2},   {"BatchNormalization", 5}, {"Add", 2}, {"Gemm", 2},
          {"MatMul", 2},   {"Reshape", 2}};
      const auto required = kRequiredInputs.find(n.op_type());
      const int min_inputs = required == kRequiredInputs.end() ? 1 : required->second;
      if (n.output_size() < 1 || n.input_size() < min_inputs)
        fail(i, "has " + std::to_string(n.input_size()) + " inputs and " + std::to_string(n.output_size()) +
                    " outputs; " + n.op_type() + " needs at least " + std::to_string(min_inputs) +
                    " inputs and one output: the file is damaged; re-export it");
      if (!node_supported(n.op_type()) && n.op_type() != "Softmax")  // Softmax: only last, dropped
        fail(i,
             "op " + n.op_type() +
                 " is not supported by resnet.cpp's importer (supported: Conv, BatchNormalization, Relu, "
                 "MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Add, Gemm, MatMul, Flatten, Reshape, "
                 "Squeeze, Pad, Slice, Constant, Identity, Dropout, Transpose, Shape, Gather, Unsqueeze, "
                 "Concat, ConstantOfShape, Cast, and a final Softmax)");
      std::vector<std::string> in;
      for (const auto& name : n.input()) in.push_back(name.empty() ? name : resolve(name));
      const bool all_constant = !in.empty() && std::all_of(in.begin(), in.end(), [&](const std::string& v) {
        return v.empty() || constants_.count(v);
      });
      if (n.op_type() == "Constant" || all_constant) {
        std::vector<Tensor> values;
        for (const auto& v : in) {
          // A Constant takes no inputs (found by fuzz_onnx: one with an activation input hit map::at).
          if (!v.empty() && !constants_.count(v))
            fail(i, "input '" + v + "' of a Constant is not a constant: a Constant takes no inputs");
          values.push_back(v.empty() ? Tensor() : constants_.at(v));
        }
        const auto out = evaluate_node(n, values, where(i));
        for (int k = 0; k < n.output_size() && k < static_cast<int>(out.size()); ++k)
          constants_[n.output(k)] = out[k];
        continue;
      }
      if (n.op_type() == "Identity" || n.op_type() == "Dropout") {
        alias_[n.output(0)] = in.at(0);
        continue;
      }
      // Values computed from shapes: the data input (or, for Concat, any input) is one. A Reshape of an
      // activation *by* a computed shape is an activation.
      auto is_shape = [&](const std::string& v) { return shape_values_.count(v) > 0; };
      const bool from_shape = n.op_type() == "Shape" ||
                              (kShapeOps.count(n.op_type()) && !in.empty() && is_shape(in[0])) ||
                              (n.op_type() == "Concat" && std::any_of(in.begin(), in.end(), is_shape));
      if (from_shape || n.op_type() == "Cast") {
        if (!from_shape) fail(i, "Cast of an activation is not supported");
        for (const auto& o : n.output()) shape_values_.insert(o);
        continue;
      }
      if (n.op_type() == "Transpose" && producer_.count(in[0]) && op(producer_.at(in[0])) == "Transpose") {
        // A transpose that undoes the one before it vanishes.
        const int prev = producer_.at(in[0]);
        const auto p1 = attribute_ints(node(prev), "perm"), p2 = attribute_ints(n, "perm");
        bool cancels = p1.size() == p2.size() && !p1.empty();
        for (size_t k = 0; cancels && k < p1.size(); ++k) cancels = p1[p2[k]] == static_cast<int64_t>(k);
        if (cancels) {
          alias_[n.output(0)] = inputs_.at(prev).at(0);
          auto& users = consumers_[inputs_.at(prev).at(0)];
          users.erase(std::remove(users.begin(), users.end(), prev), users.end());
          live_.erase(prev);
          continue;
        }
      }
      live_.insert(i);
      inputs_[i] = in;
      for (const auto& o : n.output()) producer_[o] = i;
      for (size_t k = 0; k < in.size(); ++k)
        if (!in[k].empty() && !constants_.count(in[k]) && !shape_values_.count(in[k]))
          consumers_[in[k]].push_back(i);
    }
  }

  // ---------------------------------------------------------------- walking helpers
  std::vector<int> consumers(const std::string& v) const {
    auto it = consumers_.find(v);
    return it == consumers_.end() ? std::vector<int>{} : it->second;
  }
  int only_consumer(const std::string& v, const std::string& expected) const {
    const auto c = consumers(v);
    if (c.size() != 1)
      fail_value(v, "feeds " + std::to_string(c.size()) + " nodes where a ResNet has one (" + expected + ")");
    return c[0];
  }
  // The next node after v when it is the only one, else -1.
  int next(const std::string& v) const {
    const auto c = consumers(v);
    return c.size() == 1 ? c[0] : -1;
  }
  std::string out(int i) const { return node(i).output(0); }
  const Tensor& constant_input(int i, size_t k, const std::string& what) const {
    const auto& in = inputs_.at(i);
    if (k >= in.size() || in[k].empty()) fail(i, "has no " + what);
    auto it = constants_.find(in[k]);
    if (it == constants_.end())
      fail(i, "its " + what + " is computed at run time; resnet.cpp needs a constant");
    return it->second;
  }
  std::optional<Tensor> optional_constant(int i, size_t k, const std::string& what) const {
    const auto& in = inputs_.at(i);
    if (k >= in.size() || in[k].empty()) return std::nullopt;
    return constant_input(i, k, what);
  }
  void take(int i) { taken_.insert(i); }
  void expect(int i, const std::string& type, const std::string& role) const {
    if (i < 0) fail_value("?", "the graph ends where the " + role + " (" + type + ") should be");
    if (op(i) != type) fail(i, "found where the " + role + " (" + type + ") should be");
  }

  void track(int64_t kernel, int64_t stride, int64_t pad) {
    if (height_ > 0) height_ = (height_ + 2 * pad - kernel) / stride + 1;
    if (width_ > 0) width_ = (width_ + 2 * pad - kernel) / stride + 1;
  }

  // ---------------------------------------------------------------- units
  // Conv consuming v (after an optional zero spatial Pad, merged into the conv's padding).
  ConvUnit take_conv(const std::string& v, const std::string& role) {
    return take_conv_at(only_consumer(v, role), role);
  }

  ConvUnit take_conv_at(int i, const std::string& role) {
    int64_t extra = 0;
    if (op(i) == "Pad") {
      const int p = i;
      const auto pads = pad_amounts(p);
      const int64_t r = static_cast<int64_t>(pads.size()) / 2;
      const bool spatial_symmetric = r == 4 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0 &&
                                     pads[2] == pads[3] && pads[2] == pads[6] && pads[2] == pads[7];
      if (!spatial_symmetric || attribute_string(node(p), "mode", "constant") != "constant" ||
          pad_value(p) != 0)
        fail(p, "only a zero, symmetric, spatial Pad before a Conv is supported here");
      extra = pads[2];
      take(p);
      i = only_consumer(out(p), role);
    }
    return take_conv_node(i, extra, role);
  }

  ConvUnit take_conv_node(int i, int64_t extra_pad, const std::string& role) {
    expect(i, "Conv", role);
    ConvUnit u;
    u.node = i;
    u.weight = constant_input(i, 1, "weight");
    if (u.weight.ndim() != 4 || u.weight.dtype() != DType::f32) fail(i, "weight must be f32 [O, I/g, k, k]");
    if (auto b = optional_constant(i, 2, "bias")) u.bias = *b;
    const auto& n = node(i);
    const auto kernel = attribute_ints(n, "kernel_shape", {u.weight.size(2), u.weight.size(3)});
    const auto strides = attribute_ints(n, "strides", {1, 1});
    auto pads = attribute_ints(n, "pads", {0, 0, 0, 0});
    const auto dilations = attribute_ints(n, "dilations", {1, 1});
    const std::string auto_pad = attribute_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // SAME is symmetric, whatever the input size, for 1×1 kernels (no padding) and for odd kernels at
      // stride 1 ((k − 1)/2 on each side) — what TensorFlow exporters write for a ResNet's convs.
      const int64_t k = u.weight.size(2), s = attribute_ints(n, "strides", {1, 1})[0];
      if (k != 1 && !(s == 1 && k % 2 == 1))
        fail(i, "auto_pad " + auto_pad + " with a " + std::to_string(k) + "×" + std::to_string(k) +
                    " kernel at stride " + std::to_string(s) +
                    " pads asymmetrically, which resnet.cpp's convs do not do");
      pads.assign(4, (k - 1) / 2);
    } else if (auto_pad == "VALID") {
      pads.assign(4, 0);
    } else if (auto_pad != "NOTSET") {
      fail(i, "unknown auto_pad '" + auto_pad + "'");
    }
    if (kernel.size() != 2 || kernel[0] != kernel[1] || kernel[0] != u.weight.size(2) ||
        u.weight.size(2) != u.weight.size(3))
      fail(i, "only square 2-D kernels matching the weight are supported");
    if (strides.size() != 2 || strides[0] != strides[1]) fail(i, "only equal strides are supported");
    if (dilations != std::vector<int64_t>{1, 1}) fail(i, "dilated convolutions are not part of a ResNet");
    if (pads.size() != 4 || pads[0] != pads[1] || pads[0] != pads[2] || pads[0] != pads[3])
      fail(i, "only equal padding on all sides is supported");
    u.kernel = kernel[0];
    u.stride = strides[0];
    u.pad = pads[0] + extra_pad;
    u.groups = attribute_int(n, "group", 1);
    if (u.pad != u.kernel / 2)
      fail(i, "padding " + std::to_string(u.pad) + " for a " + std::to_string(u.kernel) + "×" +
                  std::to_string(u.kernel) + " kernel: resnet.cpp's convs pad kernel/2");
    u.out = out(i);
    take(i);
    track(u.kernel, u.stride, u.pad);
    return u;
  }

  std::vector<int64_t> pad_amounts(int p) const {
    if (auto t = optional_constant(p, 1, "pads")) {
      const Tensor d = t->dtype() == DType::i64 ? *t : Tensor();
      if (!d.defined()) fail(p, "pads must be int64");
      return {d.data<int64_t>(), d.data<int64_t>() + d.numel()};
    }
    return attribute_ints(node(p), "pads");
  }
  double pad_value(int p) const {
    if (auto t = optional_constant(p, 2, "constant_value")) return t->numel() ? t->get_flat(0) : 0.0;
    return attribute_float(node(p), "value", 0.0f);
  }

  // The BN after conv `u` (or folded into its bias) as `name` in `out`; returns the normalised value.
  std::string take_norm(const ConvUnit& u, const std::string& name, Named& tensors) {
    const int64_t c = u.out_channels();
    const int i = next(u.out);
    if (i >= 0 && op(i) == "BatchNormalization") {
      auto norm = norm_tensors(i);
      if (u.bias.defined()) {  // BN(x + b) = BN with its mean shifted by b
        Tensor mean = norm[2].clone();
        for (int64_t k = 0; k < c; ++k) mean.set_flat(k, mean.get_flat(k) - u.bias.get_flat(k));
        norm[2] = mean;
      }
      add_norm(tensors, name, norm[0], norm[1], norm[2], norm[3]);
      return out(i);
    }
    const Tensor bias = u.bias.defined() ? u.bias.clone().view({c}) : Tensor::zeros({c});
    add_norm(tensors, name, ones(c), bias, Tensor::zeros({c}), Tensor::full({c}, 1.0 - kOurEps));
    return u.out;
  }

  // A BatchNormalization node's (γ, β, mean, var) with its epsilon moved into var.
  std::array<Tensor, 4> norm_tensors(int i) {
    if (attribute_int(node(i), "training_mode", 0) != 0)
      fail(i, "training_mode = 1: export the model in eval mode");
    std::array<Tensor, 4> t{constant_input(i, 1, "scale").clone(), constant_input(i, 2, "bias").clone(),
                            constant_input(i, 3, "mean").clone(), constant_input(i, 4, "var").clone()};
    const double eps = attribute_float(node(i), "epsilon", 1e-5f);
    for (int64_t k = 0; k < t[3].numel(); ++k) {
      const double var = t[3].get_flat(k) + eps - kOurEps;
      if (var <= 0)
        fail(i, "its epsilon is below resnet.cpp's 1e-5 and a variance is too small to absorb it");
      if (eps != static_cast<float>(kOurEps)) t[3].set_flat(k, var);
    }
    take(i);
    return t;
  }

  // A standalone BN (pre-activation nets) on v.
  // A standalone BN (pre-activation nets) on v; v may also feed the block's residual Add.
  std::string take_standalone_norm(const std::string& v, const std::string& name, Named& tensors) {
    int bn = -1;
    for (int c : consumers(v)) {
      if (op(c) == "BatchNormalization" && bn < 0)
        bn = c;
      else if (op(c) != "Add")
        fail(c, "found where BatchNormalization " + name + " (or the residual Add) should be");
    }
    if (bn < 0) fail_value(v, "no BatchNormalization " + name + " where a pre-activation net has one");
    auto t = norm_tensors(bn);
    add_norm(tensors, name, t[0], t[1], t[2], t[3]);
    return out(bn);
  }

  std::string take_relu(const std::string& v, const std::string& role) {
    const int i = only_consumer(v, role);
    expect(i, "Relu", role);
    take(i);
    return out(i);
  }

  void add_conv(Named& tensors, const std::string& name, const ConvUnit& u) {
    tensors.emplace_back(name + ".weight", u.weight);
  }

  // A conv that ends a pre-activation branch or projection: no BN may follow and its bias must be zero.
  void require_no_bias(const ConvUnit& u) const {
    if (!u.bias.defined()) return;
    for (int64_t k = 0; k < u.bias.numel(); ++k)
      if (u.bias.get_flat(k) != 0.0)
        fail(u.node, "has a bias where resnet.cpp's pre-activation convs have none");
  }

  // The conv/BN/ReLU units of a branch starting at conv `first`, until (and excluding) the node the last
  // one feeds. Post-activation: BN after every conv; pre-activation: BN + ReLU before every conv but the
  // first.
  struct Branch {
    std::vector<ConvUnit> convs;
    std::string out;
  };
  Branch take_branch(const ConvUnit& first, bool preact, int units, Block& b) {
    Branch br;
    br.convs.push_back(first);
    std::string v = first.out;
    for (int k = 1; k <= units; ++k) {
      const std::string idx = std::to_string(k);
      const ConvUnit& u = br.convs.back();
      if (preact && k == units) {
        require_no_bias(u);
        add_conv(b.tensors, "conv" + idx, u);
        break;
      }
      add_conv(b.tensors, "conv" + idx, u);
      const std::string norm_name = "bn" + std::to_string(preact ? k + 1 : k);
      v = take_norm(u, norm_name, b.tensors);
      if (k == units) break;
      v = take_relu(v, "ReLU after " + norm_name);
      br.convs.push_back(take_conv(v, "conv" + std::to_string(k + 1)));
      v = br.convs.back().out;
    }
    br.out = v;
    return br;
  }

  // Fills kind-dependent fields from the branch convs.
  void describe_branch(const Branch& br, Block& b, int i_first) {
    const auto& c = br.convs;
    b.out_channels = c.back().out_channels();
    b.stride = 1;
    int strided = 0;
    for (size_t k = 0; k < c.size(); ++k)
      if (c[k].stride != 1) {
        ++strided;
        b.stride = c[k].stride;
        b.stride_in_1x1 = k == 0 && c.size() == 3;
      }
    if (strided > 1 || b.stride > 2)
      fail(i_first, "a block whose branch strides more than once (or by more than 2)");
    for (size_t k = 0; k < c.size(); ++k) {
      const bool grouped_ok = c.size() == 3 && k == 1;
      if (c[k].groups != 1 && !grouped_ok) fail(c[k].node, "grouped convolution outside a bottleneck's 3×3");
      const int64_t expected_kernel = c.size() == 3 ? (k == 1 ? 3 : 1) : 3;
      if (c[k].kernel != expected_kernel)
        fail(c[k].node, "kernel " + std::to_string(c[k].kernel) + " where a " +
                            (c.size() == 3 ? "bottleneck" : "basic block") + " has " +
                            std::to_string(expected_kernel));
    }
    if (c.size() == 3) {
      b.width = c[0].out_channels();
      b.groups = c[1].groups;
    }
  }

  // Shortcut of the block whose input is x, meeting the branch at Add node `add`.
  void take_shortcut(const std::string& x, const std::string& other, Block& b, bool preact) {
    if (other == x) {
      b.shortcut = Shortcut::identity;
      return;
    }
    // Walk back from the Add's other input to x.
    auto it = producer_.find(other);
    if (it == producer_.end())
      fail_value(other, "the residual Add's shortcut does not come from the block's input");
    int i = it->second;
    if (op(i) == "Conv" || op(i) == "BatchNormalization") {
      int conv_node = i;
      if (op(i) == "BatchNormalization") {
        conv_node = producer_.count(inputs_.at(i)[0]) ? producer_.at(inputs_.at(i)[0]) : -1;
        if (conv_node < 0 || op(conv_node) != "Conv")
          fail(i, "a shortcut BN that does not follow a projection conv");
      }
      if (inputs_.at(conv_node).at(0) != x)
        fail(conv_node, "a projection shortcut that does not read the block's input");
      const ConvUnit u = take_conv_node(conv_node, 0, "projection shortcut");
      if (u.kernel != 1 || u.stride != b.stride)
        fail(conv_node, "a projection shortcut that is not a 1×1 conv at the block's stride");
      if (!preact && is_option_a(u)) {
        b.shortcut = Shortcut::option_a;
        return;
      }
      b.shortcut = Shortcut::projection;
      b.projection_norm = !preact;
      if (preact) {
        require_no_bias(u);
        if (op(i) == "BatchNormalization")
          fail(i, "a BN on a pre-activation projection (resnet.cpp's has none)");
        add_conv(b.tensors, "downsample.0", u);
      } else {
        add_conv(b.tensors, "downsample.0", u);
        take_norm(u, "downsample.1", b.tensors);
      }
      return;
    }
    // Option A as Slice(s) + Pad: subsample H and W, zero channels on both sides.
    int64_t step_h = 1, step_w = 1, front = -1, back = -1;
    std::vector<int> chain;
    for (std::string v = other; v != x;) {
      auto p = producer_.find(v);
      if (p == producer_.end())
        fail_value(other, "the residual Add's shortcut does not come from the block's input");
      chain.push_back(p->second);
      v = inputs_.at(p->second).at(0);
    }
    for (int n : chain) {
      if (op(n) == "Slice") {
        // Opset ≥ 10 gives starts/ends/axes/steps as inputs, older opsets as attributes.
        auto from_attribute = [&](const char* name) {
          const auto v = attribute_ints(node(n), name);
          Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::i64);
          std::copy(v.begin(), v.end(), t.data<int64_t>());
          return t;
        };
        const bool inputs = inputs_.at(n).size() > 1;
        const Tensor starts = inputs ? constant_input(n, 1, "starts") : from_attribute("starts");
        const Tensor ends = inputs ? constant_input(n, 2, "ends") : from_attribute("ends");
        const auto axes = inputs                            ? optional_constant(n, 3, "axes")
                          : find_attribute(node(n), "axes") ? std::optional<Tensor>(from_attribute("axes"))
                                                            : std::nullopt;
        const auto steps = inputs ? optional_constant(n, 4, "steps") : std::nullopt;
        for (int64_t k = 0; k < starts.numel(); ++k) {
          int64_t axis = axes ? static_cast<int64_t>(axes->get_flat(k)) : k;
          if (axis < 0) axis += 4;
          const int64_t step = steps ? static_cast<int64_t>(steps->get_flat(k)) : 1;
          const bool whole = starts.get_flat(k) == 0 && ends.get_flat(k) >= kOpenEnd;
          if (!whole) fail(n, "a shortcut Slice that crops (only strided subsampling from 0 is option A)");
          if (axis == 2)
            step_h *= step;
          else if (axis == 3)
            step_w *= step;
          else if (step != 1)
            fail(n, "a shortcut Slice along the batch or channel axis");
        }
      } else if (op(n) == "Pad") {
        const auto pads = pad_amounts(n);
        if (pads.size() != 8 || pad_value(n) != 0 ||
            attribute_string(node(n), "mode", "constant") != "constant")
          fail(n, "a shortcut Pad that is not a zero pad of a 4-D tensor");
        for (int k : {0, 2, 3, 4, 6, 7})
          if (pads[k] != 0) fail(n, "a shortcut Pad of other axes than the channels");
        front = pads[1], back = pads[5];
      } else {
        fail(n, "found on a residual shortcut (expected Conv, BatchNormalization, Slice or Pad)");
      }
      take(n);
    }
    if (step_h != b.stride || step_w != b.stride || front < 0 ||
        front != (b.out_channels - b.in_channels) / 2 || front + back != b.out_channels - b.in_channels)
      fail(chain.front(), "a Slice/Pad shortcut that is not the paper's option A (stride-" +
                              std::to_string(b.stride) +
                              " subsample, zeros split evenly on both sides of the channels)");
    b.shortcut = Shortcut::option_a;
  }

  // resnet.cpp's own option-A export: a bias-free 1×1 conv whose weight selects channel c into c + front.
  bool is_option_a(const ConvUnit& u) const {
    if (u.bias.defined() || next(u.out) < 0 || op(next(u.out)) != "Add" || u.groups != 1) return false;
    const int64_t o = u.weight.size(0), c = u.weight.size(1), front = (o - c) / 2;
    for (int64_t k = 0; k < o; ++k)
      for (int64_t j = 0; j < c; ++j)
        if (u.weight.get_flat(k * c + j) != (k == j + front ? 1.0 : 0.0)) return false;
    return true;
  }

  // The Add whose one input is `branch`; returns its node index and the other input.
  std::pair<int, std::string> take_add(const std::string& branch) {
    const int i = only_consumer(branch, "the residual Add");
    expect(i, "Add", "residual sum");
    const auto& in = inputs_.at(i);
    take(i);
    return {i, in[0] == branch ? in[1] : in[0]};
  }

  // ---------------------------------------------------------------- blocks
  // Classifies the Conv consumers of v: the branch's first conv leads to BN/ReLU, a projection to an Add.
  bool leads_to_add(int conv) const {
    int n = next(out(conv));
    if (n >= 0 && op(n) == "BatchNormalization") n = next(out(n));
    return n >= 0 && op(n) == "Add";
  }

  Block post_block(const std::string& x, int64_t in_channels, std::string& block_out) {
    Block b;
    b.in_channels = in_channels;
    int branch_conv = -1;
    bool has_add_consumer = false;
    for (int c : consumers(x)) {
      if (op(c) == "Conv" && !leads_to_add(c)) {
        if (branch_conv >= 0) fail(c, "a second branch conv on one block input");
        branch_conv = c;
      } else if (op(c) == "Pad" && next(out(c)) >= 0 && op(next(out(c))) == "Conv" &&
                 !leads_to_add(next(out(c)))) {
        branch_conv = c;  // an explicit Pad before the branch conv
      } else {
        has_add_consumer = true;
      }
    }
    if (branch_conv < 0) fail_value(x, "a block input without a branch conv");
    const int64_t h = height_, w = width_;
    ConvUnit first = take_conv_at(branch_conv, "conv1");
    const int units = first.kernel == 1 ? 3 : 2;
    b.kind = units == 3 ? models::BlockKind::bottleneck : models::BlockKind::basic;
    Branch br = take_branch(first, false, units, b);
    describe_branch(br, b, branch_conv);
    if (!has_add_consumer && next(br.out) >= 0 && op(next(br.out)) == "Relu") {
      b.shortcut = Shortcut::none;  // plain block
      block_out = take_relu(br.out, "the block's ReLU");
      return b;
    }
    const auto [add, other] = take_add(br.out);
    const int64_t bh = height_, bw = width_;
    height_ = h, width_ = w;
    take_shortcut(x, other, b, false);
    height_ = bh, width_ = bw;
    block_out = take_relu(out(add), "ReLU after the residual sum");
    return b;
  }

  Block preact_block(const std::string& x, int64_t in_channels, std::string& block_out) {
    Block b;
    b.in_channels = in_channels;
    const std::string tap = take_relu(take_standalone_norm(x, "bn1", b.tensors), "relu1");
    int branch_conv = -1;
    for (int c : consumers(tap))
      if (op(c) == "Conv" && !leads_to_add(c)) branch_conv = c;
    if (branch_conv < 0) fail_value(tap, "a pre-activated block input without a branch conv");
    const int64_t h = height_, w = width_;
    ConvUnit first = take_conv_node(branch_conv, 0, "conv1");
    const int units = first.kernel == 1 ? 3 : 2;
    b.kind = units == 3 ? models::BlockKind::preact_bottleneck : models::BlockKind::preact_basic;
    Branch br = take_branch(first, true, units, b);
    describe_branch(br, b, branch_conv);
    if (b.kind == models::BlockKind::preact_bottleneck && b.groups != 1)
      fail(branch_conv, "a pre-activation bottleneck with a grouped conv");
    if (b.stride_in_1x1) fail(branch_conv, "a pre-activation bottleneck strided on its first 1×1");
    const auto [add, other] = take_add(br.out);
    const int64_t bh = height_, bw = width_;
    height_ = h, width_ = w;
    take_shortcut(other == x ? x : tap, other, b, true);
    height_ = bh, width_ = bw;
    block_out = out(add);
    return b;
  }

  // ---------------------------------------------------------------- head
  bool is_pool(int i) const {
    return i >= 0 && (op(i) == "GlobalAveragePool" || op(i) == "ReduceMean" || op(i) == "AveragePool");
  }

  void take_head(const std::string& x, int64_t channels, Named& tensors, int64_t& classes) {
    const int p = only_consumer(x, "the global average pool");
    bool flat = false;
    if (op(p) == "ReduceMean") {
      auto axes = attribute_ints(node(p), "axes");
      for (auto& a : axes) a = a < 0 ? a + 4 : a;
      std::sort(axes.begin(), axes.end());
      if (axes != std::vector<int64_t>{2, 3}) fail(p, "a ReduceMean over other axes than H and W");
      flat = attribute_int(node(p), "keepdims", 1) == 0;
    } else if (op(p) == "AveragePool") {
      const auto k = attribute_ints(node(p), "kernel_shape");
      const auto pads = attribute_ints(node(p), "pads", {0, 0, 0, 0});
      if (height_ <= 0 || width_ <= 0)
        fail(p,
             "an AveragePool as the final pool needs a static input size to prove it covers the whole map "
             "(export with GlobalAveragePool, or fix the input's H and W)");
      if (k != std::vector<int64_t>{height_, width_} || pads != std::vector<int64_t>{0, 0, 0, 0})
        fail(p, "an AveragePool that does not cover the whole " + std::to_string(height_) + "×" +
                    std::to_string(width_) + " map");
    } else {
      expect(p, "GlobalAveragePool", "global average pool");
    }
    take(p);
    std::string v = out(p);
    for (int i = next(v); !flat && i >= 0 && (op(i) == "Flatten" || op(i) == "Reshape" || op(i) == "Squeeze");
         i = next(v)) {
      if (op(i) == "Flatten" && attribute_int(node(i), "axis", 1) != 1) fail(i, "a Flatten with axis != 1");
      if (op(i) == "Reshape") {
        const auto& shape_in = inputs_.at(i).at(1);
        if (constants_.count(shape_in)) {
          const Tensor s = constants_.at(shape_in);
          const bool ok = s.numel() == 2 &&
                          (s.get_flat(0) == 0 || s.get_flat(0) == -1 || s.get_flat(0) >= 1) &&
                          (s.get_flat(1) == -1 || s.get_flat(1) == channels);
          if (!ok) fail(i, "a Reshape after the pool that is not [N, C]");
        } else if (!shape_values_.count(shape_in)) {
          fail(i, "a Reshape whose shape is neither constant nor computed from the activation's Shape");
        }
      }
      take(i);
      v = out(i);
      flat = true;
    }
    if (!flat)
      fail_value(v, "the pooled [N, C, 1, 1] value reaches the classifier without a Flatten/Reshape");
    const int f = only_consumer(v, "the classifier (Gemm or MatMul)");
    Tensor weight, bias;
    std::string logits = out(f);
    if (op(f) == "Gemm") {
      if (attribute_int(node(f), "transA", 0)) fail(f, "transA = 1 on the classifier");
      Tensor b = constant_input(f, 1, "B");
      if (b.ndim() != 2) fail(f, "B must be 2-D");
      weight = attribute_int(node(f), "transB", 0) ? b.clone() : transposed(b);
      const double alpha = attribute_float(node(f), "alpha", 1.0f),
                   beta = attribute_float(node(f), "beta", 1.0f);
      if (alpha != 1.0) scale(weight, alpha);
      bias = Tensor::zeros({weight.size(0)});
      if (auto c = optional_constant(f, 2, "C")) {
        if (c->numel() != 1 && c->numel() != weight.size(0)) fail(f, "a bias C of the wrong size");
        for (int64_t k = 0; k < weight.size(0); ++k)
          bias.set_flat(k, beta * c->get_flat(c->numel() == 1 ? 0 : k));
      }
    } else if (op(f) == "MatMul") {
      const Tensor b = constant_input(f, 1, "B");
      if (b.ndim() != 2) fail(f, "the classifier's weight must be 2-D");
      weight = transposed(b);
      bias = Tensor::zeros({weight.size(0)});
      const int a = next(logits);
      if (a >= 0 && op(a) == "Add") {
        const auto& in = inputs_.at(a);
        const std::string other = in[0] == logits ? in[1] : in[0];
        if (!constants_.count(other) || constants_.at(other).numel() != weight.size(0))
          fail(a,
               "the classifier's bias must be a constant of " + std::to_string(weight.size(0)) + " values");
        for (int64_t k = 0; k < weight.size(0); ++k) bias.set_flat(k, constants_.at(other).get_flat(k));
        take(a);
        logits = out(a);
      }
    } else {
      fail(f, "found where the classifier (Gemm, or MatMul + Add) should be");
    }
    take(f);
    if (weight.size(1) != channels)
      fail(f, "the classifier takes " + std::to_string(weight.size(1)) + " features but the network has " +
                  std::to_string(channels));
    // A final Softmax is dropped: resnet.cpp's networks output logits (predict applies the softmax itself;
    // the argmax, and so accuracy, is the same).
    if (const int sm = next(logits); sm >= 0 && op(sm) == "Softmax") {
      const int64_t axis = attribute_int(node(sm), "axis", -1);
      if (axis != -1 && axis != 1) fail(sm, "a final Softmax over another axis than the classes");
      take(sm);
      softmax_dropped_ = true;
      if (consumers(out(sm)).empty()) {
        bool is_output = false;
        for (const auto& o : g_.output()) is_output = is_output || resolve(o.name()) == out(sm);
        if (!is_output) fail(sm, "the final Softmax's output is not the graph's output");
        tensors.emplace_back("fc.weight", weight);
        tensors.emplace_back("fc.bias", bias);
        classes = weight.size(0);
        return;
      }
    }
    if (!consumers(logits).empty())
      fail_value(logits, "the logits feed further nodes that resnet.cpp does not model");
    bool is_output = false;
    for (const auto& o : g_.output()) is_output = is_output || resolve(o.name()) == logits;
    if (!is_output) fail_value(logits, "the classifier's output is not the graph's output");
    tensors.emplace_back("fc.weight", weight);
    tensors.emplace_back("fc.bias", bias);
    classes = weight.size(0);
  }

  static Tensor transposed(const Tensor& m) {
    Tensor t = Tensor::empty({m.size(1), m.size(0)});
    for (int64_t i = 0; i < m.size(0); ++i)
      for (int64_t j = 0; j < m.size(1); ++j) t.set_flat(j * m.size(0) + i, m.get_flat(i * m.size(1) + j));
    return t;
  }
  static void scale(Tensor& t, double s) {
    for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, t.get_flat(i) * s);
  }

  // ---------------------------------------------------------------- the whole network
  ImportedModel recognise() {
    std::string input;
    for (const auto& in : g_.input())
      if (!constants_.count(in.name())) {
        if (!input.empty())
          fail_value(in.name(),
                     "a second graph input without a value: a ResNet has one input (the images). If it is a "
                     "weight, the file was written without its weights (torch.onnx.export(..., "
                     "export_params=False)): export it again with them");
        input = in.name();
        const auto& shape = in.type().tensor_type().shape();
        if (in.type().tensor_type().elem_type() != pb::TensorProto::FLOAT || shape.dim_size() != 4)
          fail_value(input, "the graph input must be float [N, C, H, W]");
        height_ = shape.dim(2).dim_value();
        width_ = shape.dim(3).dim_value();
      }
    if (input.empty()) throw UserError("'" + path_ + "' has no graph input");
    const int64_t input_h = height_, input_w = width_;

    // Post- or pre-activation: after a pre-activation block's sum comes no ReLU.
    bool preact = false;
    for (int i : live_)
      if (op(i) == "Add" && !constants_.count(inputs_.at(i)[1]) && !constants_.count(inputs_.at(i)[0])) {
        const int n = next(out(i));
        preact = !(n >= 0 && op(n) == "Relu");
        break;
      }

    Named tensors;
    models::ResNetSpec spec;
    const ConvUnit stem = take_conv(input, "the stem conv");
    spec.in_channels = stem.weight.size(1);
    spec.stem_width = stem.out_channels();
    if (stem.groups != 1) fail(stem.node, "a grouped stem conv");
    std::string x = stem.out;
    add_conv(tensors, "conv1", stem);
    if (preact) {
      require_no_bias(stem);
    } else {
      x = take_relu(take_norm(stem, "bn1", tensors), "the stem's ReLU");
    }
    if (stem.kernel == 7 && stem.stride == 2) {
      int m = only_consumer(x, "the stem's max-pool");
      std::vector<int64_t> pool_pads{1, 1, 1, 1};
      if (op(m) == "Pad" && !preact) {
        // An explicit zero Pad (TensorFlow's ZeroPadding2D) before the pool: the input is a ReLU's output,
        // ≥ 0, so zeros never win a max and the pair is the padded max-pool.
        const auto pads = pad_amounts(m);
        const bool one = pads == std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1} && pad_value(m) == 0 &&
                         attribute_string(node(m), "mode", "constant") == "constant";
        if (!one) fail(m, "a Pad before the stem max-pool that is not a zero pad of 1 on H and W");
        take(m);
        m = only_consumer(out(m), "the stem's max-pool");
        pool_pads = {0, 0, 0, 0};
      }
      expect(m, "MaxPool", "stem max-pool (3×3, stride 2, pad 1)");
      const auto& n = node(m);
      if (attribute_ints(n, "kernel_shape") != std::vector<int64_t>{3, 3} ||
          attribute_ints(n, "strides", {1, 1}) != std::vector<int64_t>{2, 2} ||
          attribute_ints(n, "pads", {0, 0, 0, 0}) != pool_pads || attribute_int(n, "ceil_mode", 0) != 0 ||
          n.output_size() > 1)
        fail(m, "the stem max-pool must be 3×3, stride 2, pad 1 (torchvision's)");
      take(m);
      track(3, 2, 1);
      x = out(m);
      spec.imagenet_stem = true;
    } else if (stem.kernel != 3 || stem.stride != 1) {
      fail(stem.node, "a stem conv of " + std::to_string(stem.kernel) + "×" + std::to_string(stem.kernel) +
                          " stride " + std::to_string(stem.stride) +
                          ": resnet.cpp knows 7×7/2 + max-pool (ImageNet) and 3×3/1 (small images)");
    }

    std::vector<Block> blocks;
    int64_t channels = spec.stem_width;
    for (;;) {
      const int n = next(x);
      if (!preact && is_pool(n)) break;
      if (preact && n >= 0 && op(n) == "BatchNormalization") {
        const int r = next(out(n));
        if (r >= 0 && op(r) == "Relu" && is_pool(next(out(r)))) {
          x = take_relu(take_standalone_norm(x, "final_bn", tensors), "final_relu");
          break;
        }
      }
      std::string block_out;
      blocks.push_back(preact ? preact_block(x, channels, block_out) : post_block(x, channels, block_out));
      channels = blocks.back().out_channels;
      x = block_out;
    }
    if (blocks.empty()) fail_value(x, "no residual blocks between the stem and the pool");
    take_head(x, channels, tensors, spec.num_classes);

    build_spec(blocks, spec, tensors);
    for (int i : live_)
      if (!taken_.count(i))
        fail(i, "is not part of the recognised ResNet structure (a branch resnet.cpp cannot model)");

    ImportedModel m;
    m.spec = spec;
    m.tensors = std::move(tensors);
    m.card = make_card(spec, input_h, input_w);
    m.summary = summarise(spec) + (softmax_dropped_ ? "; final Softmax dropped (logits)" : "");
    return m;
  }

  void build_spec(const std::vector<Block>& blocks, models::ResNetSpec& spec, Named& tensors) {
    spec.block = blocks[0].kind;
    bool any_a = false, any_projection = false, any_plain = false, any_residual = false;
    std::map<int64_t, int> width_factors;
    std::optional<bool> in_1x1;
    int stage = 0, index = 0;
    for (size_t k = 0; k < blocks.size(); ++k) {
      const Block& b = blocks[k];
      if (b.kind != spec.block)
        throw UserError("'" + path_ + "': block " + std::to_string(k) +
                        " is of another kind than block 0: resnet.cpp nets use one block kind");
      if (k > 0 && b.stride == 2)
        ++stage, index = 0;
      else if (k == 0 && b.stride != 1)
        throw UserError(
            "'" + path_ +
            "': the first block is strided; resnet.cpp's first stage keeps the stem's resolution");
      const bool bottleneck =
          b.kind == models::BlockKind::bottleneck || b.kind == models::BlockKind::preact_bottleneck;
      const int64_t planes = std::max<int64_t>(1, bottleneck ? b.out_channels / 4 : b.out_channels);
      // A stage's width is its first block's; blocks that differ (a pruned net) get conv_widths below.
      if (static_cast<int>(spec.widths.size()) == stage) {
        spec.widths.push_back(planes);
        spec.blocks_per_stage.push_back(0);
      }
      ++spec.blocks_per_stage[stage];
      if (b.kind == models::BlockKind::bottleneck) {
        if (k > 0 && spec.groups != b.groups)
          throw UserError("'" + path_ + "': bottlenecks of different group counts in one network");
        spec.groups = b.groups;
        // The width factor most blocks agree on; the others' widths become conv_widths.
        if (b.width * 64 % (planes * b.groups) == 0) ++width_factors[b.width * 64 / (planes * b.groups)];
      }
      if (b.stride != 1 && bottleneck) {
        if (in_1x1 && *in_1x1 != b.stride_in_1x1)
          throw UserError("'" + path_ + "': strides on the 1×1 in some blocks and on the 3×3 in others");
        in_1x1 = b.stride_in_1x1;
      }
      any_a = any_a || b.shortcut == Shortcut::option_a;
      any_projection = any_projection || b.shortcut == Shortcut::projection;
      any_plain = any_plain || b.shortcut == Shortcut::none;
      any_residual = any_residual || b.shortcut != Shortcut::none;
      const std::string prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(index) + ".";
      for (const auto& [name, t] : b.tensors) tensors.emplace_back(prefix + name, t);
      ++index;
    }
    if (any_a && any_projection)
      throw UserError("'" + path_ + "': option-A and projection shortcuts mixed in one network");
    if (any_plain && any_residual)
      throw UserError("'" + path_ + "': some blocks have shortcuts and some none");
    spec.shortcut = any_plain ? nn::ShortcutKind::none : any_a ? nn::ShortcutKind::A : nn::ShortcutKind::B;
    int votes = 0;
    for (const auto& [factor, n] : width_factors)
      if (n > votes) spec.width_per_group = factor, votes = n;
    spec.stride_in_1x1 = in_1x1.value_or(false);
    take_conv_widths(blocks, spec, tensors);
  }

  // A conv whose weight is wider or narrower than the spec's design gets its own width (a pruned net), and
  // the architecture must then describe what was recognised: the same shortcut in every block.
  void take_conv_widths(const std::vector<Block>& blocks, models::ResNetSpec& spec, const Named& tensors) {
    std::map<std::string, int64_t> outputs;
    for (const auto& [name, t] : tensors)
      if (t.ndim() == 4 && name.ends_with(".weight")) outputs[name.substr(0, name.size() - 7)] = t.size(0);
    const models::Architecture design = models::architecture_of(spec);
    for (const models::ConvLayer* c : design.convs())
      if (const auto it = outputs.find(c->name); it != outputs.end() && it->second != c->out_channels)
        spec.conv_widths[c->name] = it->second;
    const models::Architecture a = models::architecture_of(spec);
    for (size_t k = 0; k < blocks.size() && k < a.blocks.size(); ++k)
      if (blocks[k].shortcut != a.blocks[k].shortcut)
        throw UserError("'" + path_ + "': block " + a.blocks[k].name +
                        "'s shortcut differs from what its widths imply in a ResNet (a projection where the "
                        "design has an identity, or the reverse): resnet.cpp cannot describe this network");
  }

  // The card: the one resnet.cpp embedded when it exported the file, else what other tools' metadata
  // say, else defaults; the recognised spec decides the network either way.
  models::ModelCard make_card(const models::ResNetSpec& spec, int64_t h, int64_t w) const {
    nlohmann::json info = nlohmann::json::object();
    std::map<std::string, std::string> meta;
    for (const auto& p : model_.metadata_props()) meta[p.key()] = p.value();
    if (meta.count("resnet.cpp.info")) {
      auto j = nlohmann::json::parse(meta["resnet.cpp.info"], nullptr, false);
      if (j.is_object()) info = j;
    }
    auto json_meta = [&](const std::string& key) {
      if (!meta.count(key)) return nlohmann::json();
      auto j = nlohmann::json::parse(meta[key], nullptr, false);
      return j.is_discarded() ? nlohmann::json() : j;
    };
    if (!info.contains("model")) info["model"] = std::filesystem::path(path_).stem().string();
    info["num_classes"] = spec.num_classes;
    info["in_channels"] = spec.in_channels;
    if (!info.contains("input_size")) {
      auto size = json_meta("input_size");
      const int64_t fallback = spec.imagenet_stem ? 224 : 32;
      info["input_size"] = size.is_array() && size.size() == 3
                               ? size
                               : nlohmann::json{spec.in_channels, h > 0 ? h : fallback, w > 0 ? w : fallback};
    }
    auto names = info.contains("class_names") ? info["class_names"] : json_meta("class_names");
    if (!names.is_array() || static_cast<int64_t>(names.size()) != spec.num_classes) {
      names = nlohmann::json::array();
      for (int64_t k = 0; k < spec.num_classes; ++k) names.push_back("class " + std::to_string(k));
    }
    info["class_names"] = names;
    if (!info.contains("eval_transforms")) {
      const auto mean = json_meta("mean"), stdev = json_meta("std");
      info["eval_transforms"] = nlohmann::json::array();
      if (mean.is_array() && stdev.is_array()) {
        info["mean"] = mean, info["std"] = stdev;
        auto list = [](const nlohmann::json& v) {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i].get<double>());
          return s + "]";
        };
        info["eval_transforms"].push_back("normalize(mean=" + list(mean) + ", std=" + list(stdev) + ")");
      }
    }
    if (!info.contains("dataset")) info["dataset"] = "";
    info["spec"] = models::spec_to_json(spec);
    info.erase("imported_from");
    info["source"] = {{"file", path_}, {"format", "onnx"}};
    return models::model_card_from_json(info, path_);
  }

  static std::string summarise(const models::ResNetSpec& s) {
    static const char* kinds[] = {"basic", "bottleneck", "pre-activation basic", "pre-activation bottleneck"};
    std::string out = std::string(kinds[static_cast<int>(s.block)]) + " blocks [";
    for (size_t i = 0; i < s.blocks_per_stage.size(); ++i)
      out += (i ? ", " : "") + std::to_string(s.blocks_per_stage[i]);
    out += "], widths [";
    for (size_t i = 0; i < s.widths.size(); ++i) out += (i ? ", " : "") + std::to_string(s.widths[i]);
    out += "]";
    if (s.groups > 1 || s.width_per_group != 64)
      out += ", " + std::to_string(s.groups) + "×" + std::to_string(s.width_per_group) + "d";
    out += s.shortcut == nn::ShortcutKind::A      ? ", option-A shortcuts"
           : s.shortcut == nn::ShortcutKind::none ? ", plain (no shortcuts)"
                                                  : ", projection shortcuts";
    if (s.stride_in_1x1) out += ", stride on the first 1×1";
    out += s.imagenet_stem ? ", ImageNet stem" : ", 3×3 stem";
    out += ", " + std::to_string(s.in_channels) + " input channels, " + std::to_string(s.num_classes) +
           " classes";
    return out;
  }
};

}  // namespace

ImportedModel import_onnx(const std::string& path) {
  const pb::ModelProto model = read_model(path);
  return Recogniser(model, path).run();
}

models::Checkpoint import_checkpoint(const std::string& path) {
  ImportedModel imported = import_onnx(path);
  models::Checkpoint c;
  c.file.path = path;
  c.file.tensors = std::move(imported.tensors);
  c.card = std::move(imported.card);
  return c;
}

void register_checkpoint_reader() {
  models::register_checkpoint_reader(".onnx", &import_checkpoint);
}

namespace {
// Any program linking this file reads .onnx wherever a checkpoint is wanted.
const bool registered_at_start = (register_checkpoint_reader(), true);
}  // namespace

}  // namespace resnet::onnx
