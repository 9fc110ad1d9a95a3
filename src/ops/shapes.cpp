// Output-shape rules shared by every backend.
#include "resnet/ops/conv2d.h"
#include "resnet/ops/pool.h"
#include "resnet/ops/shortcut.h"

namespace resnet::ops {

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  RESNET_CHECK(x.ndim() == 4 && w.ndim() == 4)
      << "conv2d wants x [N,C,H,W] and weight [O,C/g,kH,kW], got x " << x << ", weight " << w;
  RESNET_CHECK(p.groups >= 1 && x[1] % p.groups == 0 && w[0] % p.groups == 0)
      << "channels " << x[1] << " -> " << w[0] << " not divisible by groups " << p.groups;
  RESNET_CHECK(w[1] * p.groups == x[1])
      << "weight " << w << " expects " << w[1] * p.groups << " input channels, x has " << x[1];
  Shape y{x[0], w[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    RESNET_CHECK(p.stride[i] >= 1 && p.dilation[i] >= 1 && p.padding[i] >= 0) << "bad conv2d params";
    const int64_t span = p.dilation[i] * (w[2 + i] - 1) + 1;
    const int64_t padded = x[2 + i] + 2 * p.padding[i];
    RESNET_CHECK(padded >= span) << "kernel span " << span << " larger than padded input " << padded;
    y[2 + i] = (padded - span) / p.stride[i] + 1;
  }
  return y;
}

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p) {
  RESNET_CHECK(x.ndim() == 4) << "pool2d wants [N,C,H,W], got " << x;
  Shape y{x[0], x[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    RESNET_CHECK(p.kernel[i] >= 1 && p.stride[i] >= 1 && p.padding[i] >= 0 && 2 * p.padding[i] <= p.kernel[i])
        << "bad pool params: kernel " << p.kernel[i] << ", stride " << p.stride[i] << ", padding "
        << p.padding[i] << " (padding must be at most half the kernel)";
    const int64_t padded = x[2 + i] + 2 * p.padding[i];
    RESNET_CHECK(padded >= p.kernel[i]) << "kernel " << p.kernel[i] << " larger than padded input " << padded;
    y[2 + i] = (padded - p.kernel[i]) / p.stride[i] + 1;
  }
  return y;
}

Shape shortcut_a_output_shape(const Shape& x, int64_t out_channels, int64_t stride) {
  RESNET_CHECK(x.ndim() == 4) << "shortcut A wants [N,C,H,W], got " << x;
  RESNET_CHECK(out_channels >= x[1]) << "shortcut A cannot drop channels: " << x[1] << " -> " << out_channels;
  RESNET_CHECK(stride >= 1) << "stride " << stride;
  return Shape{x[0], out_channels, (x[2] + stride - 1) / stride, (x[3] + stride - 1) / stride};
}

}  // namespace resnet::ops
