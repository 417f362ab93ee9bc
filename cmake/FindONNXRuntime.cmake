# FindONNXRuntime: the ONNX Runtime C/C++ API (headers + libonnxruntime.so).
#
# Search root: ONNXRuntime_ROOT (CMake variable or environment variable; the
# layout scripts/deps/20-onnxruntime.sh writes is <root>/{include,lib,VERSION}),
# then the system (/usr/include/onnxruntime, /usr/lib/...).
#
# Sets:
#   ONNXRuntime_FOUND
#   ONNXRuntime_VERSION          library version (from VERSION, the library's
#                                file name, or the headers' ORT_API_VERSION)
#   ONNXRuntime_HEADERS_VERSION  headers version where known (may be older than
#                                the library: the C API is backward compatible)
#   ONNXRuntime_INCLUDE_DIR, ONNXRuntime_LIBRARY, ONNXRuntime_LIBRARY_DIR
# Imported target: ONNXRuntime::onnxruntime (SYSTEM include dirs). Its library
# directory is added to the build rpath of everything that links it, so
# binaries run without LD_LIBRARY_PATH.

set(_ort_hints)
if(DEFINED ONNXRuntime_ROOT)
  list(APPEND _ort_hints "${ONNXRuntime_ROOT}")
endif()
if(DEFINED ENV{ONNXRuntime_ROOT})
  list(APPEND _ort_hints "$ENV{ONNXRuntime_ROOT}")
endif()

find_path(ONNXRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS ${_ort_hints}
  PATH_SUFFIXES include include/onnxruntime include/onnxruntime/core/session onnxruntime)
find_library(ONNXRuntime_LIBRARY NAMES onnxruntime
  HINTS ${_ort_hints}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu)

set(ONNXRuntime_VERSION "")
set(ONNXRuntime_HEADERS_VERSION "")
if(ONNXRuntime_LIBRARY)
  get_filename_component(ONNXRuntime_LIBRARY_DIR "${ONNXRuntime_LIBRARY}" DIRECTORY)
  get_filename_component(_ort_root "${ONNXRuntime_LIBRARY_DIR}" DIRECTORY)
  # 1. VERSION file written by scripts/deps/20-onnxruntime.sh.
  if(EXISTS "${_ort_root}/VERSION")
    file(STRINGS "${_ort_root}/VERSION" _ort_lines)
    foreach(_l IN LISTS _ort_lines)
      if(_l MATCHES "^library=(.+)$")
        set(ONNXRuntime_VERSION "${CMAKE_MATCH_1}")
      elseif(_l MATCHES "^headers=(.+)$")
        set(ONNXRuntime_HEADERS_VERSION "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endif()
  # 2. The real file behind the libonnxruntime.so link: libonnxruntime.so.X.Y.Z.
  if(NOT ONNXRuntime_VERSION)
    get_filename_component(_ort_real "${ONNXRuntime_LIBRARY}" REALPATH)
    get_filename_component(_ort_real_name "${_ort_real}" NAME)
    if(_ort_real_name MATCHES "\\.so\\.([0-9]+\\.[0-9]+\\.[0-9]+)$")
      set(ONNXRuntime_VERSION "${CMAKE_MATCH_1}")
    endif()
  endif()
endif()
# 3. Fallback: the API version the headers declare (1.<api>.x).
if(ONNXRuntime_INCLUDE_DIR AND EXISTS "${ONNXRuntime_INCLUDE_DIR}/onnxruntime_c_api.h")
  file(STRINGS "${ONNXRuntime_INCLUDE_DIR}/onnxruntime_c_api.h" _ort_api_line
       REGEX "^#define ORT_API_VERSION [0-9]+")
  if(_ort_api_line MATCHES "ORT_API_VERSION ([0-9]+)")
    set(ONNXRuntime_API_VERSION "${CMAKE_MATCH_1}")
    if(NOT ONNXRuntime_HEADERS_VERSION)
      set(ONNXRuntime_HEADERS_VERSION "1.${CMAKE_MATCH_1}")
    endif()
    if(NOT ONNXRuntime_VERSION)
      set(ONNXRuntime_VERSION "1.${CMAKE_MATCH_1}")
    endif()
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ONNXRuntime
  REQUIRED_VARS ONNXRuntime_LIBRARY ONNXRuntime_INCLUDE_DIR
  VERSION_VAR ONNXRuntime_VERSION)

if(ONNXRuntime_FOUND AND NOT TARGET ONNXRuntime::onnxruntime)
  add_library(ONNXRuntime::onnxruntime SHARED IMPORTED)
  set_target_properties(ONNXRuntime::onnxruntime PROPERTIES
    IMPORTED_LOCATION "${ONNXRuntime_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${ONNXRuntime_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${ONNXRuntime_INCLUDE_DIR}")
  # An imported SHARED library with a full path: CMake puts its directory in
  # the build rpath of whatever links it (aegisrt, the benchmark), and
  # CMAKE_INSTALL_RPATH_USE_LINK_PATH keeps it for installs.
  if(NOT ONNXRuntime_HEADERS_VERSION STREQUAL "" AND NOT ONNXRuntime_HEADERS_VERSION MATCHES "^${ONNXRuntime_VERSION}")
    message(STATUS "ONNX Runtime: library ${ONNXRuntime_VERSION}, headers ${ONNXRuntime_HEADERS_VERSION} (older headers are fine: the C API is backward compatible)")
  endif()
endif()

mark_as_advanced(ONNXRuntime_INCLUDE_DIR ONNXRuntime_LIBRARY)
unset(_ort_hints)
