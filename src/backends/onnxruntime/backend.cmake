# ONNX Runtime: registry name "onnx", -DAEGISRT_WITH_ONNXRUNTIME=AUTO|ON|OFF,
# found by cmake/FindONNXRuntime.cmake (scripts/setup.sh unpacks it into third_party/onnxruntime).
aegis_declare_backend(onnxruntime NAME onnx ID ONNXRUNTIME CONSTANT OnnxRuntime
                      PACKAGE ONNXRuntime THIRD_PARTY onnxruntime)
