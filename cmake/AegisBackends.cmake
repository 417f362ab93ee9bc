# Backends: one folder each under src/backends/<folder>/, listed once in
# AEGISRT_BACKENDS (top-level CMakeLists.txt). Everything else is derived here:
#
#   configure time  aegis_find_backends() includes src/backends/<folder>/backend.cmake,
#                   which calls aegis_declare_backend(): the AEGISRT_WITH_<ID> option,
#                   find_package, AEGISRT_HAVE_<ID> (the one "compiled in" flag).
#   src/            add_subdirectory(backends/<folder>) for each compiled-in backend; its
#                   CMakeLists.txt calls aegis_add_backend(): sources, libraries, rpath.
#   generated       aegis_generate_backend_sources() writes, from the same list,
#                   <build>/generated/aegisrt/build_config.h (build::kHave<Constant>,
#                   build::k<Constant>Version) and <build>/generated/builtin_backends.cpp
#                   (known_backends() and register_builtin_backends(), which calls
#                   aegisrt::register_<folder>_backend(BackendRegistry&) of each
#                   compiled-in backend). src/backend/ includes no backend header.
#   elsewhere       tests/CMakeLists.txt adds tests/backends/<folder> and
#                   tools/aegisrt defines AEGISRT_CLI_HAVE_<ID> for each listed backend.
#
# docs/ARCHITECTURE.md "Adding a backend" is the checklist.

# aegis_declare_backend(<folder> NAME <registry name> ID <ID> CONSTANT <Constant>
#                       PACKAGE <find_package name> [THIRD_PARTY <dir under third_party/>]
#                       [FIND_ARGS <find_package args...>] [OFF_REASON <why it is left out>])
# Called from src/backends/<folder>/backend.cmake (a macro: its variables are the
# top-level scope's, seen by every folder). OFF_REASON leaves the backend out of
# this configuration (e.g. a sanitizer build) with that line in the summary.
macro(aegis_declare_backend folder)
  cmake_parse_arguments(_AEGIS_BE "" "NAME;ID;CONSTANT;PACKAGE;THIRD_PARTY;OFF_REASON" "FIND_ARGS" ${ARGN})
  foreach(_req NAME ID CONSTANT PACKAGE)
    if(NOT _AEGIS_BE_${_req})
      message(FATAL_ERROR "aegis_declare_backend(${folder}): ${_req} is required")
    endif()
  endforeach()
  if(_AEGIS_BE_THIRD_PARTY AND NOT DEFINED ${_AEGIS_BE_PACKAGE}_ROOT AND NOT DEFINED ENV{${_AEGIS_BE_PACKAGE}_ROOT}
     AND EXISTS "${AEGISRT_THIRD_PARTY_DIR}/${_AEGIS_BE_THIRD_PARTY}")
    set(${_AEGIS_BE_PACKAGE}_ROOT "${AEGISRT_THIRD_PARTY_DIR}/${_AEGIS_BE_THIRD_PARTY}")
  endif()
  if(_AEGIS_BE_OFF_REASON)
    set(AEGISRT_WITH_${_AEGIS_BE_ID} AUTO CACHE STRING "Build with ${_AEGIS_BE_PACKAGE}: AUTO (if found), ON, OFF")
    set_property(CACHE AEGISRT_WITH_${_AEGIS_BE_ID} PROPERTY STRINGS AUTO ON OFF)
    set(AEGISRT_HAVE_${_AEGIS_BE_ID} OFF)
    aegis_summary_line("${_AEGIS_BE_ID}: OFF (${_AEGIS_BE_OFF_REASON})")
  else()
    aegis_optional(${_AEGIS_BE_ID} ${_AEGIS_BE_PACKAGE} ${_AEGIS_BE_FIND_ARGS})
  endif()
  set(AEGISRT_BACKEND_${folder}_NAME "${_AEGIS_BE_NAME}")
  set(AEGISRT_BACKEND_${folder}_ID "${_AEGIS_BE_ID}")
  set(AEGISRT_BACKEND_${folder}_CONSTANT "${_AEGIS_BE_CONSTANT}")
  set(AEGISRT_BACKEND_${folder}_PACKAGE "${_AEGIS_BE_PACKAGE}")
  set(AEGISRT_BACKEND_${folder}_DECLARED TRUE)
endmacro()

# Includes every listed backend's backend.cmake (a macro, so the find results
# land in the top-level scope).
macro(aegis_find_backends)
  foreach(_aegis_be IN LISTS AEGISRT_BACKENDS)
    set(_aegis_be_file "${PROJECT_SOURCE_DIR}/src/backends/${_aegis_be}/backend.cmake")
    if(NOT EXISTS "${_aegis_be_file}")
      message(FATAL_ERROR "AEGISRT_BACKENDS lists '${_aegis_be}' but ${_aegis_be_file} does not exist")
    endif()
    include("${_aegis_be_file}")
    if(NOT AEGISRT_BACKEND_${_aegis_be}_DECLARED)
      message(FATAL_ERROR "${_aegis_be_file} must call aegis_declare_backend(${_aegis_be} ...)")
    endif()
  endforeach()
endmacro()

