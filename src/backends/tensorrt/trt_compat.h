// TensorRT glue shared by the backend and the builder: owning pointers, the
// ILogger that feeds TrtLogSink, dtype/dims conversions and the version
// switches for API differences between TensorRT 8.6, 10.x and 11.x.
// Private to src/backends/tensorrt (the only code that includes NvInfer.h).
#pragma once

#include <NvInfer.h>
#include <NvInferVersion.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "aegisrt/trt_plan/build_plan.h"
#include "aegisrt/trt_plan/error_mapping.h"
#include "aegisrt/trt_plan/trt_version.h"
#include "aegisrt/core/dtype.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/cuda/device_info.h"

#if NV_TENSORRT_MAJOR < 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR < 6)
#error "AegisRT needs TensorRT 8.6 or newer"
#endif

// Reduced-precision builder flags and the int8 calibrator are deprecated in
// 10.x (removed in 11) but are the documented way to build fp16/int8 from a
// float32 model there; only those uses are wrapped in these.
#if defined(__GNUC__) || defined(__clang__)
#define AEGIS_TRT_ALLOW_DEPRECATED_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define AEGIS_TRT_ALLOW_DEPRECATED_END _Pragma("GCC diagnostic pop")
#else
#define AEGIS_TRT_ALLOW_DEPRECATED_BEGIN
#define AEGIS_TRT_ALLOW_DEPRECATED_END
#endif

namespace aegisrt::trt {

/// TensorRT objects are deleted with `delete` since 8.0 (destroy() is gone in 10).
struct TrtDelete {
  template <typename T>
  void operator()(T* p) const noexcept {
    delete p;
  }
};
template <typename T>
using TrtPtr = std::unique_ptr<T, TrtDelete>;

/// The ILogger every TensorRT object we create gets; forwards to a TrtLogSink
/// so failures come back as Results with TensorRT's own words.
class TrtLogger final : public nvinfer1::ILogger {
 public:
  explicit TrtLogger(TrtSeverity forward_level = TrtSeverity::Warning) : sink_(forward_level) {}
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
    try {
      sink_.record(static_cast<TrtSeverity>(static_cast<int>(severity)), msg ? msg : "");
    } catch (...) {  // NOLINT: must not throw into TensorRT
    }
  }
  TrtLogSink& sink() noexcept { return sink_; }

 private:
  TrtLogSink sink_;
};

/// Version of the headers we compiled against.
inline TrtVersion header_version() noexcept {
  return {NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR, NV_TENSORRT_PATCH, NV_TENSORRT_BUILD};
}

/// Version of the library loaded at run time (may differ from the headers
/// within a major version).
inline TrtVersion library_version() noexcept {
  auto v = decode_lib_version(getInferLibVersion());
  if (!v.ok()) return header_version();
  TrtVersion out = v.value();
  const auto h = header_version();
  if (out.major == h.major && out.minor == h.minor && out.patch == h.patch) out.build = h.build;
  return out;
}

inline std::optional<DType> to_dtype(nvinfer1::DataType t) noexcept {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return DType::Float32;
    case nvinfer1::DataType::kHALF: return DType::Float16;
    case nvinfer1::DataType::kINT8: return DType::Int8;
    case nvinfer1::DataType::kINT32: return DType::Int32;
    case nvinfer1::DataType::kBOOL: return DType::Bool;
    case nvinfer1::DataType::kUINT8: return DType::UInt8;
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kBF16: return DType::BFloat16;
    case nvinfer1::DataType::kINT64: return DType::Int64;
#endif
    default: return std::nullopt;  // FP8, INT4, FP4, E8M0: not bindable by AegisRT
  }
}

inline std::string trt_dtype_name(nvinfer1::DataType t) {
  return "TensorRT DataType " + std::to_string(static_cast<int>(t));
}

inline Shape to_shape(const nvinfer1::Dims& d) {
  Shape s;
  if (d.nbDims < 0) return s;
  for (int i = 0; i < d.nbDims && i < nvinfer1::Dims::MAX_DIMS; ++i) {
    s.push_back(d.d[i] < 0 ? kDynamicDim : static_cast<std::int64_t>(d.d[i]));
  }
  return s;
}

/// InvalidArgument when the rank exceeds TensorRT's limit.
inline Result<nvinfer1::Dims> to_dims(const Shape& s, std::string_view what) {
  nvinfer1::Dims d{};
  if (s.size() > static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS)) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(what) + " has rank " + std::to_string(s.size()) + "; TensorRT allows " +
                     std::to_string(nvinfer1::Dims::MAX_DIMS));
  }
  d.nbDims = static_cast<std::int32_t>(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Dims::d is int32 in 8.x and int64 from 10.0.
    d.d[i] = static_cast<std::remove_reference_t<decltype(d.d[0])>>(s[i]);
  }
  return d;
}

/// The engine-cache identity (UUID, name, compute capability) of a CUDA device;
/// shared by the builder and the backend.
inline Result<GpuIdentity> gpu_identity(int device) {
  AEGIS_ASSIGN_OR_RETURN(auto info, cuda::query_device(device));
  GpuIdentity g;
  g.uuid = info.uuid;
  g.name = info.name;
  g.cc_major = info.cc_major;
  g.cc_minor = info.cc_minor;
  return g;
}

}  // namespace aegisrt::trt
