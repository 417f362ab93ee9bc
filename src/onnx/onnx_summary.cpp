// A minimal protobuf wire-format reader for the parts of onnx.proto we need
// (field numbers from onnx/onnx.proto, stable since IR version 3). Every read
// is bounds-checked; malformed input is Corrupt, never a crash.
#include "aegisrt/onnx/onnx_summary.h"

#include "aegisrt/core/file_util.h"

#include <algorithm>
#include <optional>
#include <set>

namespace aegisrt::onnx {

std::string_view to_string(OnnxModelKind k) noexcept {
  switch (k) {
    case OnnxModelKind::Float32: return "float32";
    case OnnxModelKind::Float16: return "float16";
    case OnnxModelKind::QDQ: return "int8-qdq";
  }
  return "unknown";
}

OnnxModelKind OnnxSummary::kind() const noexcept {
  if (qdq_node_count > 0) return OnnxModelKind::QDQ;
  if (const auto it = metadata.find(std::string(kOnnxPrecisionMetadataKey)); it != metadata.end()) {
    if (it->second == "int8-qdq") return OnnxModelKind::QDQ;
    if (it->second == "float16") return OnnxModelKind::Float16;
  }
  if (fp16_initializers > fp32_initializers) return OnnxModelKind::Float16;
  return OnnxModelKind::Float32;
}

namespace {

// onnx.proto TensorProto.DataType values (the DType mapping is core's
// dtype_from_onnx, the one ONNX type table).
constexpr std::int64_t kOnnxFloat = 1;
constexpr std::int64_t kOnnxFloat16 = 10;

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  WireType type = kVarint;
  std::uint64_t varint = 0;
  std::span<const std::byte> bytes;  // kLen payload
};

/// Sequential reader over one message's bytes.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> data) : data_(data) {}
  [[nodiscard]] bool done() const noexcept { return pos_ >= data_.size(); }

  /// False on malformed input (the caller reports Corrupt).
  bool next(Field& f) {
    std::uint64_t tag = 0;
    if (!varint(tag)) return false;
    f.number = static_cast<std::uint32_t>(tag >> 3);
    const auto wt = static_cast<std::uint32_t>(tag & 7);
    if (f.number == 0) return false;
    switch (wt) {
      case kVarint:
        f.type = kVarint;
        return varint(f.varint);
      case kFixed64:
        f.type = kFixed64;
        return skip(8);
      case kFixed32:
        f.type = kFixed32;
        return skip(4);
      case kLen: {
        f.type = kLen;
        std::uint64_t len = 0;
        if (!varint(len) || len > data_.size() - pos_) return false;
        f.bytes = data_.subspan(pos_, static_cast<std::size_t>(len));
        pos_ += static_cast<std::size_t>(len);
        return true;
      }
      default:
        return false;  // groups (3, 4) do not occur in onnx.proto
    }
  }

 private:
  bool varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const auto b = static_cast<std::uint8_t>(data_[pos_++]);
      out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool skip(std::size_t n) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
};

std::string as_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct ParseError {
  std::string what;
};

/// Parses a message with `fn(const Field&)` per field; false on malformed bytes.
template <typename Fn>
bool for_each_field(std::span<const std::byte> bytes, Fn&& fn) {
  Reader r(bytes);
  Field f;
  while (!r.done()) {
    if (!r.next(f)) return false;
    if (!fn(f)) return false;
  }
  return true;
}

struct ValueInfo {
  std::string name;
  std::int64_t elem_type = 0;
  Shape shape;
  bool has_shape = false;
  const char* kind = nullptr;  // set for non-tensor values: "sequence", "map", ...
};

// TensorShapeProto.Dimension: dim_value = 1 (int64), dim_param = 2 (string).
bool parse_dimension(std::span<const std::byte> b, std::int64_t& dim) {
  dim = kDynamicDim;
  return for_each_field(b, [&](const Field& f) {
    if (f.number == 1 && f.type == kVarint) {
      const auto v = static_cast<std::int64_t>(f.varint);
      dim = v > 0 ? v : (v == 0 ? 0 : kDynamicDim);
    }
    return true;
  });
}

