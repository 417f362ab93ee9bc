# One interface target carrying our warning flags; linked PRIVATE by our targets only,
# so third-party code (included as SYSTEM) is not held to them.
add_library(aegisrt_warnings INTERFACE)
target_compile_options(aegisrt_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${AEGISRT_WERROR}>>:-Werror>
  # GCC 12 reports false -Wrestrict on `"x" + std::string` at -O2/-O3 (GCC bug 105651).
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${AEGISRT_WERROR}>>:-Werror=all-warnings>)
