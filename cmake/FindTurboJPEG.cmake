# FindTurboJPEG: libjpeg-turbo's TurboJPEG API (turbojpeg.h + libturbojpeg),
# Debian package libturbojpeg0-dev (scripts/deps/00-apt.sh).
#
# Search root: TurboJPEG_ROOT (CMake or environment variable, honoured by
# find_path/find_library through policy CMP0074), then CMAKE_PREFIX_PATH and
# the system. The version comes from pkg-config's libturbojpeg.pc when present.
#
# Sets TurboJPEG_FOUND, TurboJPEG_VERSION, TurboJPEG_INCLUDE_DIR, TurboJPEG_LIBRARY.
# Imported target: TurboJPEG::TurboJPEG.

set(_tj_hints)
foreach(_r IN ITEMS "${TurboJPEG_ROOT}" "$ENV{TurboJPEG_ROOT}")
  if(_r)
    list(APPEND _tj_hints "${_r}")
  endif()
endforeach()

find_path(TurboJPEG_INCLUDE_DIR turbojpeg.h HINTS ${_tj_hints} PATH_SUFFIXES include)
find_library(TurboJPEG_LIBRARY NAMES turbojpeg libturbojpeg.so.0
  HINTS ${_tj_hints} PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu)

set(TurboJPEG_VERSION "")
if(TurboJPEG_LIBRARY)
  get_filename_component(_tj_libdir "${TurboJPEG_LIBRARY}" DIRECTORY)
  if(EXISTS "${_tj_libdir}/pkgconfig/libturbojpeg.pc")
    file(STRINGS "${_tj_libdir}/pkgconfig/libturbojpeg.pc" _tj_ver REGEX "^Version:")
    string(REGEX REPLACE "^Version: *" "" TurboJPEG_VERSION "${_tj_ver}")
  endif()
endif()
if(TurboJPEG_INCLUDE_DIR AND NOT TurboJPEG_VERSION)
  # TJFLAG_LIMITSCANS (which the decoder relies on) first shipped in 2.1.
  file(STRINGS "${TurboJPEG_INCLUDE_DIR}/turbojpeg.h" _tj_limitscans REGEX "define TJFLAG_LIMITSCANS")
  if(_tj_limitscans)
    set(TurboJPEG_VERSION "2.1")
  else()
    set(TurboJPEG_VERSION "2.0")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TurboJPEG
  REQUIRED_VARS TurboJPEG_LIBRARY TurboJPEG_INCLUDE_DIR
  VERSION_VAR TurboJPEG_VERSION)

if(TurboJPEG_FOUND AND NOT TARGET TurboJPEG::TurboJPEG)
  add_library(TurboJPEG::TurboJPEG UNKNOWN IMPORTED)
  set_target_properties(TurboJPEG::TurboJPEG PROPERTIES
    IMPORTED_LOCATION "${TurboJPEG_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${TurboJPEG_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TurboJPEG_INCLUDE_DIR}")
endif()
mark_as_advanced(TurboJPEG_INCLUDE_DIR TurboJPEG_LIBRARY)
unset(_tj_hints)
