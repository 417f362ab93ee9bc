// libFuzzer target for the .npy decoder (decode_npy: the code behind read_npy
// and every .npz entry). Any bytes give a tensor consistent with its header
// or a typed error; a crash, sanitizer report, exception or untyped error is a
// finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "aegisrt/io/npy.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aegisrt;
  io::ReadOptions options;
  options.max_tensor_bytes = std::uint64_t{64} << 20;  // keep legit allocations small
  options.float64_to_float32 = (size % 2) == 0;
  const auto bytes = std::as_bytes(std::span(data, size));
  auto t = io::decode_npy(bytes, "fuzz.npy", options);
  if (!t.ok()) {
    fuzz::check(fuzz::is_input_error(t.error().code()), "npy_fuzzer", "rejection with an unexpected error code");
    fuzz::check(!t.error().message().empty(), "npy_fuzzer", "error without a message");
    return 0;
  }
  fuzz::check(t->byte_size() <= options.max_tensor_bytes, "npy_fuzzer", "tensor over the read limit");
  // The payload never exceeds the input: raw bytes for numeric tensors; for
  // string tensors (whose byte_size() counts std::string objects, not data)
  // the characters (UTF-32 code units become at most 4 UTF-8 bytes each).
  fuzz::check(fuzz::payload_bytes(*t) <= size, "npy_fuzzer", "decoded more bytes than the input holds");
  // What we decoded re-encodes and decodes to the same bytes.
  auto again = io::encode_npy(t->view());
  fuzz::check(again.ok(), "npy_fuzzer", "a decoded tensor does not re-encode");
  auto back = io::decode_npy(*again, "re-encoded");
  fuzz::check(back.ok() && back->byte_size() == t->byte_size(), "npy_fuzzer", "re-encoded tensor does not decode");
  return 0;
}
