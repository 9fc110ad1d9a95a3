#include "resnet/ops/backend.h"

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

#undef RESNET_OP_TABLE

}  // namespace

const OpTable& op_table(Backend backend) {
  return backend == Backend::ref ? kRefTable : kCpuTable;
}

std::string_view backend_name(Backend backend) {
  return backend == Backend::ref ? "ref" : "cpu";
}

Backend parse_backend(std::string_view name) {
  if (name == "ref") return Backend::ref;
  if (name == "cpu") return Backend::cpu;
  throw UserError("unknown backend '" + std::string(name) +
                  "': use 'cpu' (oneDNN, fast) or 'ref' (reference loops)");
}

}  // namespace resnet::ops
