# Builds and runs the consumer project in tests/consumer/project against scope-profiler.
# Run with `cmake -D... -P run_consumer.cmake` (tests/consumer/CMakeLists.txt registers it):
#   SP_MODE               install | subdirectory
#   SP_SOURCE_DIR         the library's source tree
#   SP_BUILD_DIR          the library's (already built) build tree, for mode install
#   SP_CONSUMER_DIR       tests/consumer/project
#   SP_WORK_DIR           scratch folder, wiped at start
#   SP_GENERATOR, SP_GENERATOR_PLATFORM, SP_GENERATOR_TOOLSET, SP_MAKE_PROGRAM, SP_MULTI_CONFIG
#   SP_CXX_COMPILER, SP_CXX_COMPILER_LAUNCHER, SP_CONFIG (the build type), SP_VERSION,
#   SP_EXE_SUFFIX, SP_JOBS
#   SP_CUDA, SP_CUDA_COMPILER, SP_CUDA_SIM   also build and run the .cu consumers (and the one on
#                         the simulated runtime)
cmake_minimum_required(VERSION 3.20)

foreach(var IN ITEMS SP_MODE SP_SOURCE_DIR SP_CONSUMER_DIR SP_WORK_DIR SP_GENERATOR SP_CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT SP_MODE MATCHES "^(install|subdirectory)$")
  message(FATAL_ERROR "run_consumer.cmake: SP_MODE must be install or subdirectory, got '${SP_MODE}'")
endif()
if(NOT SP_JOBS)
  set(SP_JOBS 2)
endif()

# Runs one step; on failure stops the test with the step's name, command and full output.
function(sp_step name)
  string(REPLACE ";" " " pretty "${ARGN}")
  message(STATUS "[${SP_MODE}] ${name}: ${pretty}")
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test (${SP_MODE}): step '${name}' failed (exit ${rc})\n"
                        "command: ${pretty}\n"
                        "---- stdout ----\n${out}\n---- stderr ----\n${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${SP_WORK_DIR}")
file(MAKE_DIRECTORY "${SP_WORK_DIR}")
set(consumer_build "${SP_WORK_DIR}/build")

set(config_args)
set(build_config_args)
if(SP_MULTI_CONFIG)
  if(SP_CONFIG)
    set(build_config_args --config "${SP_CONFIG}")
  endif()
elseif(SP_CONFIG)
  list(APPEND config_args "-DCMAKE_BUILD_TYPE=${SP_CONFIG}")
endif()

