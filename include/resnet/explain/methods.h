// The explanation methods by name, and what each one's attribution looks like.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace resnet::explain {

enum class Method {
  saliency,              // "saliency": d logit / d x                          [N, C, H, W]
  gradient_x_input,      // "gradient-x-input": x ⊙ d logit / d x             [N, C, H, W]
  smoothgrad,            // "smoothgrad": saliency averaged over noisy copies  [N, C, H, W]
  integrated_gradients,  // "integrated-gradients" (alias "ig")                [N, C, H, W]
  grad_cam,              // "grad-cam"                                         [N, H, W] (+ cam)
  grad_cam_plus_plus,    // "grad-cam++"                                       [N, H, W] (+ cam)
  score_cam,             // "score-cam", forward-only                          [N, H, W] (+ cam)
  occlusion,             // "occlusion", forward-only                          [N, H, W]
};

// UserError naming every method for an unknown name.
Method parse_method(std::string_view name);
std::string_view method_name(Method method);
std::vector<Method> all_methods();

// Gradient methods give a per-channel attribution of the input; the others one map per image.
bool per_channel(Method method);
bool is_cam(Method method);
// Runs on logits alone (so on the inference engines too).
bool forward_only(Method method);

}  // namespace resnet::explain
