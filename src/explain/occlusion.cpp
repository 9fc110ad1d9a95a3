#include "resnet/explain/occlusion.h"

#include <string>

#include "chunks.h"

namespace resnet::explain {

Tensor occlusion(const LogitsFn& logits, const Tensor& x, const std::vector<int64_t>& targets,
                 const OcclusionOptions& options) {
  detail::check_input(x);
  RESNET_CHECK_EQ(static_cast<int64_t>(targets.size()), x.size(0));
  const int64_t n = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
  if (options.window < 1 || options.window > std::min(height, width))
    throw UserError("--window " + std::to_string(options.window) + " does not fit the " +
                    std::to_string(height) + "×" + std::to_string(width) + " input: give 1 to " +
                    std::to_string(std::min(height, width)));
  if (options.stride < 1)
    throw UserError("--stride " + std::to_string(options.stride) + " is not allowed: give at least 1");
  if (options.fill.size() != 1 && static_cast<int64_t>(options.fill.size()) != channels)
    throw UserError("--fill has " + std::to_string(options.fill.size()) + " values for a " +
                    std::to_string(channels) + "-channel input: give one, or one per channel");
  detail::check_chunk(options.chunk);
  const int64_t rows = (height - options.window) / options.stride + 1;
  const int64_t cols = (width - options.window) / options.stride + 1;
  const int64_t pixels = height * width, per_image = channels * pixels;
  Tensor out = Tensor::empty({n, height, width});
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = detail::image_of(x, i);
    const int64_t target = targets[i];
    // The unoccluded score from a batch of one, whatever the chunk.
    const double base = logits(xi).to(Layout::contiguous).data<float>()[target];
    std::vector<double> sum(static_cast<size_t>(pixels), 0.0), covered(static_cast<size_t>(pixels), 0.0);
    detail::for_chunks(rows * cols, options.chunk, [&](int64_t start, int64_t count) {
      Tensor batch = Tensor::empty({count, channels, height, width});
      float* b = batch.data<float>();
      for (int64_t k = 0; k < count; ++k) {
        std::copy(xi.data<float>(), xi.data<float>() + per_image, b + k * per_image);
        const int64_t y0 = (start + k) / cols * options.stride, x0 = (start + k) % cols * options.stride;
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t y = y0; y < y0 + options.window; ++y)
            for (int64_t xx = x0; xx < x0 + options.window; ++xx)
              b[k * per_image + c * pixels + y * width + xx] =
                  options.fill.size() == 1 ? options.fill[0] : options.fill[c];
      }
      const Tensor l = logits(batch).to(Layout::contiguous);
      for (int64_t k = 0; k < count; ++k) {  // window order: the same sums for any chunk
        const double drop = base - l.data<float>()[k * l.size(1) + target];
        const int64_t y0 = (start + k) / cols * options.stride, x0 = (start + k) % cols * options.stride;
        for (int64_t y = y0; y < y0 + options.window; ++y)
          for (int64_t xx = x0; xx < x0 + options.window; ++xx)
            sum[y * width + xx] += drop, covered[y * width + xx] += 1;
      }
    });
    float* o = out.data<float>() + i * pixels;
    for (int64_t p = 0; p < pixels; ++p)
      o[p] = covered[p] > 0 ? static_cast<float>(sum[p] / covered[p]) : 0.0f;
  }
  return out;
}

}  // namespace resnet::explain