// ValueInfoProto: name = 1, type = 2 (TypeProto: tensor_type = 1 (elem_type = 1,
// shape = 2 (dim = 1))).
bool parse_value_info(std::span<const std::byte> b, ValueInfo& vi) {
  return for_each_field(b, [&](const Field& f) {
    if (f.number == 1 && f.type == kLen) vi.name = as_string(f.bytes);
    if (f.number == 2 && f.type == kLen) {
      return for_each_field(f.bytes, [&](const Field& tf) {
        if (tf.type == kLen) {
          // TypeProto oneof: sequence_type = 4, map_type = 5, sparse_tensor_type = 8,
          // optional_type = 9, opaque_type = 7.
          if (tf.number == 4) vi.kind = "sequence";
          if (tf.number == 5) vi.kind = "map";
          if (tf.number == 7) vi.kind = "opaque";
          if (tf.number == 8) vi.kind = "sparse tensor";
          if (tf.number == 9) vi.kind = "optional";
        }
        if (tf.number != 1 || tf.type != kLen) return true;  // not a tensor type
        return for_each_field(tf.bytes, [&](const Field& tt) {
          if (tt.number == 1 && tt.type == kVarint) vi.elem_type = static_cast<std::int64_t>(tt.varint);
          if (tt.number == 2 && tt.type == kLen) {
            vi.has_shape = true;
            return for_each_field(tt.bytes, [&](const Field& sf) {
              if (sf.number != 1 || sf.type != kLen) return true;
              std::int64_t d = kDynamicDim;
              if (!parse_dimension(sf.bytes, d)) return false;
              vi.shape.push_back(d);
              return true;
            });
          }
          return true;
        });
      });
    }
    return true;
  });
}

// NodeProto: op_type = 4, attribute = 5 (AttributeProto: name = 1, i = 3).
bool parse_node(std::span<const std::byte> b, OnnxSummary& s) {
  std::string op_type;
  std::optional<std::int64_t> cast_to;
  const bool ok = for_each_field(b, [&](const Field& f) {
    if (f.number == 4 && f.type == kLen) op_type = as_string(f.bytes);
    if (f.number == 5 && f.type == kLen) {
      std::string name;
      std::optional<std::int64_t> i;
      if (!for_each_field(f.bytes, [&](const Field& af) {
            if (af.number == 1 && af.type == kLen) name = as_string(af.bytes);
            if (af.number == 3 && af.type == kVarint) i = static_cast<std::int64_t>(af.varint);
            return true;
          })) {
        return false;
      }
      if (name == "to" && i) cast_to = i;
    }
    return true;
  });
  if (!ok) return false;
  ++s.node_count;
  if (op_type == "QuantizeLinear" || op_type == "DequantizeLinear") ++s.qdq_node_count;
  if (op_type == "Cast" && cast_to == kOnnxFloat16) ++s.cast_to_fp16_count;
  return true;
}

// TensorProto: data_type = 2, name = 8.
bool parse_initializer(std::span<const std::byte> b, OnnxSummary& s, std::set<std::string>& names) {
  std::int64_t data_type = 0;
  std::string name;
  if (!for_each_field(b, [&](const Field& f) {
        if (f.number == 2 && f.type == kVarint) data_type = static_cast<std::int64_t>(f.varint);
        if (f.number == 8 && f.type == kLen) name = as_string(f.bytes);
        return true;
      })) {
    return false;
  }
  if (data_type == kOnnxFloat) ++s.fp32_initializers;
  if (data_type == kOnnxFloat16) ++s.fp16_initializers;
  names.insert(std::move(name));
  return true;
}

