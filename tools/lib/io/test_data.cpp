// ONNX test-data folders (input_<k>.pb / output_<k>.pb) and expected outputs.
#include "aegisrt/io/test_data.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <string_view>
#include <system_error>

#include "aegisrt/io/tensor_files.h"

namespace aegisrt::io {

namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

/// k for "<prefix><k>" (k decimal, nothing after it).
std::optional<std::size_t> indexed(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return std::nullopt;
  std::size_t k = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return k;
}

std::optional<std::size_t> pb_index(const std::filesystem::path& file, std::string_view prefix) {
  if (tensor_file_format(file) != TensorFileFormat::TensorProto) return std::nullopt;
  return indexed(file.stem().string(), prefix);
}

/// Regular tensor files directly inside `dir`, sorted by name.
Result<std::vector<std::filesystem::path>> list_tensor_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error(ErrorCode::NotFound, quoted(dir) + " is not a directory");
  }
  std::vector<std::filesystem::path> files;
  // increment(ec), not a range-for: operator++ throws on a listing error.
  std::filesystem::directory_iterator it(dir, ec);
  for (const std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && tensor_file_format(it->path())) files.push_back(it->path());
  }
  if (ec) return Error(ErrorCode::IoError, "cannot list " + quoted(dir) + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::string names_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s.empty() ? "none" : s;
}

}  // namespace

std::optional<std::size_t> onnx_output_file_index(const std::filesystem::path& file) {
  return pb_index(file.filename(), "output_");
}

std::optional<std::size_t> onnx_input_file_index(const std::filesystem::path& file) {
  return pb_index(file.filename(), "input_");
}

Result<InputsDir> read_inputs_dir(const std::filesystem::path& dir, const ReadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(const auto files, list_tensor_files(dir));
  InputsDir out;
  std::map<std::string, std::filesystem::path> input_origin;
  std::map<std::size_t, std::filesystem::path> output_origin;
  for (const auto& f : files) {
    AEGIS_ASSIGN_OR_RETURN(auto tensors, read_tensor_file(f, options));
    if (const auto k = onnx_output_file_index(f)) {
      if (auto [it, inserted] = output_origin.emplace(*k, f); !inserted) {
        return Error(ErrorCode::InvalidArgument, "expected output " + std::to_string(*k) +
                                                     " is given by both " + quoted(it->second) +
                                                     " and " + quoted(f));
      }
      for (auto& t : tensors) out.expected.push_back({std::move(t), quoted(f), *k});
      continue;
    }
    const auto position = onnx_input_file_index(f);
    for (auto& t : tensors) {
      if (auto [it, inserted] = input_origin.emplace(t.name(), f); !inserted) {
        return Error(ErrorCode::InvalidArgument, "tensor '" + t.name() + "' is given by both " +
                                                     quoted(it->second) + " and " + quoted(f));
      }
      const std::string origin =
          quoted(dir) + " tensor '" + t.name() + "' (" + f.filename().string() + ")";
      out.inputs.push_back({std::move(t), origin, position});
    }
  }
  std::stable_sort(out.expected.begin(), out.expected.end(),
                   [](const ExpectedTensor& a, const ExpectedTensor& b) { return a.position < b.position; });
  return out;
}

Result<std::vector<ExpectedTensor>> read_expected(const std::filesystem::path& path,
                                                  const ReadOptions& options) {
  std::error_code ec;
  std::vector<ExpectedTensor> out;
  if (std::filesystem::is_directory(path, ec)) {
    AEGIS_ASSIGN_OR_RETURN(const auto files, list_tensor_files(path));
    for (const auto& f : files) {
      AEGIS_ASSIGN_OR_RETURN(auto tensors, read_tensor_file(f, options));
      const auto k = onnx_output_file_index(f);
      for (auto& t : tensors) out.push_back({std::move(t), quoted(f), k});
    }
    if (out.empty()) {
      return Error(ErrorCode::InvalidArgument,
                   "--expected folder " + quoted(path) + " holds no .npy, .npz or .pb file");
    }
    return out;
  }
  if (!std::filesystem::exists(path, ec)) {
    return Error(ErrorCode::NotFound, "expected-output file " + quoted(path) + " does not exist");
  }
  AEGIS_ASSIGN_OR_RETURN(auto tensors, read_tensor_file(path, options));
  const auto k = onnx_output_file_index(path);
  for (auto& t : tensors) {
    const std::string origin =
        quoted(path) + (tensors.size() > 1 ? " entry '" + t.name() + "'" : std::string());
    out.push_back({std::move(t), origin, k});
  }
  return out;
}

Result<std::vector<Tensor>> bind_expected_outputs(std::vector<ExpectedTensor> expected,
                                                  const std::vector<std::string>& output_names) {
  std::vector<std::string> bound_from(output_names.size());
  std::vector<Tensor> out;
  for (auto& e : expected) {
    const std::string name = e.tensor.name();
    std::size_t idx = output_names.size();
    for (std::size_t i = 0; i < output_names.size(); ++i)
      if (output_names[i] == name) idx = i;
    if (idx == output_names.size()) {
      const auto k = e.position ? e.position : indexed(name, "output_");
      if (k && *k < output_names.size()) idx = *k;
    }
    if (idx == output_names.size()) {
      return Error(ErrorCode::InvalidArgument, "expected tensor '" + name + "' from " + e.origin +
                                                   " matches no model output; the model's outputs: " +
                                                   names_list(output_names));
    }
    if (!bound_from[idx].empty()) {
      return Error(ErrorCode::InvalidArgument, "expected output '" + output_names[idx] +
                                                   "' is given twice (" + bound_from[idx] + " and " +
                                                   e.origin + ")");
    }
    bound_from[idx] = e.origin;
    e.tensor.set_name(output_names[idx]);
    out.push_back(std::move(e.tensor));
  }
  return out;
}

}  // namespace aegisrt::io
