// `resnet info`: versions, threads and the CPU features oneDNN uses.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdio>

#include "commands.h"
#include "resnet/core/parallel.h"

namespace resnet::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print versions, thread count and the CPU ISA oneDNN will use");
  cmd->callback([] {
    const dnnl_version_t* v = dnnl_version();
    const char* isa = "unknown";
    switch (dnnl::get_effective_cpu_isa()) {
      case dnnl::cpu_isa::avx512_core_amx:
        isa = "avx512_core_amx";
        break;
      case dnnl::cpu_isa::avx512_core_bf16:
        isa = "avx512_core_bf16";
        break;
      case dnnl::cpu_isa::avx512_core_vnni:
        isa = "avx512_core_vnni";
        break;
      case dnnl::cpu_isa::avx512_core:
        isa = "avx512_core";
        break;
      case dnnl::cpu_isa::avx2_vnni:
        isa = "avx2_vnni";
        break;
      case dnnl::cpu_isa::avx2:
        isa = "avx2";
        break;
      case dnnl::cpu_isa::avx:
        isa = "avx";
        break;
      case dnnl::cpu_isa::sse41:
        isa = "sse41";
        break;
      default:
        break;
    }
    std::printf("resnet.cpp 0.1.0\noneDNN %d.%d.%d (%s)\nCPU ISA: %s\nthreads: %d\n", v->major, v->minor,
                v->patch, v->hash, isa, num_threads());
  });
}

}  // namespace resnet::cli
