#include "resnet/onnx/export.h"

#include <algorithm>
#include <cmath>

#include "onnx/proto.h"
#include "resnet/io/atomic_file.h"
#include "resnet/models/architecture.h"
#include "resnet/models/spec_json.h"
#include "resnet/nn/fold.h"
#include "resnet/version.h"

namespace resnet::onnx {
namespace {

// Builds the graph node by node; values are named after the module that produced them.
class GraphWriter {
 public:
  GraphWriter(models::ResNet& model, pb::GraphProto* graph, bool fold_bn, const infer::Calibration* int8)
      : model_(model), graph_(graph), fold_bn_(fold_bn || int8), int8_(int8) {}

  template <class M>
  M& module(const std::string& name) {
    auto* m = dynamic_cast<M*>(model_.find_module(name));
    RESNET_CHECK(m) << "module " << name << " missing or of another type";
    return *m;
  }

  std::string initializer(const std::string& name, const Tensor& value) {
    tensor_to_proto(name, value, graph_->add_initializer());
    return name;
  }

  pb::NodeProto* node(const std::string& op, const std::string& name, std::vector<std::string> inputs) {
    auto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : inputs) n->add_input(i);
    n->add_output(name);
    return n;
  }
  static void ints(pb::NodeProto* n, const std::string& name, std::vector<int64_t> values) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void integer(pb::NodeProto* n, const std::string& name, int64_t value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto::INT);
    a->set_i(value);
  }
  static void real(pb::NodeProto* n, const std::string& name, float value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto::FLOAT);
    a->set_f(value);
  }

  pb::NodeProto* conv_node(const std::string& name, const std::string& x, const std::string& w,
                           const std::string& b, const Shape& w_shape, int64_t stride, int64_t pad,
                           int64_t groups) {
    std::vector<std::string> inputs{x, w};
    if (!b.empty()) inputs.push_back(b);
    auto* n = node("Conv", name, inputs);
    ints(n, "kernel_shape", {w_shape[2], w_shape[3]});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {pad, pad, pad, pad});
    ints(n, "dilations", {1, 1});
    integer(n, "group", groups);
    return n;
  }

  Tensor tensor_of(const std::vector<float>& data, Shape shape) {
    Tensor t = Tensor::empty(std::move(shape));
    std::copy(data.begin(), data.end(), t.data<float>());
    return t;
  }

  // int8: how the engine stores the output of its step `key` (a calibration key, infer/engine.h).
  infer::TensorQuantisation quantisation(const std::string& key) const {
    const auto it = int8_->ranges.find(key);
    if (it == int8_->ranges.end())
      throw UserError("the calibration has no range for step '" + key +
                      "': it was made for another model; calibrate this one (resnet quantize)");
    return infer::tensor_quantisation(it->second);
  }

  // int8: x through QuantizeLinear → DequantizeLinear ("NAME.quantize", "NAME.dequantize") with the
  // engine's scale and zero point 0 of its type for step `key`; returns the dequantised value. fp32: x.
  std::string qdq(const std::string& name, const std::string& x, const std::string& key) {
    if (!int8_) return x;
    const infer::TensorQuantisation q = quantisation(key);
    const std::string scale = initializer(name + ".scale", Tensor::full(Shape{}, q.scale));
    const std::string zero =
        initializer(name + ".zero_point", Tensor::zeros(Shape{}, q.is_unsigned ? DType::u8 : DType::s8));
    node("QuantizeLinear", name + ".quantize", {x, scale, zero});
    node("DequantizeLinear", name + ".dequantize", {name + ".quantize", scale, zero});
    return name + ".dequantize";
  }

  // A conv's weight: an f32 initializer NAME.weight, or (int8) NAME.weight as int8 with one scale per
  // output channel (NAME.weight_scale, max |w| / 127, as the engine's) through a DequantizeLinear (axis 0).
  std::string conv_weight(const std::string& name, const std::vector<float>& w, const Shape& shape,
                          const std::string& suffix = ".weight") {
    if (!int8_) return initializer(name + suffix, tensor_of(w, shape));
    const int64_t outs = shape[0], per_out = shape.numel() / outs;
    Tensor q = Tensor::empty(shape, DType::s8);
    Tensor scales = Tensor::empty({outs});
    for (int64_t o = 0; o < outs; ++o) {
      const float* row = w.data() + o * per_out;
      const float s = infer::weight_scale(row, per_out);
      scales.data<float>()[o] = s;
      for (int64_t i = 0; i < per_out; ++i)
        q.data<int8_t>()[o * per_out + i] = static_cast<int8_t>(std::nearbyint(row[i] / s));  // |.| <= 127
    }
    auto* n = node("DequantizeLinear", name + suffix + ".dequantize",
                   {initializer(name + suffix, q), initializer(name + suffix + "_scale", scales),
                    initializer(name + suffix + "_zero_point", Tensor::zeros({outs}, DType::s8))});
    integer(n, "axis", 0);
    return n->output(0);
  }

  // A conv unit on x: the conv with its BN folded in or as its own node, then its ReLU.
  std::string unit(const models::ConvUnit& u, const std::string& x) {
    auto& c = module<nn::Conv2d>(u.conv.name);
    RESNET_CHECK(c.options().dilation == 1) << u.conv.name;
    const bool fold = !u.norm.empty() && fold_bn_;
    const nn::FoldedConv f = nn::fold_batch_norm(c, fold ? &module<nn::BatchNorm2d>(u.norm) : nullptr);
    const Shape w_shape = c.weight().value().shape();
    const std::string wname = conv_weight(u.conv.name, f.weight, w_shape);
    const std::string bname =
        fold || c.bias() ? initializer(u.conv.name + ".bias", tensor_of(f.bias, {w_shape[0]})) : "";
    conv_node(u.conv.name, x, wname, bname, w_shape, u.conv.stride, u.conv.padding, u.conv.groups);
    std::string y = u.conv.name;
    if (!u.norm.empty() && !fold_bn_) y = batch_norm(u.norm, y);
    return u.relu.empty() ? y : relu(u.relu, y);
  }

  std::string batch_norm(const std::string& name, const std::string& x) {
    auto& norm = module<nn::BatchNorm2d>(name);
    const int64_t c = norm.running_mean().numel();
    const Tensor gamma = norm.weight() ? norm.weight()->value() : Tensor::full({c}, 1.0);
    const Tensor beta = norm.bias() ? norm.bias()->value() : Tensor::zeros({c});
    auto* n = node("BatchNormalization", name,
                   {x, initializer(name + ".weight", gamma), initializer(name + ".bias", beta),
                    initializer(name + ".running_mean", norm.running_mean()),
                    initializer(name + ".running_var", norm.running_var())});
    real(n, "epsilon", static_cast<float>(norm.eps()));
    return name;
  }

  std::string relu(const std::string& name, const std::string& x) {
    node("Relu", name, {x});
    return name;
  }
  std::string add(const std::string& name, const std::string& a, const std::string& b) {
    node("Add", name, {a, b});
    return name;
  }

  // The block's shortcut value for input x (`tap`: the pre-activated input of a pre-activation block).
  std::string shortcut(const models::Block& b, const std::string& x, const std::string& tap) {
    switch (b.shortcut) {
      case models::Shortcut::option_a: {
        const std::string name = b.name + ".downsample";
        const Shape shape{b.out_channels, b.in_channels, 1, 1};
        const std::string w =
            conv_weight(name, models::option_a_selection(b.in_channels, b.out_channels), shape, ".selection");
        conv_node(name, x, w, "", shape, b.stride, 0, 1);
        return qdq(name, name, name + " (option A)");  // the engine's step name
      }
      case models::Shortcut::projection:
        // The engine's step (calibration key) for a projection is the block's "downsample".
        return qdq(b.projection.conv.name, unit(b.projection, b.projection_reads_preactivation ? tap : x),
                   b.name + ".downsample");
      default:
        return x;
    }
  }

  void build() {
    const models::Architecture& a = model_.architecture();
    if (int8_ && model_.spec().pre_activation())
      throw UserError(
          "int8 export supports post-activation ResNets (those the int8 engine runs); this pre-activation "
          "net exports in fp32 (drop --int8)");
    // int8: each value the engine keeps in int8 goes through a Q/DQ pair named after the step (qdq()).
    std::string x = unit(a.stem, qdq("input", "input", "input"));
    x = qdq(a.stem.conv.name, x, a.stem.conv.name);
    if (a.max_pool) {
      auto* n = node("MaxPool", "maxpool", {x});
      ints(n, "kernel_shape", {3, 3});
      ints(n, "strides", {2, 2});
      ints(n, "pads", {1, 1, 1, 1});
      x = qdq("maxpool", "maxpool", a.stem.conv.name);  // the engine's pool keeps its input's scale
    }
    for (const models::Block& b : a.blocks) {
      const std::string tap = b.pre_norm.empty() ? x : relu(b.pre_relu, batch_norm(b.pre_norm, x));
      std::string y = tap;
      for (size_t i = 0; i < b.branch.size(); ++i) {
        const models::ConvUnit& u = b.branch[i];
        y = unit(u, y);
        if (i + 1 < b.branch.size()) y = qdq(u.conv.name, y, u.conv.name);
      }
      if (!b.add.empty()) y = add(b.add, y, shortcut(b, x, tap));
      if (!b.relu_after.empty()) y = relu(b.relu_after, y);
      // The block's last conv writes the sum (and its ReLU): the step named after that conv.
      x = qdq(b.branch.back().conv.name, y, b.branch.back().conv.name);
    }
    if (!a.final_norm.empty()) x = relu(a.final_relu, batch_norm(a.final_norm, x));
    node("GlobalAveragePool", "avgpool", {x});
    integer(node("Flatten", "flatten", {"avgpool"}), "axis", 1);
    auto& fc = module<nn::Linear>("fc");
    const Tensor bias = fc.bias() ? fc.bias()->value() : Tensor::zeros({fc.weight().value().size(0)});
    auto* gemm =
        node("Gemm", "fc",
             {"flatten", initializer("fc.weight", fc.weight().value()), initializer("fc.bias", bias)});
    integer(gemm, "transB", 1);
    gemm->set_output(0, "logits");
  }

 private:
  models::ResNet& model_;
  pb::GraphProto* graph_;
  bool fold_bn_;
  const infer::Calibration* int8_;
};