Result<TensorDesc> to_desc(const ValueInfo& vi, std::string_view role, std::string_view what) {
  if (vi.kind != nullptr) {
    return Error(ErrorCode::Unsupported,
                 std::string(role) + " '" + vi.name + "' is a " + vi.kind +
                     " value, not a tensor; AegisRT binds tensors only",
                 std::string(what));
  }
  const auto dt = aegisrt::dtype_from_onnx(vi.elem_type);
  if (!dt) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(role) + " '" + vi.name + "' has ONNX element type " +
                     onnx_type_name(vi.elem_type) + " (" + std::to_string(vi.elem_type) +
                     "), which AegisRT cannot bind",
                 std::string(what));
  }
  return TensorDesc{vi.name, vi.shape, *dt};
}

/// The fields of a ModelProto that the summary needs: ir_version = 1,
/// producer_name = 2, graph = 7 (kept as bytes), opset_import = 8,
/// metadata_props = 14. false when the protobuf is malformed.
struct ModelFields {
  std::span<const std::byte> graph;
  bool have_graph = false;
  bool have_ir = false;
};
bool read_model_fields(std::span<const std::byte> bytes, OnnxSummary& s, ModelFields& m) {
  return for_each_field(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
        if (f.type != kVarint) return false;
        s.ir_version = static_cast<std::int64_t>(f.varint);
        m.have_ir = true;
        return true;
      case 2:
        if (f.type != kLen) return false;
        s.producer_name = as_string(f.bytes);
        return true;
      case 7:
        if (f.type != kLen) return false;
        m.graph = f.bytes;
        m.have_graph = true;
        return true;
      case 8: {
        if (f.type != kLen) return false;
        std::string domain;
        std::int64_t version = 0;
        if (!for_each_field(f.bytes, [&](const Field& of) {
              if (of.number == 1 && of.type == kLen) domain = as_string(of.bytes);
              if (of.number == 2 && of.type == kVarint) version = static_cast<std::int64_t>(of.varint);
              return true;
            })) {
          return false;
        }
        s.opsets[domain] = version;
        return true;
      }
      case 14: {
        if (f.type != kLen) return false;
        std::string key;
        std::string value;
        if (!for_each_field(f.bytes, [&](const Field& mf) {
              if (mf.number == 1 && mf.type == kLen) key = as_string(mf.bytes);
              if (mf.number == 2 && mf.type == kLen) value = as_string(mf.bytes);
              return true;
            })) {
          return false;
        }
        s.metadata[key] = value;
        return true;
      }
      default:
        return true;
    }
  });
}

/// GraphProto: node = 1, initializer = 5, input = 11, output = 12. false when
/// the graph is malformed.
bool read_graph_fields(std::span<const std::byte> graph, OnnxSummary& s, std::vector<ValueInfo>& inputs,
                       std::vector<ValueInfo>& outputs, std::set<std::string>& initializer_names) {
  return for_each_field(graph, [&](const Field& f) {
    if (f.type != kLen) return true;
    switch (f.number) {
      case 1: return parse_node(f.bytes, s);
      case 5: return parse_initializer(f.bytes, s, initializer_names);
      case 11: {
        ValueInfo vi;
        if (!parse_value_info(f.bytes, vi)) return false;
        inputs.push_back(std::move(vi));
        return true;
      }
      case 12: {
        ValueInfo vi;
        if (!parse_value_info(f.bytes, vi)) return false;
        outputs.push_back(std::move(vi));
        return true;
      }
      default: return true;
    }
  });
}

}  // namespace

