// NumPy .npy reader/writer (format 1.0/2.0/3.0). See include/aegisrt/io/npy.h
// for the dtype mapping; the header is a Python dict literal, parsed here by a
// small strict parser (numpy's own reader rejects the same malformed headers).
#include "aegisrt/io/npy.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <optional>

#include "aegisrt/core/file_util.h"
#include "io/npy_stream.h"

namespace aegisrt::io {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader assumes a little-endian host");

namespace {

constexpr std::array<unsigned char, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kMaxHeaderLen = std::size_t{1} << 20;
constexpr std::size_t kMinPreamble = 10;  // magic(6) + version(2) + v1 length(2)
constexpr std::size_t kLongPreamble = 12;  // v2/v3 length is 4 bytes

enum class StringKind : std::uint8_t { None, Unicode, Bytes };

struct Descr {
  DType dtype = DType::Float32;
  std::size_t file_elem_size = 4;  // bytes per element in the file
  bool float64 = false;            // file holds float64, converted to float32
  bool big_endian = false;
  StringKind strings = StringKind::None;  // '<U n' (UTF-32) or '|S n' (bytes) -> DType::String
};

struct Header {
  std::string what;  // the file, for messages
  Descr descr;
  bool fortran = false;
  Shape shape;
  std::int64_t elements = 0;
  std::uint64_t data_bytes = 0;  // in the file
};

struct Preamble {
  std::size_t header_offset = 0;
  std::size_t header_len = 0;
};

Error corrupt(const std::string& what, const std::string& msg) {
  return Error(ErrorCode::Corrupt, what + ": " + msg);
}

Result<Preamble> parse_preamble(std::span<const std::byte> head, const std::string& what) {
  if (head.size() < kMinPreamble) {
    return corrupt(what, "too short to be a .npy file (" + std::to_string(head.size()) + " bytes)");
  }
  if (std::memcmp(head.data(), kMagic.data(), kMagic.size()) != 0) {
    return corrupt(what, "not a .npy file (bad magic; expected \\x93NUMPY)");
  }
  const auto major = std::to_integer<unsigned>(head[6]);
  const auto minor = std::to_integer<unsigned>(head[7]);
  Preamble p;
  if (major == 1) {
    p.header_offset = kMinPreamble;
    p.header_len = std::to_integer<std::size_t>(head[8]) | (std::to_integer<std::size_t>(head[9]) << 8);
  } else if (major == 2 || major == 3) {
    if (head.size() < kLongPreamble) {
      return corrupt(what, "truncated .npy preamble (version " + std::to_string(major) + ".x)");
    }
    p.header_offset = kLongPreamble;
    p.header_len = 0;
    for (int i = 3; i >= 0; --i) {
      p.header_len = (p.header_len << 8) | std::to_integer<std::size_t>(head[8 + static_cast<std::size_t>(i)]);
    }
  } else {
    return Error(ErrorCode::Unsupported, what + ": .npy format version " + std::to_string(major) +
                                             "." + std::to_string(minor) +
                                             " is not supported (1.0, 2.0, 3.0 are)");
  }
  if (p.header_len > kMaxHeaderLen) {
    return corrupt(what, "header length " + std::to_string(p.header_len) + " exceeds the limit of " +
                             std::to_string(kMaxHeaderLen) + " bytes");
  }
  return p;
}

Result<Descr> parse_descr(std::string_view text, const std::string& what, const ReadOptions& options) {
  const std::string shown = "'" + std::string(text) + "'";
  std::string_view code = text;
  char order = '|';
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    order = code[0];
    code.remove_prefix(1);
  }
  Descr d;
  // Fixed-width numpy strings: '<U n' (n UTF-32 code units) and '|S n' (n bytes).
  if (!code.empty() && (code[0] == 'U' || code[0] == 'S' || code[0] == 'a')) {
    std::size_t width = 0;
    const auto digits = code.substr(1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), width);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
        width > (std::size_t{1} << 24)) {
      return Error(ErrorCode::Unsupported, what + ": string dtype descr " + shown + " is not supported");
    }
    const bool unicode = code[0] == 'U';
    d = {DType::String, unicode ? 4 * width : width, false, false,
         unicode ? StringKind::Unicode : StringKind::Bytes};
    d.big_endian = unicode && order == '>';
    return d;
  }
  struct Code {
    std::string_view code;
    DType dtype;
  };
  // ml_dtypes: np.save writes float8_e5m2 as '<f1'; the other float8 types and
  // int4/uint4 as an ambiguous '<V1', so we write (and read) their names.
  static constexpr Code kCodes[] = {
      {"f4", DType::Float32},          {"f2", DType::Float16},
      {"V2", DType::BFloat16},         {"bfloat16", DType::BFloat16},
      {"i1", DType::Int8},             {"u1", DType::UInt8},
      {"i2", DType::Int16},            {"u2", DType::UInt16},
      {"i4", DType::Int32},            {"u4", DType::UInt32},
      {"i8", DType::Int64},            {"u8", DType::UInt64},
      {"b1", DType::Bool},             {"?", DType::Bool},
      {"f8", DType::Float64},          {"f1", DType::Float8E5M2},
      {"float8_e4m3fn", DType::Float8E4M3FN},     {"float8_e4m3fnuz", DType::Float8E4M3FNUZ},
      {"float8_e5m2", DType::Float8E5M2},         {"float8_e5m2fnuz", DType::Float8E5M2FNUZ},
      {"int4", DType::Int4},           {"uint4", DType::UInt4},
  };
  const Code* found = nullptr;
  for (const auto& c : kCodes)
    if (c.code == code) found = &c;
  if (found == nullptr) {
    if (code == "O") {
      return Error(ErrorCode::Unsupported,
                   what + ": dtype object ('O') arrays hold pickled Python objects, which AegisRT "
                          "does not unpickle; save strings as a numpy str array ('<U')");
    }
    if (code == "V1") {
      return Error(ErrorCode::Unsupported,
                   what + ": dtype descr " + shown +
                       " (1-byte void, what np.save writes for ml_dtypes float8/int4 arrays) does "
                       "not say which type it is; write the header descr as the ml_dtypes name "
                       "(e.g. 'float8_e4m3fn', 'int4') or use a TensorProto .pb");
    }
    return Error(ErrorCode::Unsupported,
                 what + ": dtype descr " + shown +
                     " is not supported; supported: <f4 <f2 <f8, <V2 or bfloat16, |i1 |u1 <i2 <u2 "
                     "<i4 <u4 <i8 <u8, |b1, <U n and |S n strings, and the ml_dtypes names "
                     "float8_e4m3fn float8_e4m3fnuz float8_e5m2 (<f1) float8_e5m2fnuz int4 uint4");
  }
  d = {found->dtype, dtype_size(found->dtype), false, false, StringKind::None};
  if (found->dtype == DType::Float64 && options.float64_to_float32) {
    d = {DType::Float32, 8, true, false, StringKind::None};
  }
  // A 2-byte void is raw bytes: bfloat16 is stored little-endian, whatever the marker.
  d.big_endian = order == '>' && d.file_elem_size > 1 && code != "V2";
  return d;
}

