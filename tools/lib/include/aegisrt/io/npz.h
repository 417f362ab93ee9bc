// NumPy .npz archives (a zip of .npy files, as written by np.savez and
// np.savez_compressed), read and written through libzip. Stored and deflated
// entries are both supported; entry "x.npy" becomes the tensor named "x".
#pragma once

#include <filesystem>
#include <vector>

#include "aegisrt/core/runtime_types.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io {

enum class NpzCompression : std::uint8_t { Stored, Deflated };

/// Every entry of the archive, in archive order, named by the entry name
/// without its ".npy" suffix. Errors: NotFound, Corrupt (not a zip, CRC
/// error, an entry that is not a valid .npy), Unsupported (entry over the size
/// limit, unsupported dtype or compression method).
Result<std::vector<Tensor>> read_npz(const std::filesystem::path& path,
                                     const ReadOptions& options = {});

/// Writes named host views as "<name>.npy" entries. Names must be non-empty and
/// unique (InvalidArgument otherwise). The file appears atomically.
Result<void> write_npz(const std::filesystem::path& path,
                       const std::vector<NamedTensorView>& tensors,
                       NpzCompression compression = NpzCompression::Stored);

}  // namespace aegisrt::io