Result<OnnxSummary> summarize_onnx(std::span<const std::byte> bytes, std::string_view what) {
  auto corrupt = [&](std::string_view detail) {
    return Error(ErrorCode::Corrupt, std::string(what) + " is not a valid ONNX model (" +
                                         std::string(detail) + ")");
  };
  OnnxSummary s;
  ModelFields m;
  if (!read_model_fields(bytes, s, m)) return corrupt("malformed protobuf");
  if (!m.have_ir || s.ir_version <= 0 || s.ir_version > 100) return corrupt("no ir_version");
  if (!m.have_graph) return corrupt("no graph");

  std::set<std::string> initializer_names;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  if (!read_graph_fields(m.graph, s, inputs, outputs, initializer_names)) return corrupt("malformed graph");
  for (const auto& vi : inputs) {
    if (initializer_names.contains(vi.name)) continue;  // IR < 4 lists weights as inputs
    AEGIS_ASSIGN_OR_RETURN(auto d, to_desc(vi, "input", what));
    s.inputs.push_back(std::move(d));
  }
  for (const auto& vi : outputs) {
    AEGIS_ASSIGN_OR_RETURN(auto d, to_desc(vi, "output", what));
    s.outputs.push_back(std::move(d));
  }
  if (s.outputs.empty()) return corrupt("graph has no outputs");
  return s;
}

Result<OnnxSummary> summarize_onnx_file(const std::filesystem::path& path) {
  // read_file (not ifstream + istreambuf_iterator: g++ 12/13 at -O3 warn
  // -Wnull-dereference inside libstdc++'s <streambuf> for that idiom, a false
  // positive that -Werror turned into a failed release build). A protobuf
  // message, hence an ONNX model without external data, is at most 2 GiB.
  constexpr std::uint64_t kMaxOnnxBytes = 2ull << 30;
  AEGIS_ASSIGN_OR_RETURN(const std::string data, read_file(path, "ONNX model", kMaxOnnxBytes));
  return summarize_onnx(std::as_bytes(std::span<const char>(data.data(), data.size())),
                        path.string());
}

bool looks_like_onnx(std::span<const std::byte> bytes) {
  return !bytes.empty() && summarize_onnx(bytes, "data").ok();
}


// --- external data ------------------------------------------------------------
namespace {

// TensorProto: external_data = 13 (StringStringEntryProto: key = 1, value = 2),
// data_location = 14 (EXTERNAL = 1). Collects "location" values.
bool tensor_locations(std::span<const std::byte> b, std::set<std::string>& out) {
  std::string location;
  bool external = false;
  if (!for_each_field(b, [&](const Field& f) {
        if (f.number == 14 && f.type == kVarint) external = f.varint == 1;
        if (f.number == 13 && f.type == kLen) {
          std::string key;
          std::string value;
          if (!for_each_field(f.bytes, [&](const Field& e) {
                if (e.number == 1 && e.type == kLen) key = as_string(e.bytes);
                if (e.number == 2 && e.type == kLen) value = as_string(e.bytes);
                return true;
              })) {
            return false;
          }
          if (key == "location") location = value;
        }
        return true;
      })) {
    return false;
  }
  // A location without data_location = EXTERNAL is ignored by ONNX; hash it anyway.
  (void)external;
  if (!location.empty()) out.insert(location);
  return true;
}

// SparseTensorProto: values = 1, indices = 2 (both TensorProto).
bool sparse_locations(std::span<const std::byte> b, std::set<std::string>& out) {
  return for_each_field(b, [&](const Field& f) {
    if ((f.number == 1 || f.number == 2) && f.type == kLen) return tensor_locations(f.bytes, out);
    return true;
  });
}

bool graph_locations(std::span<const std::byte> b, std::set<std::string>& out, int depth);

// NodeProto: attribute = 5. AttributeProto: t = 5, g = 6, tensors = 10,
// graphs = 11, sparse_tensor = 22, sparse_tensors = 23.
bool node_locations(std::span<const std::byte> b, std::set<std::string>& out, int depth) {
  return for_each_field(b, [&](const Field& f) {
    if (f.number != 5 || f.type != kLen) return true;
    return for_each_field(f.bytes, [&](const Field& a) {
      if (a.type != kLen) return true;
      switch (a.number) {
        case 5:
        case 10: return tensor_locations(a.bytes, out);
        case 6:
        case 11: return graph_locations(a.bytes, out, depth + 1);
        case 22:
        case 23: return sparse_locations(a.bytes, out);
        default: return true;
      }
    });
  });
}

// GraphProto: node = 1, initializer = 5, sparse_initializer = 15.
bool graph_locations(std::span<const std::byte> b, std::set<std::string>& out, int depth) {
  if (depth > 64) return false;  // absurd nesting: refuse rather than recurse on
  return for_each_field(b, [&](const Field& f) {
    if (f.type != kLen) return true;
    switch (f.number) {
      case 1: return node_locations(f.bytes, out, depth);
      case 5: return tensor_locations(f.bytes, out);
      case 15: return sparse_locations(f.bytes, out);
      default: return true;
    }
  });
}

}  // namespace

