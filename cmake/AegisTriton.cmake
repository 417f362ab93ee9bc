# Triton Inference Server integration (issue 17): AEGISRT_WITH_TRITON in
# {AUTO, ON, OFF}. AUTO builds the Triton backend (libtriton_aegisrt.so) and
# the serving tests when scripts/deps/50-triton.sh has installed the pinned
# tritonserver wheel into third_party/triton. The backend itself needs no
# Triton headers (src/serving/triton/triton_c_api.h declares the C API subset);
# the server is needed to run it.
# Sets AEGISRT_HAVE_TRITON, AEGISRT_TRITON_DIR (bin/tritonserver, lib/, PYTHON)
# and AEGISRT_TRITON_PYTHON (the interpreter with tritonclient).
set(AEGISRT_WITH_TRITON AUTO CACHE STRING "Build the Triton backend: AUTO (if tritonserver is installed), ON, OFF")
set_property(CACHE AEGISRT_WITH_TRITON PROPERTY STRINGS AUTO ON OFF)
set(AEGISRT_TRITON_DIR "${AEGISRT_THIRD_PARTY_DIR}/triton" CACHE PATH
    "Where scripts/deps/50-triton.sh installs tritonserver (bin/, lib/, PYTHON)")
set(AEGISRT_HAVE_TRITON OFF)
set(AEGISRT_TRITON_PYTHON "")
if(NOT AEGISRT_WITH_TRITON STREQUAL "OFF")
  if(EXISTS "${AEGISRT_TRITON_DIR}/bin/tritonserver" AND EXISTS "${AEGISRT_TRITON_DIR}/VERSION")
    set(AEGISRT_HAVE_TRITON ON)
    if(EXISTS "${AEGISRT_TRITON_DIR}/PYTHON")
      file(STRINGS "${AEGISRT_TRITON_DIR}/PYTHON" AEGISRT_TRITON_PYTHON LIMIT_COUNT 1)
    endif()
    file(STRINGS "${AEGISRT_TRITON_DIR}/VERSION" _aegis_triton_version REGEX "^triton=")
    aegis_summary_line("TRITON: ON (${_aegis_triton_version} in ${AEGISRT_TRITON_DIR})")
  elseif(AEGISRT_WITH_TRITON STREQUAL "ON")
    message(FATAL_ERROR "AEGISRT_WITH_TRITON=ON but ${AEGISRT_TRITON_DIR}/bin/tritonserver was not found "
                        "(run scripts/deps/50-triton.sh)")
  endif()
endif()
if(NOT AEGISRT_HAVE_TRITON)
  aegis_summary_line("TRITON: OFF (AEGISRT_WITH_TRITON=${AEGISRT_WITH_TRITON}, tritonserver not installed or disabled)")
endif()