/// Strict parser for the header dict: {'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), } followed by padding.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string what) : s_(text), what_(std::move(what)) {}

  Result<Header> parse(const ReadOptions& options) {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<Shape> shape;
    skip_ws();
    if (!eat('{')) return bad("header does not start with '{'");
    while (true) {
      skip_ws();
      if (eat('}')) break;
      AEGIS_ASSIGN_OR_RETURN(std::string key, parse_string());
      skip_ws();
      if (!eat(':')) return bad("expected ':' after key '" + key + "'");
      skip_ws();
      if (key == "descr") {
        if (descr) return bad("duplicate key 'descr'");
        if (peek() == '[') {
          return Error(ErrorCode::Unsupported,
                       what_ + ": structured (record) dtypes are not supported");
        }
        AEGIS_ASSIGN_OR_RETURN(descr, parse_string());
      } else if (key == "fortran_order") {
        if (fortran) return bad("duplicate key 'fortran_order'");
        AEGIS_ASSIGN_OR_RETURN(fortran, parse_bool());
      } else if (key == "shape") {
        if (shape) return bad("duplicate key 'shape'");
        AEGIS_ASSIGN_OR_RETURN(shape, parse_shape_tuple(options));
      } else {
        return bad("unexpected key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat('}')) break;
      return bad("expected ',' or '}' after the value of '" + key + "'");
    }
    for (; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\0') {
        return bad("unexpected text after the header dict");
      }
    }
    if (!descr) return bad("header has no 'descr'");
    if (!fortran) return bad("header has no 'fortran_order'");
    if (!shape) return bad("header has no 'shape'");

    Header h;
    h.what = what_;
    AEGIS_ASSIGN_OR_RETURN(h.descr, parse_descr(*descr, what_, options));
    h.fortran = *fortran;
    h.shape = std::move(*shape);
    AEGIS_TRY(size_check(h, options));
    return h;
  }

 private:
  Error bad(const std::string& msg) const {
    std::string shown;
    for (char c : s_.substr(0, std::min<std::size_t>(s_.size(), 120))) {
      shown += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return corrupt(what_, "bad header dict: " + msg + " (header: " + shown + ")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool eat(char c) {
    if (peek() != c || pos_ >= s_.size()) return false;
    ++pos_;
    return true;
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  Result<std::string> parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') return bad("expected a quoted string");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\') return bad("escape sequences are not supported in header strings");
      out += s_[pos_++];
    }
    if (!eat(q)) return bad("unterminated string");
    return out;
  }
  Result<bool> parse_bool() {
    if (s_.substr(pos_).starts_with("True")) {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_).starts_with("False")) {
      pos_ += 5;
      return false;
    }
    return bad("fortran_order must be True or False");
  }
  Result<Shape> parse_shape_tuple(const ReadOptions& options) {
    if (!eat('(')) return bad("shape must be a tuple");
    Shape shape;
    while (true) {
      skip_ws();
      if (eat(')')) break;
      if (peek() == '-') return bad("negative dimension in shape");
      if (peek() < '0' || peek() > '9') return bad("shape must hold non-negative integers");
      std::uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        const auto digit = static_cast<std::uint64_t>(peek() - '0');
        if (v > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
          return bad("dimension does not fit in 64 bits");
        }
        v = v * 10 + digit;
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      shape.push_back(static_cast<std::int64_t>(v));
      if (shape.size() > options.max_rank) {
        return Error(ErrorCode::Unsupported, what_ + ": rank exceeds the limit of " +
                                                 std::to_string(options.max_rank));
      }
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat(')')) break;
      return bad("expected ',' or ')' in shape");
    }
    return shape;
  }
  Result<void> size_check(Header& h, const ReadOptions& options) const {
    // Count elements with overflow detection; a zero dim makes any shape empty.
    const bool empty = std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end();
    const std::uint64_t out_size = std::max<std::uint64_t>(dtype_size(h.descr.dtype), h.descr.file_elem_size);
    const std::uint64_t limit_elems = options.max_tensor_bytes / out_size;
    std::uint64_t n = 1;
    if (!empty) {
      for (auto d : h.shape) {
        const auto ud = static_cast<std::uint64_t>(d);
        if (n > limit_elems / ud) {
          return Error(ErrorCode::Unsupported,
                       what_ + ": shape " + shape_to_string(h.shape) + " of " +
                           std::string(dtype_name(h.descr.dtype)) +
                           " exceeds the read limit of " + std::to_string(options.max_tensor_bytes) +
                           " bytes");
        }
        n *= ud;
      }
    } else {
      n = 0;
    }
    h.elements = static_cast<std::int64_t>(n);
    h.data_bytes = n * h.descr.file_elem_size;
    return {};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string what_;
};

