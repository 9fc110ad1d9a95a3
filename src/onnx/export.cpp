#include "resnet/onnx/export.h"

#include <algorithm>
#include <cmath>

#include "onnx/proto.h"
#include "resnet/io/atomic_file.h"
#include "resnet/models/spec_json.h"
#include "resnet/version.h"

namespace resnet::onnx {
namespace {

// Builds the graph node by node; values are named after the module that produced them.
class GraphWriter {
 public:
  GraphWriter(models::ResNet& model, pb::GraphProto* graph, bool fold_bn)
      : model_(model), graph_(graph), fold_bn_(fold_bn) {}

  template <class M>
  M& module(const std::string& name) {
    auto* m = dynamic_cast<M*>(model_.find_module(name));
    RESNET_CHECK(m) << "module " << name << " missing or of another type";
    return *m;
  }
  bool has(const std::string& name) { return model_.find_module(name) != nullptr; }

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

  // conv `name` on x, then the BN `bn` when given: folded into the conv, or as its own node.
  std::string conv(const std::string& name, const std::string& x, const std::string& bn = "") {
    auto& c = module<nn::Conv2d>(name);
    const auto& o = c.options();
    RESNET_CHECK(o.dilation == 1) << name;
    Tensor w = c.weight().value().clone(Layout::contiguous);
    Tensor b = c.bias() ? c.bias()->value().clone(Layout::contiguous) : Tensor();
    if (!bn.empty() && fold_bn_) {
      auto& norm = module<nn::BatchNorm2d>(bn);
      const int64_t out = w.size(0), per_out = w.numel() / out;
      Tensor folded_b = Tensor::empty({out});
      float* wd = w.data<float>();
      for (int64_t k = 0; k < out; ++k) {
        const double gamma = norm.weight() ? norm.weight()->value().get_flat(k) : 1.0;
        const double beta = norm.bias() ? norm.bias()->value().get_flat(k) : 0.0;
        const double scale = gamma / std::sqrt(norm.running_var().get_flat(k) + norm.eps());
        for (int64_t i = 0; i < per_out; ++i)
          wd[k * per_out + i] = static_cast<float>(wd[k * per_out + i] * scale);
        const double bias = b.defined() ? b.get_flat(k) : 0.0;
        folded_b.set_flat(k, (bias - norm.running_mean().get_flat(k)) * scale + beta);
      }
      b = folded_b;
    }
    const std::string wname = initializer(name + ".weight", w);
    const std::string bname = b.defined() ? initializer(name + ".bias", b) : "";
    conv_node(name, x, wname, bname, w.shape(), o.stride, o.padding, o.groups);
    if (bn.empty() || fold_bn_) return name;
    return batch_norm(bn, name);
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
  std::string shortcut(const std::string& block, const std::string& x, const std::string& tap,
                       int64_t in_channels) {
    const std::string ds = block + ".downsample";
    nn::Module* m = model_.find_module(ds);
    if (!m) return x;
    if (dynamic_cast<nn::ShortcutA*>(m)) {
      // The block's stride is the one strided conv of its branch; its output width that of the last conv.
      int64_t stride = 1;
      for (const char* c : {".conv1", ".conv2", ".conv3"})
        if (has(block + c)) stride = std::max(stride, module<nn::Conv2d>(block + c).options().stride);
      const std::string last = has(block + ".conv3") ? block + ".conv3" : block + ".conv2";
      const int64_t out = module<nn::Conv2d>(last).options().out_channels;
      const int64_t front = (out - in_channels) / 2;
      Tensor w = Tensor::zeros({out, in_channels, 1, 1});
      for (int64_t c = 0; c < in_channels; ++c) w.set_flat((c + front) * in_channels + c, 1.0);
      conv_node(ds, x, initializer(ds + ".selection", w), "", w.shape(), stride, 0, 1);
      return ds;
    }
    const bool has_norm = has(ds + ".1");
    return conv(ds + ".0", tap, has_norm ? ds + ".1" : "");
  }

  void build() {
    const auto& spec = model_.spec();
    std::string x = "input";
    const bool preact =
        spec.block == models::BlockKind::preact_basic || spec.block == models::BlockKind::preact_bottleneck;
    x = preact ? conv("conv1", x) : relu("relu", conv("conv1", x, "bn1"));
    if (spec.imagenet_stem) {
      auto* n = node("MaxPool", "maxpool", {x});
      ints(n, "kernel_shape", {3, 3});
      ints(n, "strides", {2, 2});
      ints(n, "pads", {1, 1, 1, 1});
      x = "maxpool";
    }
    int64_t channels = spec.stem_width;
    const bool plain = spec.shortcut == nn::ShortcutKind::none && !preact;
    for (size_t s = 0; s < spec.blocks_per_stage.size(); ++s) {
      for (int b = 0; b < spec.blocks_per_stage[s]; ++b) {
        const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
        std::string y;
        switch (spec.block) {
          case models::BlockKind::basic:
            y = conv(p + ".conv1", x, p + ".bn1");
            y = conv(p + ".conv2", relu(p + ".relu1", y), p + ".bn2");
            break;
          case models::BlockKind::bottleneck:
            y = conv(p + ".conv1", x, p + ".bn1");
            y = conv(p + ".conv2", relu(p + ".relu1", y), p + ".bn2");
            y = conv(p + ".conv3", relu(p + ".relu2", y), p + ".bn3");
            break;
          case models::BlockKind::preact_basic: {
            const std::string tap = relu(p + ".relu1", batch_norm(p + ".bn1", x));
            y = conv(p + ".conv1", tap, p + ".bn2");
            y = conv(p + ".conv2", relu(p + ".relu2", y));
            y = add(p + ".add", y, shortcut(p, x, tap, channels));
            break;
          }
          case models::BlockKind::preact_bottleneck: {
            const std::string tap = relu(p + ".relu1", batch_norm(p + ".bn1", x));
            y = conv(p + ".conv1", tap, p + ".bn2");
            y = conv(p + ".conv2", relu(p + ".relu2", y), p + ".bn3");
            y = conv(p + ".conv3", relu(p + ".relu3", y));
            y = add(p + ".add", y, shortcut(p, x, tap, channels));
            break;
          }
        }
        if (!preact)
          y = plain ? relu(p + ".relu", y)
                    : relu(p + ".relu", add(p + ".add", y, shortcut(p, x, x, channels)));
        channels = module<nn::Conv2d>(has(p + ".conv3") ? p + ".conv3" : p + ".conv2").options().out_channels;
        x = y;
      }
    }
    if (preact) x = relu("final_relu", batch_norm("final_bn", x));
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
  GraphWriter(model, graph, options.fold_bn).build();
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
  meta("bn_folded", options.fold_bn ? "true" : "false");

  std::string bytes;
  RESNET_CHECK(m.SerializeToString(&bytes)) << "protobuf serialisation failed";
  io::write_file_atomically(path, [&](const io::ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

}  // namespace resnet::onnx
