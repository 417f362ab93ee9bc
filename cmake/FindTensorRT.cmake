# FindTensorRT: NVIDIA TensorRT (NvInfer.h + libnvinfer, and libnvonnxparser for
# building engines from ONNX).
#
# Search order: TensorRT_ROOT (CMake or environment variable; the tar layout
# <root>/{include,lib}), then the CUDA toolkit's folders (CUDAToolkit_ROOT /
# CUDA_HOME / CUDA_PATH: JetPack and the Debian packages install there or in
# the system folders), then the system (/usr/include/<arch>, /usr/lib/<arch>).
#
# The version comes from NvInferVersion.h: TRT_MAJOR_ENTERPRISE/... (10.x and
# 11.x, where NV_TENSORRT_MAJOR aliases them) or NV_TENSORRT_MAJOR/... literals
# (8.x). TensorRT older than 8.6 is rejected (AegisRT uses enqueueV3 and the
# name-based I/O tensor API).
#
# Sets:
#   TensorRT_FOUND, TensorRT_VERSION ("10.16.0.72"), TensorRT_VERSION_MAJOR/MINOR/PATCH/BUILD
#   TensorRT_INCLUDE_DIR, TensorRT_LIBRARY, TensorRT_ONNXPARSER_LIBRARY
#   TensorRT_nvonnxparser_FOUND
# Imported targets (SYSTEM include dirs):
#   TensorRT::nvinfer       libnvinfer + headers
#   TensorRT::nvonnxparser  libnvonnxparser (+ TensorRT::nvinfer)
# Components: find_package(TensorRT COMPONENTS nvonnxparser) makes the parser
# required; AegisRT asks for it because its backend builds engines from ONNX.
# Defines nothing on consumers: AEGISRT_HAVE_TENSORRT is set by AegisRT's own
# CMake only on the targets that need it.

set(_trt_hints)
foreach(_v TensorRT_ROOT)
  if(DEFINED ${_v})
    list(APPEND _trt_hints "${${_v}}")
  endif()
  if(DEFINED ENV{${_v}})
    list(APPEND _trt_hints "$ENV{${_v}}")
  endif()
endforeach()
foreach(_v CUDAToolkit_ROOT CUDA_HOME CUDA_PATH)
  if(DEFINED ${_v})
    list(APPEND _trt_hints "${${_v}}")
  endif()
  if(DEFINED ENV{${_v}})
    list(APPEND _trt_hints "$ENV{${_v}}")
  endif()
endforeach()
if(CUDAToolkit_LIBRARY_ROOT)
  list(APPEND _trt_hints "${CUDAToolkit_LIBRARY_ROOT}")
endif()

find_path(TensorRT_INCLUDE_DIR NvInfer.h
  HINTS ${_trt_hints}
  PATH_SUFFIXES include include/tensorrt targets/x86_64-linux/include targets/aarch64-linux/include)
find_library(TensorRT_LIBRARY NAMES nvinfer
  HINTS ${_trt_hints}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu targets/x86_64-linux/lib
                targets/aarch64-linux/lib)
find_library(TensorRT_ONNXPARSER_LIBRARY NAMES nvonnxparser
  HINTS ${_trt_hints}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu targets/x86_64-linux/lib
                targets/aarch64-linux/lib)

set(TensorRT_VERSION "")
if(TensorRT_INCLUDE_DIR AND EXISTS "${TensorRT_INCLUDE_DIR}/NvInferVersion.h")
  file(STRINGS "${TensorRT_INCLUDE_DIR}/NvInferVersion.h" _trt_defines REGEX "^#define [A-Z_]+ ")
  foreach(_part MAJOR MINOR PATCH BUILD)
    set(_trt_${_part} "")
    # 10.x / 11.x: TRT_<PART>_ENTERPRISE holds the number.
    foreach(_l IN LISTS _trt_defines)
      if(_l MATCHES "^#define TRT_${_part}_ENTERPRISE +([0-9]+)")
        set(_trt_${_part} "${CMAKE_MATCH_1}")
      endif()
    endforeach()
    # 8.x: NV_TENSORRT_<PART> holds the number itself.
    if(_trt_${_part} STREQUAL "")
      foreach(_l IN LISTS _trt_defines)
        if(_l MATCHES "^#define NV_TENSORRT_${_part} +([0-9]+)")
          set(_trt_${_part} "${CMAKE_MATCH_1}")
        endif()
      endforeach()
    endif()
    set(TensorRT_VERSION_${_part} "${_trt_${_part}}")
  endforeach()
  if(NOT TensorRT_VERSION_MAJOR STREQUAL "" AND NOT TensorRT_VERSION_MINOR STREQUAL "")
    set(TensorRT_VERSION "${TensorRT_VERSION_MAJOR}.${TensorRT_VERSION_MINOR}")
    foreach(_part PATCH BUILD)
      if(NOT TensorRT_VERSION_${_part} STREQUAL "")
        string(APPEND TensorRT_VERSION ".${TensorRT_VERSION_${_part}}")
      endif()
    endforeach()
  endif()
endif()

set(_trt_min_version 8.6)
set(_trt_version_ok TRUE)
if(TensorRT_VERSION AND TensorRT_VERSION VERSION_LESS _trt_min_version)
  set(_trt_version_ok FALSE)
  if(NOT TensorRT_FIND_QUIETLY)
    message(STATUS "TensorRT ${TensorRT_VERSION} at ${TensorRT_INCLUDE_DIR} is older than ${_trt_min_version}; ignoring it")
  endif()
endif()
# Only a usable version counts: an older TensorRT is "not found".
if(NOT _trt_version_ok)
  set(_trt_usable_version "")
else()
  set(_trt_usable_version "${TensorRT_VERSION}")
endif()

set(TensorRT_nvinfer_FOUND FALSE)
if(TensorRT_LIBRARY AND TensorRT_INCLUDE_DIR)
  set(TensorRT_nvinfer_FOUND TRUE)
endif()
set(TensorRT_nvonnxparser_FOUND FALSE)
if(TensorRT_ONNXPARSER_LIBRARY AND TensorRT_INCLUDE_DIR AND EXISTS "${TensorRT_INCLUDE_DIR}/NvOnnxParser.h")
  set(TensorRT_nvonnxparser_FOUND TRUE)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorRT
  REQUIRED_VARS TensorRT_LIBRARY TensorRT_INCLUDE_DIR _trt_usable_version
  VERSION_VAR TensorRT_VERSION
  HANDLE_COMPONENTS)

if(TensorRT_FOUND AND NOT TARGET TensorRT::nvinfer)
  add_library(TensorRT::nvinfer SHARED IMPORTED)
  set_target_properties(TensorRT::nvinfer PROPERTIES
    IMPORTED_LOCATION "${TensorRT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${TensorRT_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TensorRT_INCLUDE_DIR}")
endif()
if(TensorRT_FOUND AND TensorRT_nvonnxparser_FOUND AND NOT TARGET TensorRT::nvonnxparser)
  add_library(TensorRT::nvonnxparser SHARED IMPORTED)
  set_target_properties(TensorRT::nvonnxparser PROPERTIES
    IMPORTED_LOCATION "${TensorRT_ONNXPARSER_LIBRARY}"
    INTERFACE_LINK_LIBRARIES TensorRT::nvinfer)
endif()

mark_as_advanced(TensorRT_INCLUDE_DIR TensorRT_LIBRARY TensorRT_ONNXPARSER_LIBRARY)
unset(_trt_hints)
unset(_trt_defines)
