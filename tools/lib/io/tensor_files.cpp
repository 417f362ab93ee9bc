// Tensor files by extension, folders of them, and writing outputs as .npy.
#include "aegisrt/io/tensor_files.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <system_error>

#include "aegisrt/io/npy.h"
#include "aegisrt/io/npz.h"
#include "aegisrt/io/tensor_proto.h"
#include "aegisrt/core/file_util.h"

namespace aegisrt::io {

std::optional<TensorFileFormat> tensor_file_format(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".npy") return TensorFileFormat::Npy;
  if (ext == ".npz") return TensorFileFormat::Npz;
  if (ext == ".pb") return TensorFileFormat::TensorProto;
  return std::nullopt;
}

Result<std::vector<Tensor>> read_tensor_file(const std::filesystem::path& path, const ReadOptions& options) {
  const auto format = tensor_file_format(path);
  if (!format) {
    return Error(ErrorCode::InvalidArgument,
                 quote_path(path) + " is not a tensor file (expected .npy, .npz or .pb)");
  }
  std::vector<Tensor> out;
  switch (*format) {
    case TensorFileFormat::Npy: {
      AEGIS_ASSIGN_OR_RETURN(Tensor t, read_npy(path, options));
      out.push_back(std::move(t));
      break;
    }
    case TensorFileFormat::TensorProto: {
      AEGIS_ASSIGN_OR_RETURN(Tensor t, read_tensor_proto(path, options));
      out.push_back(std::move(t));
      break;
    }
    case TensorFileFormat::Npz: {
      AEGIS_ASSIGN_OR_RETURN(out, read_npz(path, options));
      break;
    }
  }
  return out;
}

Result<std::vector<Tensor>> read_tensor_dir(const std::filesystem::path& dir, const ReadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error(ErrorCode::NotFound, quote_path(dir) + " is not a directory");
  }
  std::vector<std::filesystem::path> files;
  // increment(ec), not a range-for: operator++ throws on a listing error.
  std::filesystem::directory_iterator entry(dir, ec);
  for (const std::filesystem::directory_iterator end; !ec && entry != end; entry.increment(ec)) {
    // Anything with a tensor extension is read (a FIFO or socket is then refused
    // by name rather than skipped).
    std::error_code fec;
    if (!entry->is_directory(fec) && tensor_file_format(entry->path())) files.push_back(entry->path());
  }
  if (ec) return Error(ErrorCode::IoError, "cannot list " + quote_path(dir) + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Tensor> out;
  std::map<std::string, std::filesystem::path> origin;
  for (const auto& f : files) {
    AEGIS_ASSIGN_OR_RETURN(auto tensors, read_tensor_file(f, options));
    for (auto& t : tensors) {
      auto [it, inserted] = origin.emplace(t.name(), f);
      if (!inserted) {
        return Error(ErrorCode::InvalidArgument, "tensor '" + t.name() + "' is given by both " +
                                                     quote_path(it->second) + " and " +
                                                     quote_path(f));
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

std::string tensor_file_stem(std::string_view tensor_name) {
  std::string s;
  for (char c : tensor_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    s += ok ? c : '_';
  }
  if (s.empty() || s == "." || s == "..") s = "tensor";
  return s;
}

Result<std::vector<std::filesystem::path>> write_tensors_npy(const std::filesystem::path& dir,
                                                             const std::vector<Tensor>& tensors) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::IoError, "cannot create " + quote_path(dir) + ": " + ec.message());
  std::set<std::string> used;
  std::vector<std::filesystem::path> paths;
  for (const auto& t : tensors) {
    const std::string base = tensor_file_stem(t.name());
    std::string stem = base;
    for (int k = 1; !used.insert(stem).second; ++k) stem = base + "_" + std::to_string(k);
    auto p = dir / (stem + ".npy");
    AEGIS_TRY(write_npy(p, t.view()));
    paths.push_back(std::move(p));
  }
  return paths;
}

}  // namespace aegisrt::io
