// Matching user tensors to a model's inputs, seeded random fill, shape flags.
#include "aegisrt/io/inputs.h"

#include <charconv>
#include <cstring>
#include <optional>

namespace aegisrt::io {

namespace {

/// SplitMix64: tiny, good enough for test data, and identical everywhere
/// (std:: distributions are implementation-defined).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) with 24 random bits: exactly representable in float.
  float next_unit() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

 private:
  std::uint64_t state_;
};

std::string spec_list(const std::vector<TensorDesc>& specs) {
  std::string s;
  for (const auto& d : specs) s += (s.empty() ? "" : ", ") + d.to_string();
  return s.empty() ? "none" : s;
}

std::optional<std::size_t> positional_index(const std::string& name) {
  constexpr std::string_view prefix = "input_";
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return std::nullopt;
  std::size_t k = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return k;
}

}  // namespace

std::vector<NamedTensorView> PreparedInputs::views() const {
  std::vector<NamedTensorView> v;
  v.reserve(tensors.size());
  for (const auto& t : tensors) v.push_back({t.name(), t.view()});
  return v;
}

Result<Tensor> random_tensor(const std::string& name, const Shape& shape, DType dtype, std::uint64_t seed,
                             std::uint64_t stream) {
  AEGIS_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate_host(shape, dtype, name));
  SplitMix64 rng(seed ^ (stream * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL));
  const auto n = static_cast<std::size_t>(t.element_count());
  switch (dtype) {
    case DType::Float32:
      for (auto& v : t.span<float>()) v = rng.next_unit();
      break;
    case DType::Float16:
      for (auto& v : t.span<std::uint16_t>()) v = float_to_half(rng.next_unit());
      break;
    case DType::BFloat16:
      for (auto& v : t.span<std::uint16_t>()) v = float_to_bfloat16(rng.next_unit());
      break;
    case DType::Int8:
    case DType::UInt8:
    case DType::Bool: {
      auto* p = t.data_as<std::uint8_t>();
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng.next() >> 63);
      break;
    }
    case DType::Int32:
      for (auto& v : t.span<std::int32_t>()) v = static_cast<std::int32_t>(rng.next() >> 63);
      break;
    case DType::Int64:
      for (auto& v : t.span<std::int64_t>()) v = static_cast<std::int64_t>(rng.next() >> 63);
      break;
    case DType::Float64:
      for (auto& v : t.span<double>()) v = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
      break;
    case DType::Int16:
    case DType::UInt16:
      for (auto& v : t.span<std::uint16_t>()) v = static_cast<std::uint16_t>(rng.next() >> 63);
      break;
    case DType::UInt32:
      for (auto& v : t.span<std::uint32_t>()) v = static_cast<std::uint32_t>(rng.next() >> 63);
      break;
    case DType::UInt64:
      for (auto& v : t.span<std::uint64_t>()) v = rng.next() >> 63;
      break;
    case DType::Int4:
    case DType::UInt4: {
      auto* p = t.data_as<std::uint8_t>();
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng.next() >> 63);
      break;
    }
    case DType::Float8E4M3FN:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2:
    case DType::Float8E5M2FNUZ: {
      // Positive finite patterns below 0x38 (below 1.0 in every float8 type).
      auto* p = t.data_as<std::uint8_t>();
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng.next() % 0x38);
      break;
    }
    case DType::String:
      for (auto& v : t.span<std::string>()) v = std::to_string(rng.next() >> 63);
      break;
  }
  return t;
}

Result<Shape> parse_shape(std::string_view text) {
  Shape shape;
  if (text.empty() || text == "scalar") return shape;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = text.find_first_of("x,", pos);
    const std::string_view part = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    std::int64_t d = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || d < 0) {
      return Error(ErrorCode::InvalidArgument,
                   "bad shape '" + std::string(text) + "': expected non-negative integers like 1x3x224x224");
    }
    shape.push_back(d);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return shape;
}

Result<std::pair<std::string, Shape>> parse_named_shape(std::string_view text) {
  const auto eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Error(ErrorCode::InvalidArgument,
                 "bad shape argument '" + std::string(text) + "': expected NAME=1x3x224x224");
  }
  AEGIS_ASSIGN_OR_RETURN(Shape shape, parse_shape(text.substr(eq + 1)));
  return std::make_pair(std::string(text.substr(0, eq)), std::move(shape));
}

