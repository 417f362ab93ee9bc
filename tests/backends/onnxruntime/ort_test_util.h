// Helpers for the ONNX Runtime backend tests: where the generated models live,
// a minimal .npy reader for their numpy references (deliberately independent
// of src/io), and short-hands for loading and running a model.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"

namespace aegisrt::testing::ort {

inline std::filesystem::path models_dir() {
  return std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "models";
}
inline std::filesystem::path model_path(const std::string& name) {
  return models_dir() / (name + ".onnx");
}

/// Reads a little-endian, C-order .npy file (format 1.0-3.0) of a dtype
/// AegisRT knows. Returns an error message instead of throwing.
inline Result<Tensor> read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NotFound, "cannot open " + path.string());
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    return Error(ErrorCode::Corrupt, path.string() + " is not a .npy file");
  }
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  auto field = [&](const std::string& key) {
    const auto k = header.find("'" + key + "':");
    return k == std::string::npos ? std::string() : header.substr(k + key.size() + 3);
  };
  const std::string descr_rest = field("descr");
  const auto q1 = descr_rest.find('\'');
  const auto q2 = descr_rest.find('\'', q1 + 1);
  const std::string descr = descr_rest.substr(q1 + 1, q2 - q1 - 1);
  static const std::map<std::string, DType> kTypes = {
      {"<f4", DType::Float32}, {"<f2", DType::Float16}, {"|i1", DType::Int8},
      {"|u1", DType::UInt8},   {"<i4", DType::Int32},   {"<i8", DType::Int64},
      {"|b1", DType::Bool}};
  const auto t = kTypes.find(descr);
  if (t == kTypes.end()) return Error(ErrorCode::Unsupported, path.string() + ": dtype " + descr);
  const std::string order = field("fortran_order");
  if (order.find("True") < order.find(',')) {
    return Error(ErrorCode::Unsupported, path.string() + ": Fortran order");
  }
  const std::string shape_rest = field("shape");
  const auto open = shape_rest.find('(');
  const auto close = shape_rest.find(')');
  Shape shape;
  std::string num;
  for (char c : shape_rest.substr(open + 1, close - open - 1) + ",") {
    if (c >= '0' && c <= '9') {
      num += c;
    } else if (c == ',' && !num.empty()) {
      shape.push_back(std::stoll(num));
      num.clear();
    }
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor tensor, Tensor::allocate_host(shape, t->second));
  if (!in.read(static_cast<char*>(tensor.data()), static_cast<std::streamsize>(tensor.byte_size()))) {
    return Error(ErrorCode::Corrupt, path.string() + ": truncated data");
  }
  return tensor;
}

/// The numpy reference inputs and outputs saved next to model `name`.
struct ReferenceIO {
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
};
inline ReferenceIO read_reference(const std::string& name) {
  ReferenceIO io;
  for (const char* kind : {"input", "output"}) {
    for (int k = 0;; ++k) {
      const auto p = models_dir() / (name + "." + kind + "_" + std::to_string(k) + ".npy");
      if (!std::filesystem::exists(p)) break;
      auto t = read_npy(p);
      EXPECT_TRUE(t.ok()) << t.error();
      if (!t.ok()) break;
      (std::string(kind) == "input" ? io.inputs : io.outputs).push_back(std::move(*t));
    }
  }
  EXPECT_FALSE(io.inputs.empty()) << "no reference inputs for " << name << " in " << models_dir();
  EXPECT_FALSE(io.outputs.empty()) << "no reference outputs for " << name;
  return io;
}

inline LoadOptions options_for(const std::string& name,
                               std::map<std::string, std::string> backend_options = {}) {
  LoadOptions o;
  o.artifact_path = model_path(name);
  o.backend_options = std::move(backend_options);
  return o;
}

inline std::vector<NamedTensorView> views_of(const std::vector<Tensor>& ts) {
  std::vector<NamedTensorView> v;
  for (const auto& t : ts) v.push_back({t.name(), t.view()});
  return v;
}

inline Result<ExecutionResult> run(RuntimeBackend& backend, const std::vector<Tensor>& inputs) {
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  return backend.execute(req);
}

/// True if the loaded ORT offers provider `name` ("cuda", "tensorrt", ...).
inline bool has_provider(const std::string& name) {
  for (const auto& p : onnxruntime_available_providers())
    if (p == name) return true;
  return false;
}

inline std::string providers_string() {
  std::string s;
  for (const auto& p : onnxruntime_available_providers()) s += (s.empty() ? "" : ", ") + p;
  return s;
}

}  // namespace aegisrt::testing::ort
