#include "resnet/nn/parameter_arena.h"

namespace resnet::nn {

ParameterArena::ParameterArena(Module& root) {
  constexpr int64_t kAlignFloats = 16;  // 64 bytes
  int64_t total = 0;
  for (auto& [name, p] : root.named_parameters()) {
    RESNET_CHECK(p->value().dtype() == DType::f32) << name << " is " << dtype_name(p->value().dtype());
    entries_.push_back({name, p, total, p->value().numel()});
    total += (p->value().numel() + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  }
  values_ = Tensor::zeros({total});
  grads_ = Tensor::zeros({total});
  for (const Entry& e : entries_) {
    const Shape& shape = e.parameter->value().shape();
    e.parameter->rebind(Tensor::from_storage(values_.storage(), e.offset * 4, shape, DType::f32),
                        Tensor::from_storage(grads_.storage(), e.offset * 4, shape, DType::f32));
  }
}

}  // namespace resnet::nn
