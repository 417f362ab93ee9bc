// NvJpegDecoder when AegisRT is built with CUDA but without nvJPEG
// (AEGISRT_WITH_NVJPEG=OFF or not found; scripts/deps/45-nvjpeg.sh installs it):
// create() reports Unsupported, so the pipeline decodes on the CPU.
#include "cuda/nvjpeg_decoder.h"

#include <utility>

namespace aegisrt::cuda {

bool nvjpeg_compiled() noexcept { return false; }

struct NvJpegDecoder::Impl {};

NvJpegDecoder::NvJpegDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NvJpegDecoder::NvJpegDecoder(NvJpegDecoder&&) noexcept = default;
NvJpegDecoder& NvJpegDecoder::operator=(NvJpegDecoder&&) noexcept = default;
NvJpegDecoder::~NvJpegDecoder() = default;

Result<NvJpegDecoder> NvJpegDecoder::create(int, std::uint64_t, JpegBackend) {
  return Error(ErrorCode::Unsupported,
               "GPU JPEG decoding is not available: AegisRT was built without nvJPEG "
               "(scripts/deps/45-nvjpeg.sh, AEGISRT_WITH_NVJPEG)");
}
Result<DeviceImage> NvJpegDecoder::decode(std::span<const std::byte>, const CudaStream&, std::string_view) {
  return Error(ErrorCode::Unsupported, "GPU JPEG decoding is not available in this build");
}
int NvJpegDecoder::device() const noexcept { return -1; }
std::size_t NvJpegDecoder::buffer_bytes() const noexcept { return 0; }
std::uint64_t NvJpegDecoder::hardware_images() const noexcept { return 0; }

}  // namespace aegisrt::cuda