Result<Header> parse_header_text(std::span<const std::byte> text, const std::string& what,
                                 const ReadOptions& options) {
  const std::string_view sv(reinterpret_cast<const char*>(text.data()), text.size());
  HeaderParser parser(sv, what);
  return parser.parse(options);
}

Error size_mismatch(const std::string& what, const Header& h, std::uint64_t available) {
  const bool truncated = available < h.data_bytes;
  return corrupt(what, std::string(truncated ? "truncated: " : "data size mismatch: ") + "shape " +
                           shape_to_string(h.shape) + " of " +
                           (h.descr.float64 ? std::string("float64")
                                            : std::string(dtype_name(h.descr.dtype))) +
                           " needs " + std::to_string(h.data_bytes) + " bytes of data, the file has " +
                           std::to_string(available));
}

/// int4/uint4 are one element per byte. In the file, as ml_dtypes stores
/// them, the byte is the 4-bit pattern (int4 -1 is 0x0F); in memory int4 is
/// sign-extended (-1 is 0xFF). Reading also accepts sign-extended int4 bytes;
/// any other byte is Corrupt.
Result<void> decode_int4(Tensor& t, const std::string& what) {
  if (!dtype_is_int4(t.dtype())) return {};
  auto* p = t.data_as<std::uint8_t>();
  for (std::int64_t i = 0; i < t.element_count(); ++i) {
    const std::uint8_t b = p[i];
    if (b <= 0x0F) {
      if (t.dtype() == DType::Int4 && (b & 0x08u)) p[i] = static_cast<std::uint8_t>(b | 0xF0u);
      continue;
    }
    if (t.dtype() == DType::Int4 && b >= 0xF8) continue;  // already sign-extended
    return corrupt(what, std::string(dtype_name(t.dtype())) + " element " + std::to_string(i) +
                             " is out of range (byte " + std::to_string(b) + ")");
  }
  return {};
}

