# Install rules and the exported CMake package: find_package(aegisrt) -> aegisrt::aegisrt.
include(CMakePackageConfigHelpers)
install(TARGETS aegisrt EXPORT aegisrtTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/aegisrt" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_BINARY_DIR}/generated/aegisrt/build_config.h"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aegisrt)
if(EXISTS "${PROJECT_SOURCE_DIR}/models")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/models/" DESTINATION ${CMAKE_INSTALL_DATADIR}/aegisrt/models)
endif()
install(EXPORT aegisrtTargets NAMESPACE aegisrt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aegisrt)
configure_package_config_file(cmake/aegisrtConfig.cmake.in
  "${PROJECT_BINARY_DIR}/aegisrtConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aegisrt)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/aegisrtConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/aegisrtConfig.cmake" "${PROJECT_BINARY_DIR}/aegisrtConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/aegisrt)