# aegis_add_backend(<folder> SOURCES <files...> [LIBS <targets...>]
#                   [INSTALL_RPATH_FROM <imported targets...>])
# Called from src/backends/<folder>/CMakeLists.txt (added only when the backend
# is compiled in). Adds the sources and private libraries to libaegisrt; the
# installed library finds the imported runtimes (INSTALL_RPATH_FROM, default
# LIBS) where they were found. One of the sources defines
#   namespace aegisrt { void register_<folder>_backend(BackendRegistry&); }
function(aegis_add_backend folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;INSTALL_RPATH_FROM" ${ARGN})
  if(NOT AEGISRT_BACKEND_${folder}_DECLARED)
    message(FATAL_ERROR "aegis_add_backend(${folder}): not declared (list it in AEGISRT_BACKENDS and give "
                        "src/backends/${folder}/backend.cmake an aegis_declare_backend call)")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "aegis_add_backend(${folder}): no SOURCES")
  endif()
  set(_abs "")
  foreach(s IN LISTS ARG_SOURCES)
    list(APPEND _abs "${CMAKE_CURRENT_SOURCE_DIR}/${s}")
  endforeach()
  target_sources(aegisrt PRIVATE ${_abs})
  if(ARG_LIBS)
    target_link_libraries(aegisrt PRIVATE ${ARG_LIBS})
  endif()
  if(NOT DEFINED ARG_INSTALL_RPATH_FROM)
    set(ARG_INSTALL_RPATH_FROM ${ARG_LIBS})
  endif()
  # CMAKE_INSTALL_RPATH_USE_LINK_PATH skips runtimes inside the source tree
  # (third_party/, as scripts/setup.sh lays them out), so add their folders.
  foreach(dep IN LISTS ARG_INSTALL_RPATH_FROM)
    if(TARGET ${dep})
      get_target_property(_loc ${dep} IMPORTED_LOCATION)
      if(NOT _loc)  # packages' own config files (OpenVINO) set per-configuration locations only
        get_target_property(_loc ${dep} IMPORTED_LOCATION_RELEASE)
      endif()
      if(_loc)
        get_filename_component(_dir "${_loc}" DIRECTORY)
        set_property(TARGET aegisrt APPEND PROPERTY INSTALL_RPATH "${_dir}")
      endif()
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY AEGISRT_ADDED_BACKENDS ${folder})
endfunction()

# Writes build_config.h and builtin_backends.cpp from AEGISRT_BACKENDS and adds
# the latter to libaegisrt. Called once, from src/CMakeLists.txt, after the
# backend folders. Files are rewritten only when their content changes.
function(aegis_generate_backend_sources)
  get_property(_added GLOBAL PROPERTY AEGISRT_ADDED_BACKENDS)
  set(_config_lines "")
  set(_decls "")
  set(_known "")
  set(_calls "")
  foreach(b IN LISTS AEGISRT_BACKENDS)
    set(_id "${AEGISRT_BACKEND_${b}_ID}")
    set(_const "${AEGISRT_BACKEND_${b}_CONSTANT}")
    set(_pkg "${AEGISRT_BACKEND_${b}_PACKAGE}")
    if(AEGISRT_HAVE_${_id})
      if(NOT b IN_LIST _added)
        message(FATAL_ERROR "backend '${b}' is compiled in (AEGISRT_HAVE_${_id}) but src/backends/${b}/CMakeLists.txt "
                            "did not call aegis_add_backend(${b} ...)")
      endif()
      set(_bool true)
      string(APPEND _decls "void register_${b}_backend(BackendRegistry& registry);\n")
      string(APPEND _calls "  register_${b}_backend(registry);\n")
    else()
      set(_bool false)
    endif()
    string(APPEND _config_lines "inline constexpr bool kHave${_const} = ${_bool};\n")
    string(APPEND _config_lines "inline constexpr const char* k${_const}Version = \"${${_pkg}_VERSION}\";\n")
    string(APPEND _known "      {\"${AEGISRT_BACKEND_${b}_NAME}\", \"AEGISRT_WITH_${_id}\", ${_bool}},\n")
  endforeach()
  if(AEGISRT_HAVE_CUDA)
    set(AEGISRT_HAVE_CUDA_BOOL true)
  else()
    set(AEGISRT_HAVE_CUDA_BOOL false)
  endif()
  set(AEGISRT_BACKEND_CONFIG_LINES "${_config_lines}")
  configure_file("${PROJECT_SOURCE_DIR}/src/build_config.h.in"
                 "${PROJECT_BINARY_DIR}/generated/aegisrt/build_config.h" @ONLY)
  file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/generated/builtin_backends.cpp" @ONLY CONTENT
"// Generated by cmake/AegisBackends.cmake from AEGISRT_BACKENDS: do not edit.
// The backends AegisRT knows, in listed order, and the registration of those
// compiled into this build.
#include \"aegisrt/backend/registry.h\"

namespace aegisrt {

${_decls}
std::vector<KnownBackend> known_backends() {
  return {
${_known}  };
}

void register_builtin_backends([[maybe_unused]] BackendRegistry& registry) {
${_calls}}

}  // namespace aegisrt
")
  target_sources(aegisrt PRIVATE "${PROJECT_BINARY_DIR}/generated/builtin_backends.cpp")
endfunction()