void normalize_bools(Tensor& t) {
  if (t.dtype() != DType::Bool) return;
  auto* p = t.data_as<std::uint8_t>();
  for (std::int64_t i = 0; i < t.element_count(); ++i) p[i] = p[i] != 0 ? 1 : 0;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

/// Decodes UTF-8 into code points; false if `s` is not valid UTF-8.
bool utf8_to_utf32(std::string_view s, std::u32string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t c = 0;
    if (b0 < 0x80) {
      len = 1, c = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, c = b0 & 0x1Fu;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, c = b0 & 0x0Fu;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, c = b0 & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      c = (c << 6) | (b & 0x3Fu);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;  // overlong, surrogate
    out += c;
    i += len;
  }
  return true;
}

/// Fixed-width numpy strings into std::string elements (UTF-32 -> UTF-8;
/// trailing NULs dropped, as numpy does). Fortran order is followed.
Result<void> decode_strings(const Header& h, std::span<const std::byte> src, Tensor& t) {
  const std::size_t width = h.descr.file_elem_size;
  auto out = t.span<std::string>();
  const Shape c_strides = contiguous_strides(h.shape);
  Shape f_strides(h.shape.size(), 1);
  for (std::size_t k = 1; k < h.shape.size(); ++k) f_strides[k] = f_strides[k - 1] * h.shape[k - 1];
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::size_t file_index = i;
    if (h.fortran && h.shape.size() > 1) {  // element i (C order) sits at its Fortran offset
      std::int64_t rem = static_cast<std::int64_t>(i), off = 0;
      for (std::size_t k = 0; k < h.shape.size(); ++k) {
        const std::int64_t idx = c_strides[k] ? rem / c_strides[k] : 0;
        rem -= idx * c_strides[k];
        off += idx * f_strides[k];
      }
      file_index = static_cast<std::size_t>(off);
    }
    const std::byte* e = src.data() + file_index * width;
    std::string& s = out[i];
    if (h.descr.strings == StringKind::Bytes) {
      std::size_t len = width;
      while (len > 0 && e[len - 1] == std::byte{0}) --len;
      s.assign(reinterpret_cast<const char*>(e), len);
      continue;
    }
    std::size_t units = width / 4;
    const auto unit = [e](std::size_t k) {
      std::uint32_t c = 0;
      std::memcpy(&c, e + 4 * k, 4);
      return c;
    };
    while (units > 0 && unit(units - 1) == 0) --units;
    for (std::size_t k = 0; k < units; ++k) {
      const std::uint32_t c = unit(k);
      if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return corrupt(h.what, "string element " + std::to_string(i) + " holds an invalid code point " +
                                   std::to_string(c));
      }
      append_utf8(s, static_cast<char32_t>(c));
    }
  }
  return {};
}

