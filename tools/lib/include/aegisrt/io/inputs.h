// Model inputs for `aegisrt exec` / `compare`: tensors from files matched to the
// model's declared inputs, the rest filled with seeded random data, dynamic
// dims fixed by explicit shapes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aegisrt/core/runtime_types.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::io {

/// A tensor the user supplied and where it came from (a path, for messages).
struct ProvidedTensor {
  Tensor tensor;  // named
  std::string origin;
  /// k for a tensor read from an ONNX test-data file input_<k>.pb: it binds to
  /// the k-th input when its name (the TensorProto's) matches no input.
  std::optional<std::size_t> position = std::nullopt;
};

/// The inputs of one model, in input_specs() order.
struct PreparedInputs {
  std::vector<Tensor> tensors;       // named like the specs
  std::vector<std::string> origins;  // file path, or "random(seed=S)"
  [[nodiscard]] std::vector<NamedTensorView> views() const;
};

/// Matches `provided` to `specs`: by name; a tensor named "input_<k>" or read
/// from input_<k>.pb (ONNX test-data layout, `position`) that matches no name
/// binds to the k-th input. Inputs
/// with no tensor are filled by random_tensor() with the spec's shape, whose
/// dynamic dims must come from `shapes` (InvalidArgument naming the input and
/// the dim otherwise). Errors (InvalidArgument, naming input and origin):
/// unknown name, an input given twice, dtype or shape not accepted by the
/// spec, a `shapes` entry for an unknown input or disagreeing with a file.
/// One conversion is made: a float64 tensor given for a float32 input is
/// narrowed (np.save writes float64 by default); the origin says so.
Result<PreparedInputs> prepare_inputs_for(const std::vector<TensorDesc>& specs,
                                          std::vector<ProvidedTensor> provided,
                                          const std::map<std::string, Shape, std::less<>>& shapes,
                                          std::uint64_t seed);

/// Seeded random data for a concrete shape: floats uniform in [0, 1), integers
/// in {0, 1} (safe for index-like inputs; Polygraphy's default range too), bool
/// 0/1; float8 types small positive values (bit patterns below 0x38); strings
/// "0"/"1". Deterministic in (seed, stream): the same call gives the same bytes on
/// every platform (own generator, not std:: distributions).
Result<Tensor> random_tensor(const std::string& name, const Shape& shape, DType dtype,
                             std::uint64_t seed, std::uint64_t stream = 0);

/// "1x3x224x224" (also "1,3,224,224"); "" or "scalar" is rank 0.
Result<Shape> parse_shape(std::string_view text);
/// "NAME=1x3x224x224", split at the last '='.
Result<std::pair<std::string, Shape>> parse_named_shape(std::string_view text);

}  // namespace aegisrt::io
