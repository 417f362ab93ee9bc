// libFuzzer target for read_npz (libzip + the .npy decoder): the zip
// directory's size claims, compression methods, CRCs and entry headers. Any
// bytes give tensors or a typed error; crashes, sanitizer reports, exceptions
// and RSS beyond libFuzzer's -rss_limit_mb (an allocation driven by a claim
// instead of real data) are findings.
#include <cstddef>
#include <cstdint>

#include "aegisrt/io/npz.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aegisrt;
  const auto path = fuzz::write_input(data, size, ".npz");
  io::ReadOptions options;
  options.max_tensor_bytes = std::uint64_t{64} << 20;
  auto r = io::read_npz(path, options);
  if (!r.ok()) {
    fuzz::check(fuzz::is_input_error(r.error().code()), "npz_fuzzer", "rejection with an unexpected error code");
    fuzz::check(r.error().message().find(path.string()) != std::string::npos, "npz_fuzzer",
                "error does not name the file");
    return 0;
  }
  for (const auto& t : *r) {
    fuzz::check(!t.name().empty(), "npz_fuzzer", "tensor without a name");
    fuzz::check(t.byte_size() <= options.max_tensor_bytes, "npz_fuzzer", "tensor over the read limit");
  }
  return 0;
}
