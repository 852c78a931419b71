#pragma once
// What every translation unit of the simulator includes: the CUDA headers and the export macro.
// The library is built with -fvisibility=hidden; SIM_EXPORT marks the few symbols a program
// links against (the CUDA entry points and scope_profiler::cuda_sim).
#include <cuda_runtime_api.h>

#define SIM_EXPORT __attribute__((visibility("default")))
#define SIM_API extern "C" SIM_EXPORT
