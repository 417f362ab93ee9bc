# NVIDIA TensorRT (>= 8.6, with nvonnxparser; needs the CUDA toolkit):
# registry name "tensorrt", -DAEGISRT_WITH_TENSORRT=AUTO|ON|OFF, found by
# cmake/FindTensorRT.cmake (third_party/tensorrt).
aegis_declare_backend(tensorrt NAME tensorrt ID TENSORRT CONSTANT TensorRT
                      PACKAGE TensorRT THIRD_PARTY tensorrt FIND_ARGS COMPONENTS nvonnxparser)
if(AEGISRT_HAVE_TENSORRT AND NOT AEGISRT_HAVE_CUDA)
  message(FATAL_ERROR "TensorRT needs the CUDA toolkit (AEGISRT_WITH_CUDA)")
endif()
