// onnx.TensorProto (.pb) reader through the ONNX protobuf library
// (libonnx_proto from Debian's libonnx-dev). Compiled without it, every read
// returns Unsupported.
#include "aegisrt/io/tensor_proto.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "io/npy_stream.h"

#if defined(AEGISRT_HAVE_ONNX_PROTO)
#include <onnx/onnx_pb.h>
#endif

namespace aegisrt::io {

bool tensor_proto_supported() noexcept {
#if defined(AEGISRT_HAVE_ONNX_PROTO)
  return true;
#else
  return false;
#endif
}

#if !defined(AEGISRT_HAVE_ONNX_PROTO)

Result<Tensor> read_tensor_proto(const std::filesystem::path& path, const ReadOptions& /*options*/) {
  return Error(ErrorCode::Unsupported,
               "cannot read " + quote_path(path) +
                   ": this build has no ONNX protobuf support (install libonnx-dev and "
                   "libprotobuf-dev, then reconfigure)");
}

#else

namespace {

using onnx::TensorProto;

struct TypeInfo {
  DType dtype;
  bool float64 = false;
};

constexpr int kOnnxUint4 = 21;
constexpr int kOnnxInt4 = 22;

// The one ONNX type table's names (core/dtype.h): also for codes newer than
// the libonnx headers this was compiled with.
std::string proto_type_name(int t) { return onnx_type_name(t); }

Result<TypeInfo> map_type(int t, const std::string& what, const ReadOptions& options) {
  // The one ONNX type table (core/dtype.h).
  const auto dtype = dtype_from_onnx(t);
  if (!dtype) {
    return Error(ErrorCode::Unsupported, what + ": " + proto_type_name(t) + " (data_type " +
                                             std::to_string(t) + ") has no AegisRT DType");
  }
  if (*dtype == DType::Float64 && options.float64_to_float32) return TypeInfo{DType::Float32, true};
  return TypeInfo{*dtype};
}

/// Bytes `n` elements of `type` take in raw_data (int4: two per byte).
std::size_t raw_bytes(const TypeInfo& type, std::size_t n) {
  if (type.float64) return n * 8;
  if (dtype_is_int4(type.dtype)) return (n + 1) / 2;
  return n * dtype_size(type.dtype);
}

/// Unpacks int4/uint4 pairs (first element in the low nibble) into one
/// element per byte, int4 sign-extended.
void unpack_int4(DType dtype, const std::uint8_t* packed, std::uint8_t* out, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    auto v = static_cast<std::uint8_t>((k % 2 == 0 ? packed[k / 2] : packed[k / 2] >> 4) & 0x0Fu);
    if (dtype == DType::Int4 && (v & 0x08u)) v = static_cast<std::uint8_t>(v | 0xF0u);
    out[k] = v;
  }
}

template <typename Dst, typename Src>
void narrow_copy(const Src& src, void* dst, std::size_t n) {
  auto* d = static_cast<Dst*>(dst);
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(src.Get(static_cast<int>(i)));
}

}  // namespace

namespace {

/// What the checks established about one TensorProto, for the copy steps.
struct ProtoTensor {
  const TensorProto& proto;
  TypeInfo type;
  Shape shape;
  std::size_t n = 0;  // elements
  std::string twhat;  // "'file' (tensor 'name')", for messages

