// TensorRT version numbers: parsing (strings, NvInferVersion.h, the library's
// getInferLibVersion() integer), engine compatibility between versions and the
// API features each version has. Needs no TensorRT headers; always compiled.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "aegisrt/core/result.h"

namespace aegisrt::trt {

struct TrtVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  int build = 0;  // 0 = unknown

  /// "10.16.0.72", or "10.16.0" when the build number is unknown.
  [[nodiscard]] std::string to_string() const;
  friend auto operator<=>(const TrtVersion&, const TrtVersion&) = default;
};

/// The oldest TensorRT AegisRT supports (first with enqueueV3 and the
/// name-based I/O tensor API we use throughout).
inline constexpr TrtVersion kMinimumTrtVersion{8, 6, 0, 0};

/// Parses "10.16.0.72", "10.16", "v11.1", "8.6.1". InvalidArgument naming
/// the text for anything else (missing minor, non-digits, trailing junk).
Result<TrtVersion> parse_trt_version(std::string_view text);

/// Reads the version from the text of NvInferVersion.h. Handles 10.x/11.x
/// (TRT_MAJOR_ENTERPRISE ... with NV_TENSORRT_MAJOR aliasing them) and 8.x
/// (NV_TENSORRT_MAJOR literals). Corrupt naming `what` if no version is found.
Result<TrtVersion> parse_version_header(std::string_view header_text,
                                        std::string_view what = "NvInferVersion.h");

/// Decodes getInferLibVersion(): major*1000+minor*100+patch up to 8.x,
/// major*10000+minor*100+patch from 10.0 on. InvalidArgument for values that
/// fit neither (<= 0).
Result<TrtVersion> decode_lib_version(std::int64_t value);

/// True when a plan serialised by `built` can be deserialised by `runtime`.
/// TensorRT requires the same major.minor.patch (and build, when both are
/// known) for engines not built version-compatible; AegisRT never builds
/// version-compatible engines (they run slower and need the lean runtime).
bool engine_version_compatible(const TrtVersion& built, const TrtVersion& runtime) noexcept;

/// The API differences AegisRT cares about, per version.
struct TrtFeatures {
  bool supported = false;                // >= kMinimumTrtVersion
  bool precision_builder_flags = false;  // BuilderFlag::kFP16/kINT8 (removed in 11)
  bool int8_calibrator = false;          // IInt8EntropyCalibrator2 (removed in 11)
  bool explicit_batch_flag = false;      // must pass kEXPLICIT_BATCH (8.x)
  bool strongly_typed_flag = false;      // NetworkDefinitionCreationFlag::kSTRONGLY_TYPED (9.x, 10.x)
  bool always_strongly_typed = false;    // 11.x: every network is strongly typed
  bool device_memory_v2 = false;         // ICudaEngine::getDeviceMemorySizeV2 (10.x+)
};
TrtFeatures features_of(const TrtVersion& v) noexcept;

}  // namespace aegisrt::trt
