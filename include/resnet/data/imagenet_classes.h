// The 1,000 ImageNet-1k class names, in the order of torchvision's classifier outputs: what a converted
// torchvision checkpoint's card holds so that `resnet predict` prints "golden retriever", not "207".
#pragma once

#include <string>
#include <vector>

namespace resnet::data {

const std::vector<std::string>& imagenet_class_names();  // exactly 1000 names

}  // namespace resnet::data