  /// Corrupt: `field` holds `have` bytes (unit 1), packed int4 values (unit
  /// 2) or values (otherwise), not what the dims need.
  [[nodiscard]] Error mismatch(const std::string& field, std::size_t have, std::size_t unit) const {
    return Error(ErrorCode::Corrupt, twhat + ": " + field + " holds " + std::to_string(have) + " " +
                                         (unit == 1 ? "bytes" : "values") + ", dims " +
                                         shape_to_string(shape) + " need " +
                                         std::to_string(unit == 1 ? raw_bytes(type, n) : unit == 2 ? (n + 1) / 2 : n));
  }
};

/// The file parsed as a TensorProto, its size bounded first.
Result<void> parse_proto_file(const std::filesystem::path& path, const ReadOptions& options, TensorProto& proto) {
  const std::string what = quote_path(path);
  AEGIS_ASSIGN_OR_RETURN(auto file, ReadableFile::open(path, "tensor file"));
  // raw_data plus a little framing; protobuf itself cannot parse > 2 GiB.
  const std::uint64_t limit = std::min<std::uint64_t>(options.max_tensor_bytes + (std::uint64_t{1} << 20),
                                                      std::numeric_limits<int>::max());
  if (file.size() > limit) {
    return Error(ErrorCode::Unsupported, what + " is " + std::to_string(file.size()) +
                                             " bytes, over the TensorProto read limit of " +
                                             std::to_string(limit));
  }
  std::vector<std::byte> bytes(static_cast<std::size_t>(file.size()));
  AEGIS_TRY(file.read_exact(bytes, "the TensorProto"));

  bool parsed = false;
  try {
    parsed = proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  } catch (const std::exception& e) {
    return Error(ErrorCode::Corrupt, what + ": protobuf parse failed: " + e.what());
  }
  if (!parsed) return Error(ErrorCode::Corrupt, what + " is not a valid onnx.TensorProto");
  return {};
}

/// Refuses what this reader does not handle: no data_type, external data, segments.
Result<void> check_proto_kind(const TensorProto& proto, const std::string& twhat) {
  if (!proto.has_data_type()) {
    return Error(ErrorCode::Corrupt, twhat + " has no data_type (not a TensorProto?)");
  }
  if (proto.data_location() == TensorProto::EXTERNAL || proto.external_data_size() > 0) {
    return Error(ErrorCode::Unsupported, twhat + " keeps its data in an external file; only inline "
                                                 "data is supported");
  }
  if (proto.has_segment()) {
    return Error(ErrorCode::Unsupported, twhat + " is a segment of a larger tensor; not supported");
  }
  return {};
}

/// The dims, bounded in rank and (as elements of `type`) in bytes; the element count.
Result<std::size_t> checked_shape(const TensorProto& proto, const TypeInfo& type, const std::string& twhat,
                                  const ReadOptions& options, Shape& shape) {
  if (static_cast<std::uint32_t>(proto.dims_size()) > options.max_rank) {
    return Error(ErrorCode::Unsupported, twhat + ": rank " + std::to_string(proto.dims_size()) +
                                             " exceeds the limit of " + std::to_string(options.max_rank));
  }
  std::uint64_t count = 1;
  bool overflow = false;
  for (const auto d : proto.dims()) {
    if (d < 0) {
      return Error(ErrorCode::Corrupt, twhat + " has negative dimension " + std::to_string(d));
    }
    shape.push_back(d);
  }
  for (const auto d : shape) {
    const auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && count > std::numeric_limits<std::uint64_t>::max() / ud) overflow = true;
    count = overflow ? 0 : count * ud;
  }
  const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
  if (empty) count = 0;
  const std::uint64_t out_bytes_per = dtype_size(type.dtype);  // strings: their objects; their bytes are in the file
  if ((overflow && !empty) || count > options.max_tensor_bytes / out_bytes_per) {
    return Error(ErrorCode::Unsupported, twhat + ": dims " + shape_to_string(shape) +
                                             " exceed the read limit of " +
                                             std::to_string(options.max_tensor_bytes) + " bytes");
  }
  return static_cast<std::size_t>(count);
}

/// The dims are a claim: check that the file really holds that much data
/// before allocating the tensor (a 20-byte file may claim 4 GiB).
Result<void> check_data_present(const ProtoTensor& pt) {
  std::size_t have = 0;
  std::size_t need = pt.n;
  std::size_t unit = 0;  // mismatch(): 1 = bytes, 2 = packed int4 values, else values
  std::string field;
  if (pt.proto.has_raw_data()) {
    have = pt.proto.raw_data().size();
    need = raw_bytes(pt.type, pt.n);
    field = "raw_data";
    unit = 1;
  } else {
    switch (pt.proto.data_type()) {
      case TensorProto::FLOAT: have = static_cast<std::size_t>(pt.proto.float_data_size()); field = "float_data"; break;
      case TensorProto::DOUBLE: have = static_cast<std::size_t>(pt.proto.double_data_size()); field = "double_data"; break;
      case TensorProto::INT64: have = static_cast<std::size_t>(pt.proto.int64_data_size()); field = "int64_data"; break;
      case TensorProto::UINT64:
      case TensorProto::UINT32: have = static_cast<std::size_t>(pt.proto.uint64_data_size()); field = "uint64_data"; break;
      case TensorProto::STRING: have = static_cast<std::size_t>(pt.proto.string_data_size()); field = "string_data"; break;
      case kOnnxUint4:
      case kOnnxInt4:
        have = static_cast<std::size_t>(pt.proto.int32_data_size());
        need = (pt.n + 1) / 2;
        field = "int32_data";
        unit = 2;
        break;
      default: have = static_cast<std::size_t>(pt.proto.int32_data_size()); field = "int32_data"; break;
    }
  }
  if (have != need) return pt.mismatch(field, have, unit);
  return {};
}

