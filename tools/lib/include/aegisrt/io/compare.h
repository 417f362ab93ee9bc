// Element-wise comparison of output tensors from two backends, the logic
// behind `aegisrt compare`. An element passes when
//   |actual - reference| <= atol + rtol * |reference|
// (numpy.isclose's rule, the reference being the first backend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::io {

struct Tolerance {
  double atol = 1e-5;
  double rtol = 1e-5;
  /// NaN in both at the same index counts as equal.
  bool nan_equal = true;
};

struct ElementDiff {
  Shape index;  // multi-dimensional, C order
  double reference = 0;
  double actual = 0;
  double abs_error = 0;
  double rel_error = 0;  // abs_error / |reference|; inf when reference is 0 and abs_error > 0
};

struct TensorComparison {
  std::string name;
  bool passed = false;
  /// Why the values were not compared (missing output, shape mismatch); empty
  /// when they were.
  std::string note;
  DType reference_dtype = DType::Float32;
  DType actual_dtype = DType::Float32;
  Shape reference_shape;
  Shape actual_shape;
  std::int64_t elements = 0;
  std::int64_t mismatches = 0;  // elements outside the tolerance
  double max_abs_error = 0;
  double max_rel_error = 0;
  /// The element furthest beyond its allowed error (abs_error - (atol +
  /// rtol*|ref|) largest), i.e. the one that decides pass/fail; it is the
  /// closest to failing when all pass. Absent for empty tensors.
  std::optional<ElementDiff> worst;
};

/// Compares two host tensors of the same shape; dtypes may differ (values are
/// compared as double, so an fp16 backend can be checked against fp32; two
/// int64/uint64 tensors are compared exactly as integers first, so values
/// beyond 2^53 never pass by rounding). String tensors compare only with
/// string tensors, element by element for equality (tolerances do not apply);
/// the note names the first differing element.
/// A shape mismatch is a failed comparison with a note, not an Error. Errors:
/// InvalidArgument for device tensors or a negative tolerance.
Result<TensorComparison> compare_tensors(const std::string& name, const Tensor& reference,
                                         const Tensor& actual, const Tolerance& tolerance);

/// Matches outputs by name (in reference order). An output missing from
/// `actual` gives a failed comparison with a note; extra outputs in `actual`
/// are ignored.
Result<std::vector<TensorComparison>> compare_outputs(const std::vector<Tensor>& reference,
                                                      const std::vector<Tensor>& actual,
                                                      const Tolerance& tolerance);

[[nodiscard]] bool all_passed(const std::vector<TensorComparison>& comparisons) noexcept;

/// Element i (C order) of a host view as double (bf16/fp16/float8 decoded,
/// bool 0/1, int4 as its value); NaN for strings.
double element_as_double(const TensorView& view, std::int64_t flat_index) noexcept;

}  // namespace aegisrt::io
