# FindTVM: Apache TVM's runtime for running Relax VM libraries, from the PyPI
# wheels apache-tvm (libtvm_runtime, libtvm_runtime_cuda, the compiler) and
# apache-tvm-ffi (headers incl. dlpack, libtvm_ffi).
#
# Search root: TVM_ROOT (CMake or environment variable). Two layouts work:
#   * what scripts/deps/30-tvm.sh writes: <root>/{include,lib,VERSION,PYTHON}
#   * a Python site-packages folder holding tvm/ and tvm_ffi/ (e.g. .venv/lib/python3.11/site-packages)
# tvm-ffi also ships tvm_ffi-config.cmake, but it runs Python at configure time
# and knows nothing of libtvm_runtime, so we do not use it.
#
# Sets:
#   TVM_FOUND, TVM_VERSION (apache-tvm), TVM_FFI_VERSION (apache-tvm-ffi)
#   TVM_INCLUDE_DIR (holds tvm/ffi/*.h and dlpack/dlpack.h)
#   TVM_FFI_LIBRARY, TVM_RUNTIME_LIBRARY, TVM_RUNTIME_CUDA_LIBRARY (may be empty)
#   TVM_LIBRARY_DIR   where libtvm_runtime.so lives (libtvm_runtime_cuda.so is dlopen'ed from there)
#   TVM_PYTHON        interpreter with the TVM compiler, when known
# Imported targets: TVM::ffi, TVM::runtime (links TVM::ffi). Their directories
# are added to the build rpath of what links them: no LD_LIBRARY_PATH needed.

set(_tvm_roots)
foreach(_r IN ITEMS "${TVM_ROOT}" "$ENV{TVM_ROOT}")
  if(_r)
    list(APPEND _tvm_roots "${_r}")
  endif()
endforeach()

find_path(TVM_INCLUDE_DIR tvm/ffi/function.h
  HINTS ${_tvm_roots}
  PATH_SUFFIXES include tvm_ffi/include
  NO_DEFAULT_PATH)
find_library(TVM_FFI_LIBRARY NAMES tvm_ffi
  HINTS ${_tvm_roots}
  PATH_SUFFIXES lib tvm_ffi/lib
  NO_DEFAULT_PATH)
find_library(TVM_RUNTIME_LIBRARY NAMES tvm_runtime
  HINTS ${_tvm_roots}
  PATH_SUFFIXES lib tvm/lib
  NO_DEFAULT_PATH)
find_library(TVM_RUNTIME_CUDA_LIBRARY NAMES tvm_runtime_cuda
  HINTS ${_tvm_roots}
  PATH_SUFFIXES lib tvm/lib
  NO_DEFAULT_PATH)

set(TVM_VERSION "")
set(TVM_FFI_VERSION "")
set(TVM_PYTHON "")
foreach(_r IN LISTS _tvm_roots)
  if(EXISTS "${_r}/VERSION")
    file(STRINGS "${_r}/VERSION" _tvm_lines)
    foreach(_l IN LISTS _tvm_lines)
      if(_l MATCHES "^tvm=(.+)$")
        set(TVM_VERSION "${CMAKE_MATCH_1}")
      elseif(_l MATCHES "^tvm_ffi=(.+)$")
        set(TVM_FFI_VERSION "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endif()
  if(EXISTS "${_r}/PYTHON" AND NOT TVM_PYTHON)
    file(STRINGS "${_r}/PYTHON" _tvm_py LIMIT_COUNT 1)
    set(TVM_PYTHON "${_tvm_py}")
  endif()
  # site-packages layout: the wheels' own version files.
  if(NOT TVM_VERSION AND EXISTS "${_r}/tvm/_version.py")
    file(STRINGS "${_r}/tvm/_version.py" _v REGEX "^__version__ = version = ")
    if(_v MATCHES "'([^']+)'")
      set(TVM_VERSION "${CMAKE_MATCH_1}")
    endif()
  endif()
  if(NOT TVM_FFI_VERSION AND EXISTS "${_r}/tvm_ffi/_version.py")
    file(STRINGS "${_r}/tvm_ffi/_version.py" _v REGEX "^__version__ = version = ")
    if(_v MATCHES "'([^']+)'")
      set(TVM_FFI_VERSION "${CMAKE_MATCH_1}")
    endif()
  endif()
endforeach()
# Last resort: tvm-ffi's header version (TVM's own is unknown then).
if(NOT TVM_FFI_VERSION AND TVM_INCLUDE_DIR AND EXISTS "${TVM_INCLUDE_DIR}/tvm/ffi/c_api.h")
  file(STRINGS "${TVM_INCLUDE_DIR}/tvm/ffi/c_api.h" _v REGEX "^#define TVM_FFI_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3" TVM_FFI_VERSION "${_v}")
endif()
if(NOT TVM_VERSION AND TVM_RUNTIME_LIBRARY)
  set(TVM_VERSION "unknown")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TVM
  REQUIRED_VARS TVM_RUNTIME_LIBRARY TVM_FFI_LIBRARY TVM_INCLUDE_DIR
  VERSION_VAR TVM_VERSION)

if(TVM_FOUND)
  get_filename_component(TVM_LIBRARY_DIR "${TVM_RUNTIME_LIBRARY}" DIRECTORY)
  if(NOT TARGET TVM::ffi)
    add_library(TVM::ffi SHARED IMPORTED)
    set_target_properties(TVM::ffi PROPERTIES
      IMPORTED_LOCATION "${TVM_FFI_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${TVM_INCLUDE_DIR}"
      INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TVM_INCLUDE_DIR}")
  endif()
  if(NOT TARGET TVM::runtime)
    add_library(TVM::runtime SHARED IMPORTED)
    set_target_properties(TVM::runtime PROPERTIES
      IMPORTED_LOCATION "${TVM_RUNTIME_LIBRARY}"
      INTERFACE_LINK_LIBRARIES TVM::ffi)
  endif()
endif()
mark_as_advanced(TVM_INCLUDE_DIR TVM_FFI_LIBRARY TVM_RUNTIME_LIBRARY TVM_RUNTIME_CUDA_LIBRARY)