/// Turns file data (any byte order, C or Fortran order, maybe float64) into a
/// C-order tensor.
Result<Tensor> decode_data(const Header& h, std::span<const std::byte> data, std::string name) {
  std::span<const std::byte> src = data;
  std::vector<std::byte> swapped;
  const std::size_t fsize = h.descr.strings == StringKind::Unicode ? 4 : h.descr.file_elem_size;
  if (h.descr.big_endian) {
    swapped.assign(data.begin(), data.end());
    for (std::size_t off = 0; off + fsize <= swapped.size(); off += fsize) {
      std::reverse(swapped.begin() + static_cast<std::ptrdiff_t>(off),
                   swapped.begin() + static_cast<std::ptrdiff_t>(off + fsize));
    }
    src = swapped;
  }
  std::vector<float> narrowed;
  if (h.descr.float64) {
    narrowed.resize(static_cast<std::size_t>(h.elements));
    for (std::size_t i = 0; i < narrowed.size(); ++i) {
      double v = 0;
      std::memcpy(&v, src.data() + i * 8, 8);
      narrowed[i] = static_cast<float>(v);
    }
    src = std::as_bytes(std::span<const float>(narrowed));
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate_host(h.shape, h.descr.dtype, std::move(name)));
  if (h.descr.strings != StringKind::None) {
    AEGIS_TRY(decode_strings(h, src, t));
    return t;
  }
  if (h.fortran && h.shape.size() > 1 && h.elements > 0) {
    Shape strides(h.shape.size(), 1);
    for (std::size_t k = 1; k < h.shape.size(); ++k) strides[k] = strides[k - 1] * h.shape[k - 1];
    const TensorView fview(src.data(), h.shape, std::move(strides), h.descr.dtype);
    AEGIS_TRY(copy_to_contiguous(
        fview, std::span<std::byte>(static_cast<std::byte*>(t.data()), t.byte_size())));
  } else if (!src.empty()) {
    std::memcpy(t.data(), src.data(), t.byte_size());
  }
  normalize_bools(t);
  AEGIS_TRY(decode_int4(t, h.what));
  return t;
}

std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

std::string_view npy_descr(DType dtype) noexcept {
  switch (dtype) {
    case DType::Float32: return "<f4";
    case DType::Float16: return "<f2";
    case DType::BFloat16: return "<V2";
    case DType::Int8: return "|i1";
    case DType::UInt8: return "|u1";
    case DType::Int32: return "<i4";
    case DType::Int64: return "<i8";
    case DType::Bool: return "|b1";
    case DType::Float64: return "<f8";
    case DType::Int16: return "<i2";
    case DType::UInt16: return "<u2";
    case DType::UInt32: return "<u4";
    case DType::UInt64: return "<u8";
    case DType::String: return "<U";  // + the width, chosen per tensor (or |S n for non-UTF-8)
    case DType::Float8E4M3FN: return "float8_e4m3fn";
    case DType::Float8E4M3FNUZ: return "float8_e4m3fnuz";
    case DType::Float8E5M2: return "float8_e5m2";
    case DType::Float8E5M2FNUZ: return "float8_e5m2fnuz";
    case DType::Int4: return "int4";
    case DType::UInt4: return "uint4";
  }
  return "";
}

