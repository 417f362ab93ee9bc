// Element-wise tensor comparison with numpy.isclose semantics, for
// `aegisrt compare`.
#include "aegisrt/io/compare.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace aegisrt::io {

namespace {

Shape unravel(std::int64_t flat, const Shape& shape) {
  Shape idx(shape.size(), 0);
  for (std::size_t k = shape.size(); k-- > 0;) {
    if (shape[k] == 0) continue;
    idx[k] = flat % shape[k];
    flat /= shape[k];
  }
  return idx;
}

template <typename T>
T load(const void* base, std::int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const std::byte*>(base) + static_cast<std::size_t>(i) * sizeof(T), sizeof(T));
  return v;
}

bool is_wide_integer(DType t) noexcept { return t == DType::Int64 || t == DType::UInt64; }

/// |a - b| for 64-bit integer elements, computed exactly before the one
/// rounding to double (so distinct values never compare equal through
/// double rounding). `equal` tells exact equality.
double wide_integer_diff(const TensorView& r, const TensorView& a, std::int64_t i, bool& equal) noexcept {
  const auto as_parts = [](const TensorView& v, std::int64_t k, bool& negative) -> std::uint64_t {
    if (v.dtype() == DType::UInt64) {
      negative = false;
      return load<std::uint64_t>(v.data(), k);
    }
    const auto x = load<std::int64_t>(v.data(), k);
    negative = x < 0;
    return negative ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
  };
  bool rn = false, an = false;
  const std::uint64_t rm = as_parts(r, i, rn);
  const std::uint64_t am = as_parts(a, i, an);
  equal = rn == an && rm == am;
  if (rn == an) return static_cast<double>(rm > am ? rm - am : am - rm);
  return static_cast<double>(rm) + static_cast<double>(am);  // opposite signs
}

/// Strings compare equal or not; the first differing element is reported.
TensorComparison compare_strings(TensorComparison c, const Tensor& reference, const Tensor& actual) {
  if (reference.dtype() != DType::String || actual.dtype() != DType::String) {
    c.note = "dtype mismatch: reference " + std::string(dtype_name(reference.dtype())) + ", actual " +
             std::string(dtype_name(actual.dtype())) + " (strings compare only with strings)";
    return c;
  }
  const auto r = reference.span<std::string>();
  const auto a = actual.span<std::string>();
  c.elements = static_cast<std::int64_t>(r.size());
  std::int64_t first = -1;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] == a[i]) continue;
    ++c.mismatches;
    if (first < 0) first = static_cast<std::int64_t>(i);
  }
  if (first >= 0) {
    const auto k = static_cast<std::size_t>(first);
    c.max_abs_error = c.max_rel_error = std::numeric_limits<double>::infinity();
    std::string idx;
    for (auto d : unravel(first, reference.shape())) idx += (idx.empty() ? "" : ", ") + std::to_string(d);
    c.note = "string element [" + idx + "] differs: reference \"" + r[k] + "\", actual \"" + a[k] + "\"";
  }
  c.passed = c.mismatches == 0;
  return c;
}

}  // namespace

double element_as_double(const TensorView& view, std::int64_t i) noexcept {
  const void* p = view.data();
  switch (view.dtype()) {
    case DType::Float32: return load<float>(p, i);
    case DType::Float16: return half_to_float(load<std::uint16_t>(p, i));
    case DType::BFloat16: return bfloat16_to_float(load<std::uint16_t>(p, i));
    case DType::Int8: return load<std::int8_t>(p, i);
    case DType::UInt8: return load<std::uint8_t>(p, i);
    case DType::Int32: return load<std::int32_t>(p, i);
    case DType::Int64: return static_cast<double>(load<std::int64_t>(p, i));
    case DType::Bool: return load<std::uint8_t>(p, i) != 0 ? 1.0 : 0.0;
    case DType::Float64: return load<double>(p, i);
    case DType::Int16: return load<std::int16_t>(p, i);
    case DType::UInt16: return load<std::uint16_t>(p, i);
    case DType::UInt32: return load<std::uint32_t>(p, i);
    case DType::UInt64: return static_cast<double>(load<std::uint64_t>(p, i));
    case DType::Float8E4M3FN:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2:
    case DType::Float8E5M2FNUZ: return float8_to_float(view.dtype(), load<std::uint8_t>(p, i));
    case DType::Int4: return load<std::int8_t>(p, i);
    case DType::UInt4: return load<std::uint8_t>(p, i);
    case DType::String: break;  // no numeric value
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

/// One element against the tolerance: its absolute difference, whether it
/// passes, and by how much it exceeds what is allowed (negative: within).
struct ElementCheck {
  double reference = 0;
  double diff = 0;
  bool ok = false;
  double excess = 0;
};

ElementCheck check_element(const TensorView& rv, const TensorView& av, std::int64_t i, bool wide,
                           const Tolerance& tol) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double r = element_as_double(rv, i);
  const double a = element_as_double(av, i);
  double diff = 0;
  bool ok = false;
  double excess = 0;
  bool exact_equal = false;
  if (wide) {
    diff = wide_integer_diff(rv, av, i, exact_equal);
    const double allowed = tol.atol + tol.rtol * std::fabs(r);
    ok = exact_equal || diff <= allowed;
    excess = exact_equal ? -allowed : diff - allowed;
  } else if (r == a) {
    ok = true;
    excess = -(tol.atol + tol.rtol * (std::isfinite(r) ? std::fabs(r) : 0.0));
  } else if (std::isnan(r) || std::isnan(a)) {
    ok = tol.nan_equal && std::isnan(r) && std::isnan(a);
    diff = ok ? 0 : kInf;
    excess = ok ? -tol.atol : kInf;
  } else if (!std::isfinite(r) || !std::isfinite(a)) {
    diff = kInf;  // an infinity matches only the same infinity
    excess = kInf;
  } else {
    diff = std::fabs(a - r);
    const double allowed = tol.atol + tol.rtol * std::fabs(r);
    ok = diff <= allowed;
    excess = diff - allowed;
  }
  return {r, diff, ok, excess};
}

/// The worst element (the one furthest past its tolerance), for the report.
ElementDiff worst_element(const TensorView& rv, const TensorView& av, std::int64_t worst_index, const Shape& shape,
                          bool wide, const Tolerance& tol) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  ElementDiff w;
  w.index = unravel(worst_index, shape);
  w.reference = element_as_double(rv, worst_index);
  w.actual = element_as_double(av, worst_index);
  const bool both_nan = std::isnan(w.reference) && std::isnan(w.actual);
  bool exact_equal = false;
  if (wide) {
    w.abs_error = wide_integer_diff(rv, av, worst_index, exact_equal);
  } else if (w.reference == w.actual || (both_nan && tol.nan_equal)) {
    w.abs_error = 0;
  } else if (!std::isfinite(w.reference) || !std::isfinite(w.actual)) {
    w.abs_error = kInf;
  } else {
    w.abs_error = std::fabs(w.actual - w.reference);
  }
  w.rel_error = w.abs_error == 0 ? 0
                : (w.reference == 0 || !std::isfinite(w.reference)) ? kInf
                                                                    : w.abs_error / std::fabs(w.reference);
  return w;
}

}  // namespace

