// ONNX test-data folders and expected outputs for `aegisrt exec`.
//
// ONNX's layout (onnx/backend/test/data, the model zoo, onnx_test_runner):
//   test_data_set_0/input_0.pb, input_1.pb, ...   inputs, by position
//   test_data_set_0/output_0.pb, output_1.pb, ...  expected outputs, by position
// TensorProto names, when present, are the model's tensor names.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/inputs.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io {

/// k for a file named "output_<k>.pb" (case-insensitive extension); nullopt otherwise.
std::optional<std::size_t> onnx_output_file_index(const std::filesystem::path& file);
/// k for a file named "input_<k>.pb"; nullopt otherwise.
std::optional<std::size_t> onnx_input_file_index(const std::filesystem::path& file);

/// An expected output value and where it came from.
struct ExpectedTensor {
  Tensor tensor;  // named (the TensorProto's name, the file stem, or the .npz entry)
  std::string origin;
  /// k for output_<k>.pb (or a tensor named "output_<k>"): binds to the k-th
  /// model output when its name matches none.
  std::optional<std::size_t> position = std::nullopt;
};

/// What an --inputs-dir folder holds: output_<k>.pb files are expected outputs
/// (in k order), every other .npy/.npz/.pb file gives inputs (file-name order;
/// input_<k>.pb carries position k).
struct InputsDir {
  std::vector<ProvidedTensor> inputs;
  std::vector<ExpectedTensor> expected;
};

/// Reads an --inputs-dir folder. NotFound if `dir` is not a directory;
/// InvalidArgument if two files give the same input name or two output files
/// the same index; reader errors name the file.
Result<InputsDir> read_inputs_dir(const std::filesystem::path& dir, const ReadOptions& options = {});

/// Reads --expected: a folder (every .npy/.npz/.pb file directly inside is an
/// expected output; output_<k>.pb carries position k) or one tensor file
/// (.npz: every entry). NotFound for a missing path.
Result<std::vector<ExpectedTensor>> read_expected(const std::filesystem::path& path,
                                                  const ReadOptions& options = {});

/// Names the expected tensors after the model's outputs: by name; otherwise
/// by position (output_<k>.pb, or a tensor named "output_<k>") to output k.
/// InvalidArgument, naming the tensor, its origin and the model's outputs,
/// for a tensor that matches neither, or for two tensors binding one output.
Result<std::vector<Tensor>> bind_expected_outputs(std::vector<ExpectedTensor> expected,
                                                  const std::vector<std::string>& output_names);

}  // namespace aegisrt::io
