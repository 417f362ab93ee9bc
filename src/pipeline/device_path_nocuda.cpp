// DevicePath when AegisRT is built without the CUDA toolkit: create() reports
// Unsupported (device_path_refusal() already refuses such builds).
#include "pipeline/device_path.h"

namespace aegisrt::pipeline::detail {

struct DevicePath::Impl {};

DevicePath::DevicePath(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DevicePath::~DevicePath() = default;

Result<std::unique_ptr<DevicePath>> DevicePath::create(const vision::PreprocessConfig&, int, bool) {
  return Error(ErrorCode::Unsupported,
               "device pre-processing is not available: AegisRT was built without the CUDA toolkit");
}
Result<vision::LetterboxTransform> DevicePath::preprocess(const vision::Image&) {
  return Error(ErrorCode::Unsupported, "device pre-processing is not available in this build");
}
TensorView DevicePath::input() const { return {}; }
cuda::CudaStream* DevicePath::execute_stream() const noexcept { return nullptr; }
std::size_t DevicePath::device_bytes() const noexcept { return 0; }
bool DevicePath::jpeg_decode_compiled() noexcept { return false; }
Result<void> DevicePath::enable_jpeg_decode(std::uint64_t, bool) {
  return Error(ErrorCode::Unsupported, "GPU JPEG decoding is not available: AegisRT was built without the CUDA toolkit");
}
bool DevicePath::jpeg_decode_enabled() const noexcept { return false; }
Result<DevicePath::JpegFrame> DevicePath::preprocess_jpeg(std::span<const std::byte>, std::string_view) {
  return Error(ErrorCode::Unsupported, "GPU JPEG decoding is not available in this build");
}

Result<void> DevicePath::enable_yolo_decode() {
  return Error(ErrorCode::Unsupported, "GPU YOLO decoding is not available: AegisRT was built without the CUDA toolkit");
}
bool DevicePath::yolo_decode_enabled() const noexcept { return false; }
Result<std::vector<vision::Detection>> DevicePath::decode_yolo(const TensorView&, const vision::YoloDecodeConfig&,
                                                               const vision::LetterboxTransform&) {
  return Error(ErrorCode::Unsupported, "GPU YOLO decoding is not available in this build");
}

}  // namespace aegisrt::pipeline::detail
