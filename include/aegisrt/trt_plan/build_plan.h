// How a TensorRT engine gets built, decided without TensorRT: which precision
// path (builder flags, calibrator, strongly typed network) a model, a
// requested precision, a TensorRT version and a GPU lead to, and the
// optimisation profile (min/opt/max shapes) from the manifest's input sizes
// and batch range. Always compiled and unit-tested in CI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/core/runtime_types.h"
#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/trt_plan/trt_version.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::trt {

/// The seed default: engines are fp16 unless asked otherwise.
inline constexpr Precision kDefaultEnginePrecision = Precision::FP16;

/// The GPU an engine is built for / runs on (from cuda::DeviceInfo).
struct GpuIdentity {
  std::string uuid;  // "GPU-..."; empty = unknown
  std::string name;
  int cc_major = 0;  // 0 = unknown
  int cc_minor = 0;
  /// "8.7"; empty when unknown.
  [[nodiscard]] std::string compute_capability() const;
  [[nodiscard]] bool known() const noexcept { return cc_major > 0; }
};

enum class NetworkTyping : std::uint8_t {
  Weak,    // precision chosen by builder flags (TensorRT <= 10)
  Strong,  // tensor types come from the model (fp16 / Q-DQ ONNX; all of 11.x)
};
std::string_view to_string(NetworkTyping t) noexcept;

struct PrecisionRequest {
  /// Empty = kDefaultEnginePrecision.
  std::optional<Precision> requested;
  /// What the model's manifest allows; empty = anything.
  std::vector<Precision> manifest_precisions;
  TrtVersion trt;
  /// How the supplied ONNX model is typed (onnx::OnnxSummary::kind()).
  onnx::OnnxModelKind model_kind = onnx::OnnxModelKind::Float32;
  /// The model file, for messages.
  std::string model_path;
  GpuIdentity gpu;
  /// A calibration data source was supplied (needed for int8 from a float32
  /// model on TensorRT <= 10).
  bool have_calibration_data = false;
};

struct PrecisionPlan {
  Precision precision = kDefaultEnginePrecision;
  NetworkTyping typing = NetworkTyping::Weak;
  bool fp16_flag = false;         // BuilderFlag::kFP16 (weak typing only)
  bool int8_flag = false;         // BuilderFlag::kINT8 (weak typing only)
  bool needs_calibrator = false;  // implicit quantisation with IInt8EntropyCalibrator2
  /// Human-readable explanation of the choice ("fp16 via builder flag on TensorRT 10.16").
  std::string summary;
};

/// Unsupported (manifest or GPU does not allow the precision; TensorRT 11
/// needs a differently typed model: the message names the tool that makes
/// it), InvalidArgument (model kind contradicts the precision, int8 without
/// calibration data on TensorRT <= 10, TensorRT older than 8.6).
Result<PrecisionPlan> select_precision(const PrecisionRequest& request);

enum class ImageLayout : std::uint8_t { NCHW, NHWC };

struct ImageSize {
  std::int64_t height = 0;
  std::int64_t width = 0;
  friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

struct ProfileRequest {
  ImageLayout layout = ImageLayout::NCHW;
  /// The manifest's input sizes; the first is the optimisation target.
  std::vector<ImageSize> input_sizes;
  std::int64_t min_batch = 1;
  std::int64_t opt_batch = 1;
  std::int64_t max_batch = 1;
};

/// One input's optimisation profile entry.
struct TensorProfile {
  std::string name;
  Shape min;
  Shape opt;
  Shape max;
  friend bool operator==(const TensorProfile&, const TensorProfile&) = default;
};

/// min/opt/max for every network input. Rank-4 inputs are images (dims per
/// `layout`): a dynamic batch takes the batch range, dynamic H/W take the
/// smallest/first/largest input size, static dims must agree with every
/// requested size. Other ranks: a dynamic dim 0 takes the batch range.
/// InvalidArgument naming the tensor and dim for a dynamic channel or other
/// dim nothing can fix, a static dim the request contradicts, or a bad range.
Result<std::vector<TensorProfile>> select_profiles(const std::vector<TensorDesc>& inputs,
                                                   const ProfileRequest& request);

/// "images:1x3x320x320/1x3x640x640/8x3x640x640;mask:..." (stable, for cache keys).
std::string profiles_to_string(const std::vector<TensorProfile>& profiles);

}  // namespace aegisrt::trt
