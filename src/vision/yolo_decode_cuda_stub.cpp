// CudaYoloDecoder when AegisRT is built without the CUDA toolkit: create()
// reports Unsupported; decode() on a host output is plain decode_yolo.
#include "vision/yolo_decode_cuda.h"

#include <utility>

namespace aegisrt::vision {

struct CudaYoloDecoder::Impl {};

bool cuda_yolo_decode_compiled() noexcept { return false; }

Result<CudaYoloDecoder> CudaYoloDecoder::create(int /*device*/, std::uint32_t /*capacity*/) {
  return Error(ErrorCode::Unsupported,
               "GPU YOLO decoding is not available: AegisRT was built without the CUDA toolkit");
}
CudaYoloDecoder::CudaYoloDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaYoloDecoder::CudaYoloDecoder(CudaYoloDecoder&&) noexcept = default;
CudaYoloDecoder& CudaYoloDecoder::operator=(CudaYoloDecoder&&) noexcept = default;
CudaYoloDecoder::~CudaYoloDecoder() = default;
std::uint32_t CudaYoloDecoder::capacity() const noexcept { return 0; }
int CudaYoloDecoder::device() const noexcept { return -1; }
Result<std::vector<Detection>> CudaYoloDecoder::decode(const TensorView& output, const YoloDecodeConfig& config,
                                                       const LetterboxTransform& transform, cuda::CudaStream&,
                                                       std::int64_t batch_index) {
  last_ = Path::HostOutput;
  return decode_yolo(output, config, transform, batch_index);
}

}  // namespace aegisrt::vision
