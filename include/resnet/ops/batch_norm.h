// 2-D batch normalisation with PyTorch's semantics.
//
// Shapes:  x, y, dy, dx [N, C, H, W] (dense, contiguous or channels_last; cpu needs one layout for all);
//          weight, bias, running_mean, running_var, save_mean, save_var, dweight, dbias: [C] contiguous.
//          weight/bias null means affine=false (scale 1, shift 0; dweight/dbias must then be null).
// Training forward: mean and biased variance over (N, H, W) normalise x; save_mean/save_var receive them
//          for backward; running stats are updated in place as PyTorch does:
//          running = (1 - momentum) * running + momentum * batch_stat, using the *unbiased* variance
//          (times m/(m-1), m = N*H*W) for running_var. Training needs m > 1 (CHECKed, as PyTorch does).
// Inference forward: normalises with running_mean/running_var.
// Backward of the training forward uses save_mean/save_var (the batch statistics); backward of the
//          inference forward treats the running statistics as constants (needed for gradients w.r.t. the
//          input of an eval-mode network: Grad-CAM, adversarial examples).
// Backward outputs are overwritten; pass null to skip one.
// Fused BN + ReLU (training only): y = relu(bn(x)) in one pass over the data instead of two. relu_mask
//          receives what the backward needs to apply the ReLU's derivative: the forward sizes it itself
//          with ensure() (a u8 vector; it is reallocated only when the size changes), as the backend needs
//          — one byte per element on ref, oneDNN's workspace on cpu (one *bit* per element with oneDNN's
//          jit kernels: a training step keeps 1/32 of the activation's bytes, not 1/4). Its contents
//          belong to the backend that wrote it; the backward CHECKs that it is large enough. The fused
//          backward takes dy = dL/d(relu output) and is otherwise the training backward. ReLU's
//          derivative follows PyTorch: dy passes where bn(x) > 0 (or is NaN).
// Types:   ref: f32 or f64 (accumulation in double); cpu: x, y, dy and dx f32 or bf16, one type per call
//          (statistics and normalisation computed in f32); the per-channel tensors are always f32 on cpu.
#pragma once

#include "resnet/core/tensor.h"

namespace resnet::ops {

struct BatchNormParams {
  double eps = 1e-5;
  double momentum = 0.1;
};

namespace ref {
void batch_norm_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                 Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                 Tensor& y, Tensor& save_mean, Tensor& save_var);
void batch_norm_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                  const Tensor& save_mean, const Tensor& save_var, const BatchNormParams& p,
                                  Tensor* dx, Tensor* dweight, Tensor* dbias);
void batch_norm_forward_inference(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  const BatchNormParams& p, Tensor& y);
void batch_norm_backward_inference(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormParams& p, Tensor* dx, Tensor* dweight, Tensor* dbias);
void batch_norm_relu_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                      Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                      Tensor& y, Tensor& save_mean, Tensor& save_var, Tensor& relu_mask);
void batch_norm_relu_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                       const Tensor& save_mean, const Tensor& save_var,
                                       const Tensor& relu_mask, const BatchNormParams& p, Tensor* dx,
                                       Tensor* dweight, Tensor* dbias);
}  // namespace ref

namespace cpu {
void batch_norm_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                 Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                 Tensor& y, Tensor& save_mean, Tensor& save_var);
void batch_norm_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                  const Tensor& save_mean, const Tensor& save_var, const BatchNormParams& p,
                                  Tensor* dx, Tensor* dweight, Tensor* dbias);
void batch_norm_forward_inference(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  const BatchNormParams& p, Tensor& y);
void batch_norm_backward_inference(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormParams& p, Tensor* dx, Tensor* dweight, Tensor* dbias);
void batch_norm_relu_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                      Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                      Tensor& y, Tensor& save_mean, Tensor& save_var, Tensor& relu_mask);
void batch_norm_relu_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                       const Tensor& save_mean, const Tensor& save_var,
                                       const Tensor& relu_mask, const BatchNormParams& p, Tensor* dx,
                                       Tensor* dweight, Tensor* dbias);
}  // namespace cpu

}  // namespace resnet::ops
