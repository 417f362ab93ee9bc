# Apache TVM (Relax VM through tvm-ffi): registry name "tvm",
# -DAEGISRT_WITH_TVM=AUTO|ON|OFF, found by cmake/FindTVM.cmake (third_party/tvm).
aegis_declare_backend(tvm NAME tvm ID TVM CONSTANT Tvm PACKAGE TVM THIRD_PARTY tvm)
