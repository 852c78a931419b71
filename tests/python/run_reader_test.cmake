# Writes a sample merged file with the C++ writer, then reads it with h5py as the Python
# scope-profiler does (read_like_scope_profiler.py) and compares with the expected values.
#   cmake -DWRITER=<exe> -DPYTHON=<python3 with h5py> -DSCRIPT=<reader.py> -DWORK_DIR=<dir> -P this
if(NOT PYTHON)
  message(FATAL_ERROR "no python3 that imports h5py was found when the build was configured: "
                      "run scripts/install_deps.sh --tests (Debian's python3-h5py) and reconfigure, "
                      "or set SCOPE_PROFILER_TEST_PYTHON")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${WRITER}" "${WORK_DIR}/sample.h5" "${WORK_DIR}/expected.json"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the sample writer failed (${rc})")
endif()
execute_process(COMMAND "${PYTHON}" "${SCRIPT}" "${WORK_DIR}/sample.h5"
                        --expected "${WORK_DIR}/expected.json"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "h5py read the file differently from what was written (${rc})")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