set(configure_cmd "${CMAKE_COMMAND}" -S "${SP_CONSUMER_DIR}" -B "${consumer_build}"
  -G "${SP_GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${SP_CXX_COMPILER}"
  "-DSP_CONSUMER_MODE=${SP_MODE}"
  "-DSP_EXPECTED_VERSION=${SP_VERSION}"
  # Only the prefix given below may provide the package: no user or system package registry.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  ${config_args})
if(SP_CUDA)
  list(APPEND configure_cmd -DSP_CONSUMER_CUDA=ON "-DCMAKE_CUDA_COMPILER=${SP_CUDA_COMPILER}"
    "-DSP_CONSUMER_CUDA_SIM=${SP_CUDA_SIM}")
endif()
if(SP_GENERATOR_PLATFORM)
  list(APPEND configure_cmd -A "${SP_GENERATOR_PLATFORM}")
endif()
if(SP_GENERATOR_TOOLSET)
  list(APPEND configure_cmd -T "${SP_GENERATOR_TOOLSET}")
endif()
if(SP_MAKE_PROGRAM)
  list(APPEND configure_cmd "-DCMAKE_MAKE_PROGRAM=${SP_MAKE_PROGRAM}")
endif()
if(SP_CXX_COMPILER_LAUNCHER)
  list(APPEND configure_cmd "-DCMAKE_CXX_COMPILER_LAUNCHER=${SP_CXX_COMPILER_LAUNCHER}")
endif()

if(SP_MODE STREQUAL "install")
  if(NOT SP_BUILD_DIR OR NOT EXISTS "${SP_BUILD_DIR}/cmake_install.cmake")
    message(FATAL_ERROR "consumer test (install): '${SP_BUILD_DIR}' is not a configured build tree")
  endif()
  set(prefix "${SP_WORK_DIR}/prefix")
  sp_step("install the library" "${CMAKE_COMMAND}" --install "${SP_BUILD_DIR}" --prefix "${prefix}"
    ${build_config_args})

  # What a package must hold: the public headers, the generated one among them, and the
  # CMake package files.
  set(missing)
  foreach(f IN ITEMS scope_profiler.hpp build_config.hpp version.hpp macros.hpp detail/runtime.hpp)
    if(NOT EXISTS "${prefix}/include/scope_profiler/${f}")
      list(APPEND missing "include/scope_profiler/${f}")
    endif()
  endforeach()
  file(GLOB_RECURSE config_files LIST_DIRECTORIES false RELATIVE "${prefix}"
    "${prefix}/*/ScopeProfilerConfig.cmake")
  if(NOT config_files)
    list(APPEND missing "<libdir>/cmake/ScopeProfiler/ScopeProfilerConfig.cmake")
  else()
    list(GET config_files 0 config_file)
    get_filename_component(package_dir "${prefix}/${config_file}" DIRECTORY)
    foreach(f IN ITEMS ScopeProfilerConfigVersion.cmake ScopeProfilerTargets.cmake)
      if(NOT EXISTS "${package_dir}/${f}")
        list(APPEND missing "${package_dir}/${f}")
      endif()
    endforeach()
  endif()
  if(missing)
    file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
    list(JOIN installed "\n  " installed)
    list(JOIN missing "\n  " missing)
    message(FATAL_ERROR "consumer test (install): the installed package lacks\n  ${missing}\n"
                        "installed under ${prefix}:\n  ${installed}")
  endif()
  if(SP_VERSION)
    file(READ "${prefix}/include/scope_profiler/build_config.hpp" build_config)
    if(NOT build_config MATCHES "#define SCOPE_PROFILER_VERSION_STRING \"${SP_VERSION}\"")
      message(FATAL_ERROR "consumer test (install): installed build_config.hpp does not define "
                          "SCOPE_PROFILER_VERSION_STRING \"${SP_VERSION}\":\n${build_config}")
    endif()
  endif()

  list(APPEND configure_cmd "-DCMAKE_PREFIX_PATH=${prefix}" "-DSP_EXPECTED_PREFIX=${prefix}")
else()
  list(APPEND configure_cmd "-DSCOPE_PROFILER_SOURCE_DIR=${SP_SOURCE_DIR}")
endif()

sp_step("configure the consumer" ${configure_cmd})
sp_step("build the consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" --parallel ${SP_JOBS}
  ${build_config_args})

if(SP_MODE STREQUAL "subdirectory")
  # The library's tests must not be part of (or built by) the consumer's build.
  file(GLOB_RECURSE test_files LIST_DIRECTORIES false
    "${consumer_build}/*scope_profiler_unit_tests*"
    "${consumer_build}/*scope_profiler_stress_test*"
    "${consumer_build}/*scope_profiler_disabled_test*"
    "${consumer_build}/*overhead_bench*")
  if(EXISTS "${consumer_build}/_scope_profiler/tests" OR test_files)
    list(JOIN test_files "\n  " test_files)
    message(FATAL_ERROR "consumer test (subdirectory): the consumer's build built the library's "
                        "tests or benchmarks (they must default OFF under add_subdirectory):\n"
                        "  ${consumer_build}/_scope_profiler/tests\n  ${test_files}")
  endif()
endif()

# Every consumer program the project built: the host ones, and the .cu ones where asked.
set(expected scope_profiler_consumer scope_profiler_consumer_cxx17)
if(SP_CUDA)
  list(APPEND expected scope_profiler_consumer_cuda_default scope_profiler_consumer_cuda17
                       scope_profiler_consumer_cuda20)
  if(SP_CUDA_SIM)
    list(APPEND expected scope_profiler_consumer_cuda_sim)
  endif()
endif()
foreach(name IN LISTS expected)
  set(exe "${consumer_build}/bin/${name}${SP_EXE_SUFFIX}")
  if(NOT EXISTS "${exe}")
    message(FATAL_ERROR "consumer test (${SP_MODE}): the build did not produce ${exe}")
  endif()
  sp_step("run ${name}" "${exe}")
  if(NOT step_output MATCHES "consumer: OK")
    message(FATAL_ERROR "consumer test (${SP_MODE}): ${name} exited 0 without reporting OK:\n"
                        "${step_output}")
  endif()
  message(STATUS "[${SP_MODE}] ${step_output}")
endforeach()
message(STATUS "[${SP_MODE}] passed")
