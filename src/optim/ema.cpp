#include "resnet/optim/ema.h"

namespace resnet::optim {

void update_ema(nn::Module& ema, nn::Module& model, double decay) {
  auto blend = [decay](const Tensor& avg, const Tensor& value) {
    RESNET_CHECK(avg.shape() == value.shape()) << "update_ema: the average is no twin of the model";
    if (avg.dtype() != DType::f32) return avg.copy_from(value);
    float* a = avg.data<float>();
    const float* v = value.data<float>();
    const float d = static_cast<float>(decay), e = 1.0f - d;
    for (int64_t i = 0, n = avg.numel(); i < n; ++i) a[i] = d * a[i] + e * v[i];
  };
  auto ep = ema.named_parameters(), mp = model.named_parameters();
  auto eb = ema.named_buffers(), mb = model.named_buffers();
  RESNET_CHECK(ep.size() == mp.size() && eb.size() == mb.size())
      << "update_ema: the average is no twin of the model";
  for (size_t i = 0; i < ep.size(); ++i) blend(ep[i].second->value(), mp[i].second->value());
  for (size_t i = 0; i < eb.size(); ++i) blend(*eb[i].second, *mb[i].second);
}

}  // namespace resnet::optim