namespace detail {

Result<Tensor> read_npy_stream(std::uint64_t total, const NpyReadFn& read, const std::string& what,
                               std::string name, const ReadOptions& options) {
  if (total < kMinPreamble) {
    return corrupt(what, "too short to be a .npy file (" + std::to_string(total) + " bytes)");
  }
  // The preamble is read in two steps (10 bytes, then 2 more for versions 2/3),
  // so nothing past the header length field is consumed here.
  std::array<std::byte, kLongPreamble> head{};
  AEGIS_TRY(read(std::span(head).first(kMinPreamble), "the .npy preamble"));
  std::size_t head_len = kMinPreamble;
  const auto major = std::to_integer<unsigned>(head[6]);
  if ((major == 2 || major == 3) && total >= kLongPreamble &&
      std::memcmp(head.data(), kMagic.data(), kMagic.size()) == 0) {
    AEGIS_TRY(read(std::span(head).subspan(kMinPreamble, kLongPreamble - kMinPreamble), "the .npy preamble"));
    head_len = kLongPreamble;
  }
  AEGIS_ASSIGN_OR_RETURN(const Preamble pre, parse_preamble(std::span(head).first(head_len), what));
  // Every size claim is checked against the real size before allocating.
  if (total < pre.header_offset + pre.header_len) {
    return corrupt(what, "truncated: the header claims " + std::to_string(pre.header_len) +
                             " bytes, the file has " + std::to_string(total) + " in all");
  }
  std::vector<std::byte> text(pre.header_len);  // <= kMaxHeaderLen and <= total
  if (!text.empty()) AEGIS_TRY(read(text, "the .npy header"));
  AEGIS_ASSIGN_OR_RETURN(const Header h, parse_header_text(text, what, options));
  const std::uint64_t available = total - (pre.header_offset + pre.header_len);
  if (available != h.data_bytes) return size_mismatch(what, h, available);
  const bool direct = !h.fortran && !h.descr.big_endian && !h.descr.float64 &&
                      h.descr.strings == StringKind::None;
  if (direct) {
    auto allocated = Tensor::allocate_host(h.shape, h.descr.dtype, name);
    if (!allocated.ok()) {
      // The size was bounded above, so this is the host running out of memory.
      return Error(ErrorCode::IoError, what + ": " + allocated.error().message());
    }
    Tensor t = std::move(allocated).value();
    AEGIS_TRY(read(std::span<std::byte>(static_cast<std::byte*>(t.data()), t.byte_size()), "the tensor data"));
    normalize_bools(t);
    AEGIS_TRY(decode_int4(t, what));
    return t;
  }
  std::vector<std::byte> data(static_cast<std::size_t>(h.data_bytes));
  AEGIS_TRY(read(data, "the tensor data"));
  auto decoded = decode_data(h, data, std::move(name));
  if (!decoded.ok()) return Error(decoded.error().code(), what + ": " + decoded.error().message());
  return decoded;
}

Error out_of_memory(const std::string& what) {
  return Error(ErrorCode::IoError, "out of memory while reading " + what);
}

}  // namespace detail

Result<Tensor> decode_npy(std::span<const std::byte> bytes, std::string_view what_view,
                          const ReadOptions& options) {
  const std::string what(what_view);
  std::size_t pos = 0;
  const detail::NpyReadFn read = [&](std::span<std::byte> dst, const std::string& part) -> Result<void> {
    if (bytes.size() - pos < dst.size()) {
      return corrupt(what, "truncated: " + part + " needs " + std::to_string(dst.size()) + " bytes, only " +
                               std::to_string(bytes.size() - pos) + " left");
    }
    if (!dst.empty()) std::memcpy(dst.data(), bytes.data() + pos, dst.size());
    pos += dst.size();
    return {};
  };
  try {
    return detail::read_npy_stream(bytes.size(), read, what, {}, options);
  } catch (const std::bad_alloc&) {
    return detail::out_of_memory(what);
  }
}

Result<Tensor> read_npy(const std::filesystem::path& path, const ReadOptions& options) {
  const std::string what = quote_path(path);
  try {
    AEGIS_ASSIGN_OR_RETURN(auto file, ReadableFile::open(path, "tensor file"));
    const detail::NpyReadFn read = [&file](std::span<std::byte> dst, const std::string& part) {
      return file.read_exact(dst, part);
    };
    return detail::read_npy_stream(file.size(), read, what, path.stem().string(), options);
  } catch (const std::bad_alloc&) {
    return detail::out_of_memory(what);
  }
}

namespace {
Result<std::vector<std::byte>> encode_npy_impl(const TensorView& view);
/// encode_npy with std::bad_alloc turned into a typed error.
Result<std::vector<std::byte>> encode_npy_checked(const TensorView& view) {
  try {
    return encode_npy_impl(view);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::IoError, "out of memory encoding a tensor of " + std::to_string(view.byte_size()) +
                                         " bytes as .npy");
  }
}
}  // namespace

Result<std::vector<std::byte>> encode_npy(const TensorView& view) { return encode_npy_checked(view); }