Result<TensorComparison> compare_tensors(const std::string& name, const Tensor& reference,
                                         const Tensor& actual, const Tolerance& tol) {
  if (!reference.location().is_host() || !actual.location().is_host()) {
    return Error(ErrorCode::InvalidArgument, "output '" + name + "': compare needs host tensors");
  }
  if (!(tol.atol >= 0) || !(tol.rtol >= 0)) {
    return Error(ErrorCode::InvalidArgument, "tolerances must be non-negative numbers (atol " +
                                                 std::to_string(tol.atol) + ", rtol " +
                                                 std::to_string(tol.rtol) + ")");
  }
  TensorComparison c;
  c.name = name;
  c.reference_dtype = reference.dtype();
  c.actual_dtype = actual.dtype();
  c.reference_shape = reference.shape();
  c.actual_shape = actual.shape();
  if (reference.shape() != actual.shape()) {
    c.note = "shape mismatch: reference " + shape_to_string(reference.shape()) + ", actual " +
             shape_to_string(actual.shape());
    return c;
  }
  if (dtype_is_string(reference.dtype()) || dtype_is_string(actual.dtype())) {
    return compare_strings(std::move(c), reference, actual);
  }
  const auto rv = reference.view();
  const auto av = actual.view();
  const bool wide = is_wide_integer(reference.dtype()) && is_wide_integer(actual.dtype());
  c.elements = reference.element_count();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double worst_excess = -kInf;
  std::int64_t worst_index = -1;
  for (std::int64_t i = 0; i < c.elements; ++i) {
    const ElementCheck e = check_element(rv, av, i, wide, tol);
    const double r = e.reference;
    const double diff = e.diff;
    const bool ok = e.ok;
    const double excess = e.excess;
    const double rel = diff == 0 ? 0 : (r == 0 || !std::isfinite(r) ? kInf : diff / std::fabs(r));
    if (!ok) ++c.mismatches;
    if (diff > c.max_abs_error) c.max_abs_error = diff;
    if (rel > c.max_rel_error) c.max_rel_error = rel;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst_index = i;
    }
  }
  if (worst_index >= 0) c.worst = worst_element(rv, av, worst_index, reference.shape(), wide, tol);
  c.passed = c.mismatches == 0;
  return c;
}

Result<std::vector<TensorComparison>> compare_outputs(const std::vector<Tensor>& reference,
                                                      const std::vector<Tensor>& actual,
                                                      const Tolerance& tolerance) {
  std::vector<TensorComparison> out;
  for (const auto& r : reference) {
    const Tensor* match = nullptr;
    for (const auto& a : actual)
      if (a.name() == r.name()) match = &a;
    if (match == nullptr) {
      TensorComparison c;
      c.name = r.name();
      c.reference_dtype = r.dtype();
      c.reference_shape = r.shape();
      c.note = "output missing from the compared backend";
      out.push_back(std::move(c));
      continue;
    }
    AEGIS_ASSIGN_OR_RETURN(auto c, compare_tensors(r.name(), r, *match, tolerance));
    out.push_back(std::move(c));
  }
  return out;
}

bool all_passed(const std::vector<TensorComparison>& comparisons) noexcept {
  for (const auto& c : comparisons)
    if (!c.passed) return false;
  return true;
}

}  // namespace aegisrt::io
