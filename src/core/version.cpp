#include "resnet/version.h"

namespace resnet {

const char* version() {
  return RESNET_VERSION;
}  // defined by CMakeLists.txt from project(VERSION)

}  // namespace resnet
