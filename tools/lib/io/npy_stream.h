// Internal: the one .npy decoder behind read_npy (a file), decode_npy (bytes in
// memory) and read_npz (a zip entry). The source's total size is known up
// front and every size claim of the header is checked against it before any
// allocation, so a small input can never make the reader allocate more than
// the data it really holds (and never more than ReadOptions::max_tensor_bytes).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io::detail {

/// Fills `dst` exactly from the next bytes of the source, or fails (Corrupt
/// "truncated" naming `part`, IoError on a read error).
using NpyReadFn = std::function<Result<void>(std::span<std::byte> dst, const std::string& part)>;

/// Reads one .npy of `total` bytes through `read`. `what` names the source in
/// every error; the tensor gets `name`.
Result<Tensor> read_npy_stream(std::uint64_t total, const NpyReadFn& read, const std::string& what,
                               std::string name, const ReadOptions& options);

/// IoError "out of memory while reading <what>", for std::bad_alloc caught at
/// the reader's edge.
Error out_of_memory(const std::string& what);

}  // namespace aegisrt::io::detail