namespace {

/// The model input a provided tensor is for: by name, else by its position
/// (given, or "input_<k>"-style); InvalidArgument when none fits.
Result<std::size_t> input_index(const std::vector<TensorDesc>& specs, const ProvidedTensor& p) {
  const std::string& name = p.tensor.name();
  std::size_t idx = specs.size();
  for (std::size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) idx = i;
  if (idx == specs.size()) {
    auto k = p.position ? p.position : positional_index(name);
    if (k && *k < specs.size()) idx = *k;
  }
  if (idx == specs.size()) {
    return Error(ErrorCode::InvalidArgument, "tensor '" + name + "' from " + p.origin +
                                                 " matches no model input; the model's inputs: " +
                                                 spec_list(specs));
  }
  return idx;
}

/// A provided tensor made to fit `spec` (float64 narrowed for a float32
/// input), or why it cannot: dtype, shape, or a --shape it disagrees with.
Result<void> fit_provided(const TensorDesc& spec, ProvidedTensor& p,
                          const std::map<std::string, Shape, std::less<>>& shapes) {
  const std::string& name = p.tensor.name();
  if (p.tensor.dtype() == DType::Float64 && spec.dtype == DType::Float32) {
    // np.save of a default float array gives float64: narrowed (round to
    // nearest) for a float32 input. A float64 input takes it as it is.
    AEGIS_ASSIGN_OR_RETURN(Tensor narrowed, Tensor::allocate_host(p.tensor.shape(), DType::Float32, name));
    const auto src = p.tensor.span<double>();
    auto dst = narrowed.span<float>();
    for (std::size_t k = 0; k < src.size(); ++k) dst[k] = static_cast<float>(src[k]);
    p.tensor = std::move(narrowed);
    p.origin += " (float64 narrowed to float32)";
  }
  if (p.tensor.dtype() != spec.dtype) {
    return Error(ErrorCode::InvalidArgument,
                 "input '" + spec.name + "' from " + p.origin + " has dtype " +
                     std::string(dtype_name(p.tensor.dtype())) + ", the model expects " +
                     std::string(dtype_name(spec.dtype)));
  }
  if (!spec.accepts_shape(p.tensor.shape())) {
    return Error(ErrorCode::InvalidArgument,
                 "input '" + spec.name + "' from " + p.origin + " has shape " +
                     shape_to_string(p.tensor.shape()) + ", the model expects " +
                     shape_to_string(spec.shape));
  }
  if (auto it = shapes.find(spec.name); it != shapes.end() && it->second != p.tensor.shape()) {
    return Error(ErrorCode::InvalidArgument,
                 "input '" + spec.name + "': the given shape " + shape_to_string(it->second) +
                     " disagrees with " + p.origin + " (" + shape_to_string(p.tensor.shape()) + ")");
  }
  return {};
}

/// The shape of a random input: the declared one, or the --shape given for
/// it; every dimension must be fixed by then.
Result<Shape> random_input_shape(const TensorDesc& spec, const std::map<std::string, Shape, std::less<>>& shapes) {
  Shape shape = spec.shape;
  if (auto it = shapes.find(spec.name); it != shapes.end()) {
    if (!spec.accepts_shape(it->second)) {
      return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "': shape " +
                                                   shape_to_string(it->second) +
                                                   " does not fit the declared shape " +
                                                   shape_to_string(spec.shape));
    }
    shape = it->second;
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      return Error(ErrorCode::InvalidArgument,
                   "input '" + spec.name + "' has dynamic dimension " + std::to_string(d) +
                       " (declared shape " + shape_to_string(spec.shape) +
                       ") and no file or shape was given to fix it");
    }
  }
  return shape;
}

}  // namespace

Result<PreparedInputs> prepare_inputs_for(const std::vector<TensorDesc>& specs,
                                          std::vector<ProvidedTensor> provided,
                                          const std::map<std::string, Shape, std::less<>>& shapes,
                                          std::uint64_t seed) {
  for (const auto& [name, shape] : shapes) {
    bool known = false;
    for (const auto& s : specs) known = known || s.name == name;
    if (!known) {
      return Error(ErrorCode::InvalidArgument, "a shape was given for unknown input '" + name +
                                                   "'; the model's inputs: " + spec_list(specs));
    }
  }
  PreparedInputs out;
  out.tensors.resize(specs.size());
  out.origins.resize(specs.size());
  std::vector<bool> have(specs.size(), false);

  for (auto& p : provided) {
    AEGIS_ASSIGN_OR_RETURN(const std::size_t idx, input_index(specs, p));
    const auto& spec = specs[idx];
    if (have[idx]) {
      return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "' is given twice (" +
                                                   out.origins[idx] + " and " + p.origin + ")");
    }
    AEGIS_TRY(fit_provided(spec, p, shapes));
    p.tensor.set_name(spec.name);
    out.tensors[idx] = std::move(p.tensor);
    out.origins[idx] = p.origin;
    have[idx] = true;
  }

  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (have[i]) continue;
    const auto& spec = specs[i];
    AEGIS_ASSIGN_OR_RETURN(const Shape shape, random_input_shape(spec, shapes));
    AEGIS_ASSIGN_OR_RETURN(out.tensors[i], random_tensor(spec.name, shape, spec.dtype, seed, i));
    out.origins[i] = "random(seed=" + std::to_string(seed) + ")";
  }
  return out;
}

}  // namespace aegisrt::io
