// NumPy .npy files: read (format versions 1.0, 2.0, 3.0; C or Fortran order;
// little- or big-endian) and write (version 1.0, or 2.0 for huge headers,
// little-endian, C order) for every AegisRT DType.
//
// dtype mapping ("descr" in the header):
//   float32 '<f4'  float16 '<f2'  float64 '<f8'  int8 '|i1'  uint8 '|u1'
//   int16 '<i2'  uint16 '<u2'  int32 '<i4'  uint32 '<u4'  int64 '<i8'
//   uint64 '<u8'  bool '|b1'  bfloat16 '<V2'  string '<U n' (or '|S n')
//   float8/int4: the ml_dtypes name ('float8_e4m3fn', 'int4', ...)
// numpy has no native bfloat16: ml_dtypes' bfloat16 arrays are saved by
// np.save as '<V2' (2 raw bytes), so that is what we write, and on reading a
// 2-byte void ('<V2', '|V2', 'V2') or the descr 'bfloat16' means bfloat16.
// ml_dtypes' float8/int4 arrays are saved by np.save as an ambiguous '<V1'
// (refused on reading); we write their ml_dtypes name, which np.load reads
// once ml_dtypes is imported ('<f1' is read as float8_e5m2, as ml_dtypes
// saves it). Strings: UTF-8 in memory, UTF-32 '<U n' in the file; strings
// that are not valid UTF-8 are written as bytes ('|S n'). Object arrays
// ('|O', pickles) are refused. See docs/EXEC.md.
// Fortran-order files are transposed to C order on reading.
//
// Every failure is a typed Error naming the file: NotFound (missing), IoError
// (unreadable), Corrupt (bad magic, bad header, truncated data, data size not
// matching the shape), Unsupported (dtype we do not have, structured dtypes,
// a tensor over ReadOptions::max_tensor_bytes).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io {

/// Reads one .npy file into a host tensor named after the file's stem.
Result<Tensor> read_npy(const std::filesystem::path& path, const ReadOptions& options = {});

/// Decodes .npy bytes already in memory (an .npz entry, a fuzzer input).
/// `what` names the source in error messages ("'a.npz' entry 'x.npy'").
Result<Tensor> decode_npy(std::span<const std::byte> bytes, std::string_view what,
                          const ReadOptions& options = {});

/// Encodes a host view (any strides) as .npy bytes (version 1.0 header padded
/// to a multiple of 64 bytes, like numpy).
Result<std::vector<std::byte>> encode_npy(const TensorView& view);

/// Writes a host view as .npy. The file appears atomically (temp + rename).
Result<void> write_npy(const std::filesystem::path& path, const TensorView& view);

/// The header descr written for a dtype ("<f4", "|b1", "<V2", ...; for
/// strings the prefix "<U", the width being chosen per tensor).
std::string_view npy_descr(DType dtype) noexcept;

}  // namespace aegisrt::io