Result<std::vector<std::string>> onnx_external_data_locations(std::span<const std::byte> bytes,
                                                              std::string_view what) {
  std::set<std::string> found;
  // ModelProto: graph = 7, functions = 25 (FunctionProto: node = 7).
  const bool ok = for_each_field(bytes, [&](const Field& f) {
    if (f.type != kLen) return true;
    if (f.number == 7) return graph_locations(f.bytes, found, 0);
    if (f.number == 25) {
      return for_each_field(f.bytes, [&](const Field& ff) {
        if (ff.number == 7 && ff.type == kLen) return node_locations(ff.bytes, found, 0);
        return true;
      });
    }
    return true;
  });
  if (!ok) {
    return Error(ErrorCode::Corrupt, std::string(what) + " is not a valid ONNX model (malformed protobuf)");
  }
  return std::vector<std::string>(found.begin(), found.end());
}

Result<std::vector<std::filesystem::path>> onnx_external_data_files(const std::filesystem::path& model) {
  AEGIS_ASSIGN_OR_RETURN(const std::string data, read_file(model, "ONNX model", kMaxOnnxModelBytes));
  AEGIS_ASSIGN_OR_RETURN(
      const auto locations,
      onnx_external_data_locations(std::as_bytes(std::span<const char>(data.data(), data.size())),
                                   "'" + model.string() + "'"));
  std::vector<std::filesystem::path> out;
  const auto base = model.parent_path();
  for (const auto& loc : locations) {
    const std::filesystem::path p(loc);
    if (loc.find('\0') != std::string::npos || p.is_absolute()) {
      return Error(ErrorCode::Corrupt, "ONNX model '" + model.string() + "' names external data '" + loc +
                                           "', which is not a path relative to the model's folder");
    }
    for (const auto& part : p) {
      if (part == "..") {
        return Error(ErrorCode::Corrupt, "ONNX model '" + model.string() + "' names external data '" + loc +
                                             "' outside the model's folder ('..')");
      }
    }
    out.push_back(base / p);
  }
  return out;
}

Result<void> check_onnx_value_types(const std::filesystem::path& model, std::string_view backend,
                                    std::span<const DType> bound) {
  auto summary = summarize_onnx_file(model);
  if (!summary.ok()) {
    const auto code = summary.error().code();
    if (code == ErrorCode::Unsupported || code == ErrorCode::InvalidArgument) {
      return Error(ErrorCode::Unsupported, "the " + std::string(backend) + " backend cannot run '" +
                                               model.string() + "': " + summary.error().message());
    }
    return {};
  }
  for (const auto* list : {&summary->inputs, &summary->outputs}) {
    for (const auto& d : *list) {
      if (std::find(bound.begin(), bound.end(), d.dtype) != bound.end()) continue;
      std::string names;
      for (DType t : bound) names += (names.empty() ? "" : ", ") + std::string(dtype_name(t));
      return Error(ErrorCode::Unsupported,
                   std::string(list == &summary->inputs ? "input" : "output") + " '" + d.name + "' of '" +
                       model.string() + "' has element type " + std::string(dtype_name(d.dtype)) + " (ONNX " +
                       onnx_type_name(dtype_to_onnx(d.dtype)) + "), which the " + std::string(backend) +
                       " backend does not support (supported: " + names + ")");
    }
  }
  return {};
}

}  // namespace aegisrt::onnx
