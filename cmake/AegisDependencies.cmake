# Required third-party libraries (Debian packages, installed by scripts/setup.sh)
# and the AUTO/ON/OFF resolution of each optional backend dependency.
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
find_package(Threads REQUIRED)
# SHA-256 for cache keys and artefact checksums (libssl-dev; issue 16).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
# ICU (Debian libicu-dev): Unicode classes for the BPE tokenizer's GPT-2
# pre-tokenizer and NFD/properties for the WordPiece tokenizer (src/text).
find_package(ICU REQUIRED COMPONENTS uc)
if(AEGISRT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(AEGISRT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

set(AEGISRT_SUMMARY "")
macro(aegis_summary_line text)
  list(APPEND AEGISRT_SUMMARY "${text}")
endmacro()

# aegis_optional(<OPTION suffix> <package> [find_package args...])
# Cache string AEGISRT_WITH_<X> in {AUTO, ON, OFF}; sets AEGISRT_HAVE_<X>.
macro(aegis_optional name pkg)
  set(AEGISRT_WITH_${name} AUTO CACHE STRING "Build with ${pkg}: AUTO (if found), ON, OFF")
  set_property(CACHE AEGISRT_WITH_${name} PROPERTY STRINGS AUTO ON OFF)
  set(AEGISRT_HAVE_${name} OFF)
  if(NOT AEGISRT_WITH_${name} STREQUAL "OFF")
    find_package(${pkg} ${ARGN} QUIET)
    if(${pkg}_FOUND)
      set(AEGISRT_HAVE_${name} ON)
    elseif(AEGISRT_WITH_${name} STREQUAL "ON")
      message(FATAL_ERROR "AEGISRT_WITH_${name}=ON but ${pkg} was not found "
                          "(set ${pkg}_ROOT or run scripts/setup.sh)")
    endif()
  endif()
  if(AEGISRT_HAVE_${name})
    aegis_summary_line("${name}: ON (${pkg} ${${pkg}_VERSION})")
  else()
    aegis_summary_line("${name}: OFF (AEGISRT_WITH_${name}=${AEGISRT_WITH_${name}}, not found or disabled)")
  endif()
endmacro()

# Default roots for what scripts/setup.sh installs into third_party/ (git-ignored).
set(AEGISRT_THIRD_PARTY_DIR "${PROJECT_SOURCE_DIR}/third_party" CACHE PATH "Where setup.sh unpacks dependencies")
aegis_optional(CUDA CUDAToolkit)
# The inference backends: AEGISRT_BACKENDS (top-level CMakeLists.txt) names their
# folders; each src/backends/<folder>/backend.cmake declares its option and
# dependency (cmake/AegisBackends.cmake).
include(AegisBackends)
aegis_find_backends()
# --- FFmpeg (video in/out, src/media): Debian's libavformat/libavcodec/libavutil/
# libswscale -dev packages, found through pkg-config. AUTO: on when found.
set(AEGISRT_WITH_FFMPEG AUTO CACHE STRING "Build with FFmpeg (video in/out): AUTO (if found), ON, OFF")
set_property(CACHE AEGISRT_WITH_FFMPEG PROPERTY STRINGS AUTO ON OFF)
set(AEGISRT_HAVE_FFMPEG OFF)
if(NOT AEGISRT_WITH_FFMPEG STREQUAL "OFF")
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(AEGISRT_FFMPEG QUIET IMPORTED_TARGET libavformat libavcodec libavutil libswscale)
  endif()
  if(AEGISRT_FFMPEG_FOUND)
    set(AEGISRT_HAVE_FFMPEG ON)
  elseif(AEGISRT_WITH_FFMPEG STREQUAL "ON")
    message(FATAL_ERROR "AEGISRT_WITH_FFMPEG=ON but libavformat/libavcodec/libavutil/libswscale were not "
                        "found by pkg-config (scripts/deps/00-apt.sh installs them)")
  endif()
endif()
if(AEGISRT_HAVE_FFMPEG)
  aegis_summary_line("FFMPEG: ON (libavformat ${AEGISRT_FFMPEG_libavformat_VERSION})")
else()
  aegis_summary_line("FFMPEG: OFF (AEGISRT_WITH_FFMPEG=${AEGISRT_WITH_FFMPEG}, not found or disabled)")
endif()
# --- end FFmpeg
if(AEGISRT_HAVE_CUDA)
  # The CUDA language is needed for our kernels (vision pre-processing).
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 87 90)  # Jetson Orin, Hopper
  endif()
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND CUDAToolkit_NVCC_EXECUTABLE)
    set(CMAKE_CUDA_COMPILER "${CUDAToolkit_NVCC_EXECUTABLE}")
  endif()
  enable_language(CUDA)
endif()
# --- nvJPEG (GPU JPEG decoding on the device path; scripts/deps/45-nvjpeg.sh puts
# PyPI's nvidia-nvjpeg into third_party/nvjpeg). AUTO: on when found and CUDA is on.
set(AEGISRT_WITH_NVJPEG AUTO CACHE STRING "Build with nvJPEG (GPU JPEG decode): AUTO (if found with CUDA), ON, OFF")
set_property(CACHE AEGISRT_WITH_NVJPEG PROPERTY STRINGS AUTO ON OFF)
set(AEGISRT_HAVE_NVJPEG OFF)
if(AEGISRT_HAVE_CUDA AND NOT AEGISRT_WITH_NVJPEG STREQUAL "OFF")
  find_package(NvJpeg QUIET)
  if(NvJpeg_FOUND)
    set(AEGISRT_HAVE_NVJPEG ON)
  endif()
endif()
if(AEGISRT_WITH_NVJPEG STREQUAL "ON" AND NOT AEGISRT_HAVE_NVJPEG)
  message(FATAL_ERROR "AEGISRT_WITH_NVJPEG=ON but nvJPEG was not found with CUDA on "
                      "(run scripts/deps/45-nvjpeg.sh or set NvJpeg_ROOT; needs AEGISRT_WITH_CUDA)")
endif()
if(AEGISRT_HAVE_NVJPEG)
  aegis_summary_line("NVJPEG: ON (nvJPEG ${NvJpeg_VERSION}, ${NvJpeg_LIBRARY})")
else()
  aegis_summary_line("NVJPEG: OFF (AEGISRT_WITH_NVJPEG=${AEGISRT_WITH_NVJPEG}, not found, disabled or no CUDA)")
endif()
# --- end nvJPEG

find_package(Python3 COMPONENTS Interpreter)

function(aegis_print_summary)
  message(STATUS "")
  message(STATUS "AegisRT ${PROJECT_VERSION} configuration")
  message(STATUS "  build type: ${CMAKE_BUILD_TYPE}, sanitizers: '${AEGISRT_SANITIZE}', werror: ${AEGISRT_WERROR}")
  message(STATUS "  yaml-cpp ${yaml-cpp_VERSION}, spdlog ${spdlog_VERSION}, fmt ${fmt_VERSION}, nlohmann_json ${nlohmann_json_VERSION}, CLI11 ${CLI11_VERSION}")
  foreach(line IN LISTS AEGISRT_SUMMARY)
    message(STATUS "  ${line}")
  endforeach()
  message(STATUS "")
endfunction()
