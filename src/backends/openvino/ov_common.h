// Private helpers of the OpenVINO backend: the process-wide ov::Core, element
// type mapping and exception-to-Error conversion. Only src/backends/openvino
// (and its tests) include this; it pulls in OpenVINO's headers.
#pragma once

#include <openvino/openvino.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aegisrt/core/dtype.h"
#include "aegisrt/core/result.h"

namespace aegisrt::ov_detail {

/// The one ov::Core of the process (its methods are thread-safe). Created on
/// first use; BackendError if OpenVINO cannot start (plugins missing).
Result<ov::Core*> core();

/// Reads an ONNX file through OpenVINO's ONNX frontend only (Core::read_model
/// would also try the TensorFlow/Paddle frontends on a file it cannot place,
/// which log parse errors of their own). Corrupt naming the file when the
/// frontend refuses it; BackendError when the ONNX frontend does not load.
Result<std::shared_ptr<ov::Model>> read_onnx(const std::filesystem::path& path);

/// AegisRT dtype of an OpenVINO element type; nullopt for types AegisRT lacks.
/// The AegisRT DType an OpenVINO element type stands for (for messages), bound or not.
std::optional<DType> as_aegis_dtype(const ov::element::Type& t) noexcept;
/// True for the DTypes this backend binds (its capabilities().dtypes).
bool binds(DType t) noexcept;
/// as_aegis_dtype() restricted to the bound types.
std::optional<DType> from_ov(const ov::element::Type& t) noexcept;
ov::element::Type to_ov(DType t) noexcept;

/// OpenVINO's exception text, made one line and bounded: its messages carry
/// source locations and "Check ... failed" lines over several lines.
std::string condense(std::string_view what);

/// Error with `code`, "<context>: <condensed what>".
Error to_error(ErrorCode code, const std::exception& e, const std::string& context);

/// "cpu" / "CPU.0" / "GPU.1" -> a safe lower-case file-name component ("cpu", "cpu_0", "gpu_1").
std::string device_file_component(std::string_view device);

}  // namespace aegisrt::ov_detail