/// raw_data into `t` (int4 unpacked, float64 narrowed when asked).
Result<void> copy_raw_data(const ProtoTensor& pt, Tensor& t) {
  const std::string& raw = pt.proto.raw_data();
  if (raw.size() != raw_bytes(pt.type, pt.n)) return pt.mismatch("raw_data", raw.size(), 1);
  if (dtype_is_int4(pt.type.dtype)) {
    unpack_int4(pt.type.dtype, reinterpret_cast<const std::uint8_t*>(raw.data()), t.data_as<std::uint8_t>(), pt.n);
  } else if (pt.type.float64) {
    auto* dst = t.data_as<float>();
    for (std::size_t i = 0; i < pt.n; ++i) {
      double v = 0;
      std::memcpy(&v, raw.data() + i * 8, 8);
      dst[i] = static_cast<float>(v);
    }
  } else if (pt.n > 0) {
    std::memcpy(t.data(), raw.data(), raw.size());
  }
  return {};
}

/// The typed repeated fields (float_data, int32_data, ...) into `t`.
Result<void> copy_typed_fields(const ProtoTensor& pt, Tensor& t) {
  switch (pt.proto.data_type()) {
    case TensorProto::FLOAT:
      if (static_cast<std::size_t>(pt.proto.float_data_size()) != pt.n) return pt.mismatch("float_data", pt.proto.float_data_size(), 0);
      if (pt.n > 0) std::memcpy(t.data(), pt.proto.float_data().data(), pt.n * 4);
      break;
    case TensorProto::DOUBLE:
      if (static_cast<std::size_t>(pt.proto.double_data_size()) != pt.n) return pt.mismatch("double_data", pt.proto.double_data_size(), 0);
      if (pt.type.float64) {
        narrow_copy<float>(pt.proto.double_data(), t.data(), pt.n);
      } else if (pt.n > 0) {
        std::memcpy(t.data(), pt.proto.double_data().data(), pt.n * 8);
      }
      break;
    case TensorProto::INT64:
      if (static_cast<std::size_t>(pt.proto.int64_data_size()) != pt.n) return pt.mismatch("int64_data", pt.proto.int64_data_size(), 0);
      if (pt.n > 0) std::memcpy(t.data(), pt.proto.int64_data().data(), pt.n * 8);
      break;
    case TensorProto::INT32:
      if (static_cast<std::size_t>(pt.proto.int32_data_size()) != pt.n) return pt.mismatch("int32_data", pt.proto.int32_data_size(), 0);
      if (pt.n > 0) std::memcpy(t.data(), pt.proto.int32_data().data(), pt.n * 4);
      break;
    case TensorProto::UINT64:
      if (static_cast<std::size_t>(pt.proto.uint64_data_size()) != pt.n) return pt.mismatch("uint64_data", pt.proto.uint64_data_size(), 0);
      if (pt.n > 0) std::memcpy(t.data(), pt.proto.uint64_data().data(), pt.n * 8);
      break;
    case TensorProto::UINT32:
      if (static_cast<std::size_t>(pt.proto.uint64_data_size()) != pt.n) return pt.mismatch("uint64_data", pt.proto.uint64_data_size(), 0);
      narrow_copy<std::uint32_t>(pt.proto.uint64_data(), t.data(), pt.n);
      break;
    case kOnnxUint4:  // codes 21/22: not named in older libonnx headers (Debian 12's)
    case kOnnxInt4: {
      // Packed two per int32_data value, first element in the low nibble.
      if (static_cast<std::size_t>(pt.proto.int32_data_size()) != (pt.n + 1) / 2) {
        return pt.mismatch("int32_data", pt.proto.int32_data_size(), 2);
      }
      std::vector<std::uint8_t> packed((pt.n + 1) / 2);
      for (std::size_t i = 0; i < packed.size(); ++i) {
        packed[i] = static_cast<std::uint8_t>(pt.proto.int32_data(static_cast<int>(i)));
      }
      unpack_int4(pt.type.dtype, packed.data(), t.data_as<std::uint8_t>(), pt.n);
      break;
    }
    default: {
      // INT8, UINT8, INT16, UINT16, BOOL, FLOAT16, BFLOAT16 and the float8
      // types live in int32_data (the floats as their bit patterns).
      if (static_cast<std::size_t>(pt.proto.int32_data_size()) != pt.n) return pt.mismatch("int32_data", pt.proto.int32_data_size(), 0);
      switch (dtype_size(pt.type.dtype)) {
        case 1:
          if (pt.type.dtype == DType::Bool) {
            auto* d = t.data_as<std::uint8_t>();
            for (std::size_t i = 0; i < pt.n; ++i) d[i] = pt.proto.int32_data(static_cast<int>(i)) != 0 ? 1 : 0;
          } else {
            narrow_copy<std::uint8_t>(pt.proto.int32_data(), t.data(), pt.n);
          }
          break;
        case 2: narrow_copy<std::uint16_t>(pt.proto.int32_data(), t.data(), pt.n); break;
        default:
          return Error(ErrorCode::Unsupported, pt.twhat + ": " + proto_type_name(pt.proto.data_type()) +
                                                   " data outside raw_data is not supported");
      }
    }
  }
  return {};
}

