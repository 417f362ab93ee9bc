# Issue 13: libaegisrt.so is the runtime; tensor files (libzip, protobuf,
# libonnx_proto) belong to the tools library. Fails when the shared library's
# dynamic section names any of them.
#   cmake -DREADELF=<readelf> -DLIB=<libaegisrt.so> -P check_runtime_needed.cmake
execute_process(COMMAND "${READELF}" -d "${LIB}" OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${LIB} failed (${rc})")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${dyn}")
if(NOT needed)
  message(FATAL_ERROR "no NEEDED entries in ${LIB}: not a shared library?")
endif()
foreach(line IN LISTS needed)
  if(line MATCHES "\\[lib(zip|protobuf|protobuf-lite|onnx|onnx_proto)\\.so")
    message(FATAL_ERROR "${LIB} links a tools-library dependency: ${line}")
  endif()
endforeach()
list(LENGTH needed n)
message(STATUS "${LIB}: ${n} NEEDED entries, none of libzip, libprotobuf, libonnx, libonnx_proto")
