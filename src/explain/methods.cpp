#include "resnet/explain/methods.h"

#include <array>
#include <utility>

#include "resnet/core/check.h"

namespace resnet::explain {
namespace {

constexpr std::array<std::pair<Method, std::string_view>, 8> kNames{{
    {Method::saliency, "saliency"},
    {Method::gradient_x_input, "gradient-x-input"},
    {Method::smoothgrad, "smoothgrad"},
    {Method::integrated_gradients, "integrated-gradients"},
    {Method::grad_cam, "grad-cam"},
    {Method::grad_cam_plus_plus, "grad-cam++"},
    {Method::score_cam, "score-cam"},
    {Method::occlusion, "occlusion"},
}};

}  // namespace

Method parse_method(std::string_view name) {
  if (name == "ig") return Method::integrated_gradients;
  std::string all;
  for (const auto& [method, known] : kNames) {
    if (known == name) return method;
    all += (all.empty() ? "" : ", ") + std::string(known);
  }
  throw UserError("--method '" + std::string(name) + "' is not a method: use one or more of " + all);
}

std::string_view method_name(Method method) {
  for (const auto& [m, name] : kNames)
    if (m == method) return name;
  RESNET_CHECK(false) << "method " << static_cast<int>(method);
  return {};
}

std::vector<Method> all_methods() {
  std::vector<Method> out;
  for (const auto& [m, name] : kNames) out.push_back(m);
  return out;
}

bool per_channel(Method method) {
  return method == Method::saliency || method == Method::gradient_x_input || method == Method::smoothgrad ||
         method == Method::integrated_gradients;
}

bool is_cam(Method method) {
  return method == Method::grad_cam || method == Method::grad_cam_plus_plus || method == Method::score_cam;
}

bool forward_only(Method method) {
  return method == Method::score_cam || method == Method::occlusion;
}

}  // namespace resnet::explain