void set_value_info(pb::ValueInfoProto* v, const std::string& name, std::vector<std::string> symbolic,
                    std::vector<int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(pb::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* d = shape->add_dim();
    if (dims[i] > 0)
      d->set_dim_value(dims[i]);
    else
      d->set_dim_param(symbolic[i]);
  }
}

}  // namespace

void export_onnx(models::ResNet& model, const std::string& path, const ExportOptions& options) {
  const auto& spec = model.spec();
  pb::ModelProto m;
  m.set_ir_version(7);  // the IR of opset 13
  m.set_producer_name("resnet.cpp");
  m.set_producer_version(version());
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* graph = m.mutable_graph();
  graph->set_name("resnet");
  GraphWriter(model, graph, options.fold_bn, options.int8).build();
  set_value_info(graph->add_input(), "input", {"N", "", "H", "W"},
                 {0, spec.in_channels, options.height, options.width});
  set_value_info(graph->add_output(), "logits", {"N", ""}, {0, spec.num_classes});

  models::ModelCard card = options.card;
  card.spec = spec;
  const nlohmann::json info = models::model_card_to_json(card);
  auto meta = [&](const std::string& key, const std::string& value) {
    auto* p = m.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  };
  meta("resnet.cpp.info", info.dump());
  for (const char* key : {"model", "class_names", "mean", "std", "input_size"})
    if (info.contains(key))
      meta(key, info.at(key).is_string() ? info.at(key).get<std::string>() : info.at(key).dump());
  meta("bn_folded", options.fold_bn || options.int8 ? "true" : "false");
  meta("resnet.cpp.precision", options.int8 ? "int8" : "fp32");

  std::string bytes;
  RESNET_CHECK(m.SerializeToString(&bytes)) << "protobuf serialisation failed";
  io::write_file_atomically(path, [&](const io::ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

}  // namespace resnet::onnx
