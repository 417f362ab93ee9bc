# Intel OpenVINO (scripts/deps/35-openvino.sh unpacks the PyPI wheel's C++ SDK
# into third_party/openvino; its own OpenVINOConfig.cmake, under <root>/openvino/cmake):
# registry name "openvino", -DAEGISRT_WITH_OPENVINO=AUTO|ON|OFF.
set(_aegis_ov_off "")
if(AEGISRT_SANITIZE MATCHES "address|thread|memory|leak" AND NOT AEGISRT_WITH_OPENVINO STREQUAL "ON")
  # The wheel's oneTBB dlopen()s libtbbbind with RTLD_DEEPBIND, which the
  # sanitizer runtimes refuse (the process aborts on the first compile), so
  # sanitizer builds leave OpenVINO out unless asked for explicitly.
  set(_aegis_ov_off "sanitizer build: the wheel's oneTBB loads libtbbbind with RTLD_DEEPBIND, "
                    "which ASan/TSan abort on; -DAEGISRT_WITH_OPENVINO=ON forces it")
  string(JOIN "" _aegis_ov_off ${_aegis_ov_off})
endif()
aegis_declare_backend(openvino NAME openvino ID OPENVINO CONSTANT OpenVINO
                      PACKAGE OpenVINO THIRD_PARTY openvino FIND_ARGS CONFIG COMPONENTS Runtime ONNX
                      OFF_REASON "${_aegis_ov_off}")
