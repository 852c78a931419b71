# Compiles a translation unit that includes every public header (and wraps a kernel launch in a
# device scope, for nvcc) with each given compiler, at each language standard users have, with
# every warning an error. Run by ctest (tests/CMakeLists.txt):
#   -DCOMPILERS="clang=/usr/bin/clang++;nvcc=/usr/local/cuda/bin/nvcc"
#   -DINCLUDE_DIRS="<include>;<generated include>"  -DWORK_DIR=<scratch>  -DOBJDUMP=<objdump>
# The hot path is also checked in the generated code of each C++17 compile: a scope reaches the
# thread-local cache with no call to its TLS init function or wrapper (_ZTH/_ZTW), the guarantee
# that `constinit` gives in C++20 and SCOPE_PROFILER_CONSTINIT keeps in C++17.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

list(GET INCLUDE_DIRS 0 public_dir)
file(GLOB headers RELATIVE "${public_dir}" "${public_dir}/scope_profiler/*.hpp")
set(includes "")
foreach(h IN LISTS headers)
  string(APPEND includes "#include <${h}>\n")
endforeach()
set(use "
namespace sp = scope_profiler;
int use_host() {
    SCOPE_PROFILE_FUNCTION();
    auto r = sp::ProfileManager::profile_region(\"host\");
    sp::RegionScope handle(sp::ProfileManager::region(\"handle\"));
    return sp::ProfileManager::profile(\"twice\", [](int x) { return 2 * x; })(21);
}
")
file(WRITE "${WORK_DIR}/all_headers.cpp" "${includes}${use}")
file(WRITE "${WORK_DIR}/all_headers.cu" "#include <cuda_runtime.h>\n${includes}${use}
__global__ void scale(float* x) { x[threadIdx.x] *= 2.0f; }
void use_device(cudaStream_t stream, float* d_x) {
    auto r = sp::ProfileManager::profile_region(\"scale\", stream);
    scale<<<1, 32, 0, stream>>>(d_x);
}
")

set(include_flags)
foreach(dir IN LISTS INCLUDE_DIRS)
  list(APPEND include_flags "-I${dir}")
endforeach()

set(failures 0)
file(REMOVE "${WORK_DIR}/out.o")
foreach(entry IN LISTS COMPILERS)
  string(REGEX MATCH "^([a-z]+)=(.*)$" _ "${entry}")
  set(kind "${CMAKE_MATCH_1}")
  set(compiler "${CMAKE_MATCH_2}")
  if(kind STREQUAL "nvcc")
    # -Wpedantic is not passed to the host compiler: nvcc's own line markers trip it in any .cu.
    set(standards default c++17 c++20)
    set(flags -O2 -c -arch=sm_90 -Werror all-warnings -Xcompiler=-Wall,-Wextra,-Werror ${include_flags}
              "${WORK_DIR}/all_headers.cu" -o "${WORK_DIR}/out.o")
  else()
    set(standards c++17 c++20)
    set(flags -O2 -c -Wall -Wextra -Wpedantic -Werror ${include_flags} "${WORK_DIR}/all_headers.cpp"
              -o "${WORK_DIR}/out.o")
  endif()
  foreach(std IN LISTS standards)
    set(std_flag "-std=${std}")
    if(std STREQUAL "default")
      set(std_flag)
    endif()
    execute_process(COMMAND "${compiler}" ${std_flag} ${flags}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc EQUAL 0 AND OBJDUMP AND NOT std STREQUAL "c++20")
      execute_process(COMMAND "${OBJDUMP}" -dr "${WORK_DIR}/out.o" OUTPUT_VARIABLE disassembly)
      string(REGEX MATCHALL "_ZT[HW][A-Za-z0-9_]*t_cache[A-Za-z0-9_]*" tls_calls "${disassembly}")
      if(tls_calls)
        list(REMOVE_DUPLICATES tls_calls)
        math(EXPR failures "${failures} + 1")
        message(SEND_ERROR "${kind} ${std}: the scope calls the TLS init of the thread cache "
                           "(${tls_calls}): it is not known to be constant-initialized")
        continue()
      endif()
    endif()
    if(rc EQUAL 0)
      message(STATUS "${kind} ${std}: ok")
    else()
      math(EXPR failures "${failures} + 1")
      message(SEND_ERROR "${kind} ${std}: the public headers do not compile (exit ${rc}):\n${out}${err}")
    endif()
  endforeach()
endforeach()
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} compiler/standard combination(s) failed")
endif()
