// Experiment (not built by CMake): oneDNN 2.6's int8 1x1 convolution of ResNet-50's layer1 conv3
// (N32, 64->256, 56x56, channels-last) with and without the residual sum, to time the sum post-op against
// a binary-add post-op. docs/speed.md ("Inference, int8 on Zen 5") quotes its output.
//   g++ -O2 -std=c++20 dev/int8_sum_post_op.cpp -ldnnl -o /tmp/int8_sum_post_op && OMP_NUM_THREADS=2
//   /tmp/int8_sum_post_op
#include <chrono>
#include <cstdio>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
int main() {
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const int N = 32, IC = 64, OC = 256, H = 56;
  for (int variant = 0; variant < 8; ++variant) {
    // int8 (u8 src, s8 weights, u8 dst, + ReLU): 0 no sum; 1 sum, scale 1; 2 sum, scale 0.7; 3 sum of an s8
    // shortcut, scale 0.7; 6 binary add of a u8 shortcut + eltwise_linear 0.7. f32: 4 no sum; 5 sum; 7 binary
    // add. 5: f32 sum
    const bool f32 = variant == 4 || variant == 5 || variant == 7;
    const dt sdt = f32 ? dt::f32 : dt::u8, wdt = f32 ? dt::f32 : dt::s8, ddt = f32 ? dt::f32 : dt::u8;
    memory::desc src({N, IC, H, H}, sdt, tag::acdb), dst({N, OC, H, H}, ddt, tag::acdb);
    memory::desc wei({OC, IC, 1, 1}, wdt, tag::any), bias({OC}, dt::f32, tag::a);
    convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src, wei, bias,
                                dst, {1, 1}, {0, 0}, {0, 0}, {0, 0});
    primitive_attr attr;
    if (!f32) attr.set_output_scales(2, std::vector<float>(OC, 0.01f));
    post_ops po;
    if (variant == 1) po.append_sum(1.f);
    if (variant == 2) po.append_sum(0.7f);
    if (variant == 3) po.append_sum(0.7f, 0, dt::s8);
    if (variant == 5) po.append_sum(1.f);
    memory::desc sc({N, OC, H, H}, f32 ? dt::f32 : dt::u8, tag::acdb);
    if (variant >= 6) po.append_binary(algorithm::binary_add, sc);
    if (variant == 6) po.append_eltwise(1.f, algorithm::eltwise_linear, 0.7f, 0.f);
    po.append_eltwise(1.f, algorithm::eltwise_relu, 0, 0);
    attr.set_post_ops(po);
    convolution_forward::primitive_desc pd(d, attr, eng);
    memory m_src(pd.src_desc(), eng), m_w(pd.weights_desc(), eng), m_b(bias, eng), m_d(pd.dst_desc(), eng);
    convolution_forward conv(pd);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, m_src}, {DNNL_ARG_WEIGHTS, m_w}, {DNNL_ARG_BIAS, m_b}, {DNNL_ARG_DST, m_d}};
    memory m_sc(sc, eng);
    if (variant >= 6) args.insert({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, m_sc});
    for (int i = 0; i < 3; ++i) conv.execute(s, args);
    s.wait();
    double best = 1e9;
    for (int r = 0; r < 10; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      conv.execute(s, args);
      s.wait();
      best = std::min(
          best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("variant %d: %.2f ms  %s\n", variant, best, pd.impl_info_str());
  }
}
