// libFuzzer target for read_tensor_proto (onnx.TensorProto .pb through the
// ONNX protobuf library): dims claiming more than the data, typed fields,
// raw_data. Without ONNX protobuf support every read is Unsupported.
#include <cstddef>
#include <cstdint>

#include "aegisrt/io/tensor_proto.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aegisrt;
  const auto path = fuzz::write_input(data, size, ".pb");
  io::ReadOptions options;
  options.max_tensor_bytes = std::uint64_t{64} << 20;
  options.float64_to_float32 = (size % 2) == 0;
  auto t = io::read_tensor_proto(path, options);
  if (!t.ok()) {
    fuzz::check(fuzz::is_input_error(t.error().code()), "pb_fuzzer", "rejection with an unexpected error code");
    return 0;
  }
  fuzz::check(t->byte_size() <= options.max_tensor_bytes, "pb_fuzzer", "tensor over the read limit");
  return 0;
}
