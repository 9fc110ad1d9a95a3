// Backend dispatch: one table of function pointers per implementation (the ggml way). Modules call ops
// through a table, so a network can run on the reference oracle or the oneDNN fast path unchanged.
// Building the two tables from ref:: and cpu:: proves at compile time that their signatures are identical.
// cpu_bf16 is the cpu table with the convolutions computed in bf16 (f32 master weights and accumulation;
// see conv2d.h): mixed-precision training. The modules give its convolutions bf16 outputs, and the cpu
// ops after them (batch norm, ReLU, adds, pooling, the shortcut) take bf16 as well as f32, so a network's
// activations and their gradients are bf16 from the stem to the pooling head; the head, the loss, the
// parameters, their gradients and the batch-norm statistics stay f32.
#pragma once

#include <string_view>

#include "resnet/ops/batch_norm.h"
#include "resnet/ops/conv2d.h"
#include "resnet/ops/cross_entropy.h"
#include "resnet/ops/dropout.h"
#include "resnet/ops/elementwise.h"
#include "resnet/ops/linear.h"
#include "resnet/ops/pool.h"
#include "resnet/ops/shortcut.h"

namespace resnet::ops {

enum class Backend { ref, cpu, cpu_bf16 };

struct OpTable {
  decltype(&ref::conv2d_forward) conv2d_forward;
  decltype(&ref::conv2d_backward) conv2d_backward;
  decltype(&ref::batch_norm_forward_training) batch_norm_forward_training;
  decltype(&ref::batch_norm_backward_training) batch_norm_backward_training;
  decltype(&ref::batch_norm_forward_inference) batch_norm_forward_inference;
  decltype(&ref::batch_norm_backward_inference) batch_norm_backward_inference;
  decltype(&ref::batch_norm_relu_forward_training) batch_norm_relu_forward_training;
  decltype(&ref::batch_norm_relu_backward_training) batch_norm_relu_backward_training;
  decltype(&ref::relu_forward) relu_forward;
  decltype(&ref::relu_backward) relu_backward;
  decltype(&ref::add_forward) add_forward;
  decltype(&ref::add_backward) add_backward;
  decltype(&ref::add_relu_forward) add_relu_forward;
  decltype(&ref::max_pool2d_forward) max_pool2d_forward;
  decltype(&ref::max_pool2d_backward) max_pool2d_backward;
  decltype(&ref::avg_pool2d_forward) avg_pool2d_forward;
  decltype(&ref::avg_pool2d_backward) avg_pool2d_backward;
  decltype(&ref::global_avg_pool_forward) global_avg_pool_forward;
  decltype(&ref::global_avg_pool_backward) global_avg_pool_backward;
  decltype(&ref::linear_forward) linear_forward;
  decltype(&ref::linear_backward) linear_backward;
  decltype(&ref::flatten_forward) flatten_forward;
  decltype(&ref::flatten_backward) flatten_backward;
  decltype(&ref::softmax_cross_entropy_forward) softmax_cross_entropy_forward;
  decltype(&ref::softmax_cross_entropy_backward) softmax_cross_entropy_backward;
  decltype(&ref::dropout_forward) dropout_forward;
  decltype(&ref::dropout_backward) dropout_backward;
  decltype(&ref::shortcut_a_forward) shortcut_a_forward;
  decltype(&ref::shortcut_a_backward) shortcut_a_backward;
};

const OpTable& op_table(Backend backend);
std::string_view backend_name(Backend backend);
// "ref", "cpu" or "cpu-bf16"; throws UserError naming the valid choices otherwise.
Backend parse_backend(std::string_view name);
// Whether this CPU runs the cpu_bf16 table (oneDNN 2.6's bf16 kernels need AVX-512; they use the
// AVX512-BF16 dot-product instructions where present and emulate them on plain AVX-512).
bool bf16_supported();

}  // namespace resnet::ops
