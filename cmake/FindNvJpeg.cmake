# FindNvJpeg: NVIDIA nvJPEG (GPU JPEG decoding), nvjpeg.h + libnvjpeg.
# scripts/deps/45-nvjpeg.sh unpacks PyPI's nvidia-nvjpeg wheel (CUDA 13) into
# third_party/nvjpeg/{include,lib}; a CUDA toolkit that ships nvJPEG works too.
#
# Search roots: NvJpeg_ROOT (CMake or environment variable), then
# ${AEGISRT_THIRD_PARTY_DIR}/nvjpeg, then the CUDA toolkit's folders.
#
# Sets NvJpeg_FOUND, NvJpeg_VERSION, NvJpeg_INCLUDE_DIR, NvJpeg_LIBRARY.
# Imported target: NvJpeg::NvJpeg.

set(_nvj_hints)
foreach(_r IN ITEMS "${NvJpeg_ROOT}" "$ENV{NvJpeg_ROOT}" "${AEGISRT_THIRD_PARTY_DIR}/nvjpeg")
  if(_r)
    list(APPEND _nvj_hints "${_r}")
  endif()
endforeach()
set(_nvj_cuda_inc ${CUDAToolkit_INCLUDE_DIRS})
set(_nvj_cuda_lib ${CUDAToolkit_LIBRARY_DIR})

find_path(NvJpeg_INCLUDE_DIR nvjpeg.h HINTS ${_nvj_hints} PATH_SUFFIXES include
  PATHS ${_nvj_cuda_inc})
find_library(NvJpeg_LIBRARY NAMES nvjpeg libnvjpeg.so.13 libnvjpeg.so.12
  HINTS ${_nvj_hints} PATH_SUFFIXES lib lib64 PATHS ${_nvj_cuda_lib})

set(NvJpeg_VERSION "")
if(NvJpeg_INCLUDE_DIR AND EXISTS "${NvJpeg_INCLUDE_DIR}/nvjpeg.h")
  file(STRINGS "${NvJpeg_INCLUDE_DIR}/nvjpeg.h" _nvj_ver REGEX "^#define NVJPEG_VER_(MAJOR|MINOR|PATCH) ")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "NVJPEG_VER_${_part} +([0-9]+)" _m "${_nvj_ver}")
    set(_nvj_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT _nvj_MAJOR STREQUAL "")
    set(NvJpeg_VERSION "${_nvj_MAJOR}.${_nvj_MINOR}.${_nvj_PATCH}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NvJpeg
  REQUIRED_VARS NvJpeg_LIBRARY NvJpeg_INCLUDE_DIR
  VERSION_VAR NvJpeg_VERSION)

if(NvJpeg_FOUND AND NOT TARGET NvJpeg::NvJpeg)
  add_library(NvJpeg::NvJpeg SHARED IMPORTED)
  set_target_properties(NvJpeg::NvJpeg PROPERTIES
    IMPORTED_LOCATION "${NvJpeg_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NvJpeg_INCLUDE_DIR}")
endif()
mark_as_advanced(NvJpeg_INCLUDE_DIR NvJpeg_LIBRARY)
