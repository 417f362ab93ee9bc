# Script behind the install_and_consume test (cmake -P). Inputs: AEGISRT_BUILD_DIR,
# PREFIX, CONSUMER_SOURCE_DIR, CONSUMER_BINARY_DIR, GENERATOR, CXX_COMPILER,
# BUILD_TYPE, SANITIZE, EXPECTED_VERSION.
cmake_minimum_required(VERSION 3.22)

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${step} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BINARY_DIR}")
run("cmake --install" "${CMAKE_COMMAND}" --install "${AEGISRT_BUILD_DIR}" --prefix "${PREFIX}")

# The installed public headers must not need the CUDA toolkit or any backend SDK.
file(GLOB_RECURSE headers "${PREFIX}/include/aegisrt/*.h")
list(LENGTH headers n_headers)
if(n_headers EQUAL 0)
  message(FATAL_ERROR "install test: no headers installed under ${PREFIX}/include/aegisrt")
endif()
foreach(h IN LISTS headers)
  file(STRINGS "${h}" bad REGEX "#include [<\"](cuda|cuda_runtime|cuda_runtime_api|onnxruntime|NvInfer|tvm/)")
  if(bad)
    message(FATAL_ERROR "install test: public header ${h} includes a third-party SDK: ${bad}")
  endif()
endforeach()
if(NOT EXISTS "${PREFIX}/include/aegisrt/build_config.h")
  message(FATAL_ERROR "install test: generated build_config.h was not installed")
endif()

set(flags "")
if(SANITIZE)
  # An instrumented libaegisrt needs an instrumented executable (runtime first).
  set(flags "-fsanitize=${SANITIZE} -fno-omit-frame-pointer")
endif()
run("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${CONSUMER_BINARY_DIR}"
    -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_CXX_FLAGS=${flags}"
    "-DCMAKE_EXE_LINKER_FLAGS=${flags}" "-DEXPECTED_VERSION=${EXPECTED_VERSION}")
run("build consumer" "${CMAKE_COMMAND}" --build "${CONSUMER_BINARY_DIR}")
run("run consumer" "${CONSUMER_BINARY_DIR}/aegisrt_consumer")
string(FIND "${last_output}" "consumer ok" found)
if(found EQUAL -1)
  message(FATAL_ERROR "install test: consumer did not report success:\n${last_output}")
endif()
message(STATUS "install test: ${last_output}")
