// Tensor files by extension (.npy, .npz, .pb) and folders of them, as the CLI's
// --input / --inputs-dir / --save-outputs use them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io {

enum class TensorFileFormat : std::uint8_t { Npy, Npz, TensorProto };

/// By extension: ".npy", ".npz", ".pb" (case-insensitive); nullopt otherwise.
std::optional<TensorFileFormat> tensor_file_format(const std::filesystem::path& path);

/// Reads a .npy or .pb (one tensor) or a .npz (each entry). Tensors are named
/// (npy: file stem; pb: the proto's name or the stem; npz: entry names).
/// InvalidArgument for an unknown extension.
Result<std::vector<Tensor>> read_tensor_file(const std::filesystem::path& path,
                                             const ReadOptions& options = {});

/// Reads every .npy/.npz/.pb file directly inside `dir`, in file-name order.
/// NotFound if `dir` is not a directory; InvalidArgument if two files give the
/// same tensor name.
Result<std::vector<Tensor>> read_tensor_dir(const std::filesystem::path& dir,
                                            const ReadOptions& options = {});

/// A file name (without extension) for a tensor name: characters outside
/// [A-Za-z0-9._-] become '_' ("images:0" -> "images_0"); empty -> "tensor".
std::string tensor_file_stem(std::string_view tensor_name);

/// Writes each tensor as <dir>/<stem>.npy (creating dir), stems made unique
/// with a "_<k>" suffix on collision. Returns the paths, in tensor order.
Result<std::vector<std::filesystem::path>> write_tensors_npy(const std::filesystem::path& dir,
                                                             const std::vector<Tensor>& tensors);

}  // namespace aegisrt::io
