#include "resnet/ops/backend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

namespace resnet::ops {
namespace {

#define RESNET_OP_TABLE(ns)                                                                          \
  OpTable {                                                                                          \
    ns::conv2d_forward, ns::conv2d_backward, ns::batch_norm_forward_training,                        \
        ns::batch_norm_backward_training, ns::batch_norm_forward_inference,                          \
        ns::batch_norm_backward_inference, ns::batch_norm_relu_forward_training,                     \
        ns::batch_norm_relu_backward_training, ns::relu_forward, ns::relu_backward, ns::add_forward, \
        ns::add_backward, ns::add_relu_forward, ns::max_pool2d_forward, ns::max_pool2d_backward,     \
        ns::avg_pool2d_forward, ns::avg_pool2d_backward, ns::global_avg_pool_forward,                \
        ns::global_avg_pool_backward, ns::linear_forward, ns::linear_backward, ns::flatten_forward,  \
        ns::flatten_backward, ns::softmax_cross_entropy_forward, ns::softmax_cross_entropy_backward, \
        ns::dropout_forward, ns::dropout_backward, ns::shortcut_a_forward, ns::shortcut_a_backward   \
  }

const OpTable kRefTable = RESNET_OP_TABLE(ref);
const OpTable kCpuTable = RESNET_OP_TABLE(cpu);

OpTable make_cpu_bf16_table() {
  OpTable t = kCpuTable;
  t.conv2d_forward = cpu::conv2d_forward_bf16;
  t.conv2d_backward = cpu::conv2d_backward_bf16;
  return t;
}
const OpTable kCpuBf16Table = make_cpu_bf16_table();

#undef RESNET_OP_TABLE

}  // namespace

const OpTable& op_table(Backend backend) {
  switch (backend) {
    case Backend::ref:
      return kRefTable;
    case Backend::cpu_bf16:
      return kCpuBf16Table;
    default:
      return kCpuTable;
  }
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::ref:
      return "ref";
    case Backend::cpu_bf16:
      return "cpu-bf16";
    default:
      return "cpu";
  }
}

Backend parse_backend(std::string_view name) {
  if (name == "ref") return Backend::ref;
  if (name == "cpu") return Backend::cpu;
  if (name == "cpu-bf16") return Backend::cpu_bf16;
  throw UserError("unknown backend '" + std::string(name) +
                  "': use 'cpu' (oneDNN, fast), 'cpu-bf16' (oneDNN, convolutions in bf16) or 'ref' "
                  "(reference loops)");
}

bool bf16_supported() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512_core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512_core) == avx512_core;
}

}  // namespace resnet::ops
