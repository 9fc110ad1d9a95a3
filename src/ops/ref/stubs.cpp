// TEMPORARY: functions not yet implemented. Each is removed from here when its real file lands.
#include "resnet/ops/backend.h"

namespace resnet::ops::ref {

void batch_norm_forward_training(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                 Tensor& running_mean, Tensor& running_var, const BatchNormParams& p,
                                 Tensor& y, Tensor& save_mean, Tensor& save_var) {
  RESNET_CHECK(false) << "not implemented yet";
}
void batch_norm_backward_training(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                  const Tensor& save_mean, const Tensor& save_var, const BatchNormParams& p,
                                  Tensor* dx, Tensor* dweight, Tensor* dbias) {
  RESNET_CHECK(false) << "not implemented yet";
}
void batch_norm_forward_inference(const Tensor& x, const Tensor* weight, const Tensor* bias,
                                  const Tensor& running_mean, const Tensor& running_var,
                                  const BatchNormParams& p, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void batch_norm_backward_inference(const Tensor& dy, const Tensor& x, const Tensor* weight,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormParams& p, Tensor* dx, Tensor* dweight, Tensor* dbias) {
  RESNET_CHECK(false) << "not implemented yet";
}
void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dParams& p,
                    Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Conv2dParams& p,
                     Tensor* dx, Tensor* dweight, Tensor* dbias) {
  RESNET_CHECK(false) << "not implemented yet";
}
double softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p) {
  RESNET_CHECK(false) << "not implemented yet";
  return 0;
}
void softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                                    double dloss, Tensor& dlogits) {
  RESNET_CHECK(false) << "not implemented yet";
}
void dropout_forward(const Tensor& x, double p, uint64_t seed, Tensor& y, Tensor& mask) {
  RESNET_CHECK(false) << "not implemented yet";
}
void dropout_backward(const Tensor& dy, const Tensor& mask, double p, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void relu_forward(const Tensor& x, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void add_backward(const Tensor& dy, Tensor* da, Tensor* db) {
  RESNET_CHECK(false) << "not implemented yet";
}
void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void linear_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, Tensor* dx, Tensor* dweight,
                     Tensor* dbias) {
  RESNET_CHECK(false) << "not implemented yet";
}
void flatten_forward(const Tensor& x, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void flatten_backward(const Tensor& dy, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y, Tensor& workspace) {
  RESNET_CHECK(false) << "not implemented yet";
}
void max_pool2d_backward(const Tensor& dy, const Tensor& workspace, const Pool2dParams& p, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void avg_pool2d_backward(const Tensor& dy, const Pool2dParams& p, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}
void shortcut_a_forward(const Tensor& x, int64_t stride, Tensor& y) {
  RESNET_CHECK(false) << "not implemented yet";
}
void shortcut_a_backward(const Tensor& dy, int64_t stride, Tensor& dx) {
  RESNET_CHECK(false) << "not implemented yet";
}

}  // namespace resnet::ops::ref