Result<Tensor> read_tensor_proto_impl(const std::filesystem::path& path, const ReadOptions& options,
                                      std::string& twhat_out) {
  TensorProto proto;
  AEGIS_TRY(parse_proto_file(path, options, proto));
  const std::string name = proto.name().empty() ? path.stem().string() : proto.name();
  const std::string twhat = quote_path(path) + " (tensor '" + name + "')";
  twhat_out = twhat;
  AEGIS_TRY(check_proto_kind(proto, twhat));
  AEGIS_ASSIGN_OR_RETURN(const TypeInfo type, map_type(proto.data_type(), twhat, options));
  Shape shape;
  AEGIS_ASSIGN_OR_RETURN(const std::size_t n, checked_shape(proto, type, twhat, options, shape));
  const ProtoTensor pt{proto, type, shape, n, twhat};
  if (type.dtype == DType::String && proto.has_raw_data()) {
    return Error(ErrorCode::Corrupt, twhat + ": a STRING tensor cannot keep its data in raw_data");
  }
  AEGIS_TRY(check_data_present(pt));
  auto allocated = Tensor::allocate_host(shape, type.dtype, name);
  // The size was bounded above, so this is the host running out of memory.
  if (!allocated.ok()) return Error(ErrorCode::IoError, twhat + ": " + allocated.error().message());
  Tensor t = std::move(allocated).value();

  if (t.dtype() == DType::String) {
    if (static_cast<std::size_t>(proto.string_data_size()) != n) {
      return Error(ErrorCode::Corrupt, twhat + ": string_data holds " + std::to_string(proto.string_data_size()) +
                                           " values, dims " + shape_to_string(shape) + " need " + std::to_string(n));
    }
    auto out = t.span<std::string>();
    for (std::size_t i = 0; i < n; ++i) out[i] = proto.string_data(static_cast<int>(i));
    return t;
  }
  if (proto.has_raw_data()) {
    AEGIS_TRY(copy_raw_data(pt, t));
  } else {
    AEGIS_TRY(copy_typed_fields(pt, t));
  }
  if (t.dtype() == DType::Bool) {
    auto* d = t.data_as<std::uint8_t>();
    for (std::size_t i = 0; i < n; ++i) d[i] = d[i] != 0 ? 1 : 0;
  }
  return t;
}

}  // namespace

Result<Tensor> read_tensor_proto(const std::filesystem::path& path, const ReadOptions& options) {
  std::string twhat = quote_path(path);
  try {
    return read_tensor_proto_impl(path, options, twhat);
  } catch (const std::bad_alloc&) {
    return detail::out_of_memory(twhat);
  }
}

#endif

}  // namespace aegisrt::io
