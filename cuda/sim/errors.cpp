// cudaGetErrorString / cudaGetErrorName for every cudaError value, and the last-error API.
#include "error_table.hpp"
#include "faults.hpp"

namespace sim = scope_profiler::cuda_sim::detail;

SIM_API const char* cudaGetErrorName(cudaError_t error) {
    (void)sim::enter("cudaGetErrorName");  // counted, never failing: it returns no error code
    switch (error) {
#define SIM_ERROR_NAME(e, text) \
    case e:                     \
        return #e;
        SIM_CUDA_ERRORS(SIM_ERROR_NAME)
#undef SIM_ERROR_NAME
        default:
            return "unrecognized error code";
    }
}

SIM_API const char* cudaGetErrorString(cudaError_t error) {
    (void)sim::enter("cudaGetErrorString");
    switch (error) {
#define SIM_ERROR_STRING(e, text) \
    case e:                       \
        return text;
        SIM_CUDA_ERRORS(SIM_ERROR_STRING)
#undef SIM_ERROR_STRING
        default:
            return "unrecognized error code";
    }
}

SIM_API cudaError_t cudaGetLastError(void) {
    SIM_ENTER("cudaGetLastError");
    return sim::last_error(true);
}

SIM_API cudaError_t cudaPeekAtLastError(void) {
    SIM_ENTER("cudaPeekAtLastError");
    return sim::last_error(false);
}