namespace {
Result<std::vector<std::byte>> encode_npy_impl(const TensorView& view) {
  AEGIS_TRY(view.validate("tensor to encode as .npy"));
  if (!view.location().is_host()) {
    return Error(ErrorCode::InvalidArgument, "cannot write a device tensor as .npy; copy it to the host first");
  }
  std::string descr(npy_descr(view.dtype()));
  std::vector<std::byte> string_data;  // strings: the fixed-width elements
  if (dtype_is_string(view.dtype())) {
    AEGIS_ASSIGN_OR_RETURN(const Tensor c, copy_to_contiguous(view, "string tensor"));
    const auto strings = c.span<std::string>();
    std::vector<std::u32string> wide(strings.size());
    bool utf8 = true;
    std::size_t width = 1;  // numpy's smallest: '<U1'
    for (std::size_t i = 0; i < strings.size() && utf8; ++i) {
      utf8 = utf8_to_utf32(strings[i], wide[i]);
      width = std::max(width, wide[i].size());
    }
    if (utf8) {
      descr = "<U" + std::to_string(width);
      string_data.resize(strings.size() * width * 4);
      for (std::size_t i = 0; i < wide.size(); ++i) {
        for (std::size_t k = 0; k < wide[i].size(); ++k) {
          const auto cp = static_cast<std::uint32_t>(wide[i][k]);
          std::memcpy(string_data.data() + (i * width + k) * 4, &cp, 4);
        }
      }
    } else {  // not UTF-8: raw bytes, numpy's 'S' type
      width = 1;
      for (const auto& str : strings) width = std::max(width, str.size());
      descr = "|S" + std::to_string(width);
      string_data.resize(strings.size() * width);
      for (std::size_t i = 0; i < strings.size(); ++i) {
        if (!strings[i].empty()) std::memcpy(string_data.data() + i * width, strings[i].data(), strings[i].size());
      }
    }
  }
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       shape_repr(view.shape()) + ", }";
  // Pad with spaces so the data starts at a multiple of 64 (numpy's alignment).
  std::size_t preamble = kMinPreamble;
  std::size_t total = preamble + header.size() + 1;
  if (((total + 63) / 64) * 64 - preamble > 0xFFFF) preamble = kLongPreamble;  // needs version 2.0
  total = preamble + header.size() + 1;
  header.append(((total + 63) / 64) * 64 - total, ' ');
  header += '\n';

  // The preamble is assembled in a fixed array first (GCC 12 -O3 otherwise
  // reports a false -Wnull-dereference on indexing the fresh vector).
  std::array<std::byte, kLongPreamble> pre{};
  std::memcpy(pre.data(), kMagic.data(), kMagic.size());
  const std::size_t len = header.size();
  if (preamble == kMinPreamble) {
    pre[6] = std::byte{1};
    pre[7] = std::byte{0};
    pre[8] = static_cast<std::byte>(len & 0xFF);
    pre[9] = static_cast<std::byte>((len >> 8) & 0xFF);
  } else {
    pre[6] = std::byte{2};
    pre[7] = std::byte{0};
    for (std::size_t i = 0; i < 4; ++i) pre[8 + i] = static_cast<std::byte>((len >> (8 * i)) & 0xFF);
  }
  const bool strings = dtype_is_string(view.dtype());
  std::vector<std::byte> out(preamble + header.size() + (strings ? string_data.size() : view.byte_size()));
  std::memcpy(out.data(), pre.data(), preamble);
  std::memcpy(out.data() + preamble, header.data(), header.size());
  if (strings) {
    if (!string_data.empty()) {
      std::memcpy(out.data() + preamble + header.size(), string_data.data(), string_data.size());
    }
    return out;
  }
  AEGIS_TRY(copy_to_contiguous(view, std::span(out).subspan(preamble + header.size())));
  if (view.dtype() == DType::Int4) {  // the file holds the 4-bit pattern, as ml_dtypes does
    for (std::size_t i = preamble + header.size(); i < out.size(); ++i) out[i] &= std::byte{0x0F};
  }
  return out;
}
}  // namespace

Result<void> write_npy(const std::filesystem::path& path, const TensorView& view) {
  auto bytes = encode_npy_checked(view);
  if (!bytes.ok()) return std::move(bytes).error().with_context("writing " + quote_path(path));
  return write_file_atomic(path, std::span<const std::byte>(*bytes));
}

}  // namespace aegisrt::io
