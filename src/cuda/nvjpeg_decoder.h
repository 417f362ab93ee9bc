// Private (src/cuda, used by the pipeline's device path): JPEG decoding on the
// GPU with NVIDIA nvJPEG, straight into device memory on a given CUDA stream
// (issue 16: decode off the CPU critical path). Built with nvJPEG when CMake
// found it (AEGISRT_HAVE_NVJPEG; scripts/deps/45-nvjpeg.sh), otherwise
// nvjpeg_decoder_stub.cpp, whose create() reports Unsupported. No nvJPEG or
// CUDA type appears here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::cuda {

class CudaStream;

/// true when this build links nvJPEG (a GPU may still be absent).
bool nvjpeg_compiled() noexcept;

/// The bytes start with a JPEG SOI marker followed by another marker (FF D8 FF).
inline bool looks_like_jpeg(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= 3 && bytes[0] == std::byte{0xFF} && bytes[1] == std::byte{0xD8} &&
         bytes[2] == std::byte{0xFF};
}

/// The bytes end with the JPEG EOI marker (FF D9), trailing NUL padding
/// ignored. A truncated JPEG does not; nvJPEG may decode one without an
/// error (grey or repeated blocks), so NvJpegDecoder::decode() leaves such
/// input to the CPU decoder, which reports it as Corrupt.
inline bool jpeg_ends_with_eoi(std::span<const std::byte> bytes) noexcept {
  std::size_t n = bytes.size();
  while (n > 0 && bytes[n - 1] == std::byte{0}) --n;
  return n >= 4 && bytes[n - 2] == std::byte{0xFF} && bytes[n - 1] == std::byte{0xD9};
}

/// A decoded image in the decoder's device buffer: uint8 [H, W, C] (C = 3,
/// interleaved RGB; C = 1 for greyscale JPEGs), contiguous, on the decoder's
/// device. Valid until the next decode() or the decoder's destruction.
struct DeviceImage {
  TensorView view;
  int width = 0;
  int height = 0;
  int channels = 0;
};

/// Which nvJPEG decode path NvJpegDecoder uses for colour JPEGs.
///  * Default: nvjpegCreateSimple + nvjpegDecode (the library picks its
///    hybrid CPU/GPU path).
///  * Hardware: the GPU's hardware JPEG engine (A100, A30, H100/H200 class:
///    NVJPEG_BACKEND_HARDWARE, nvjpegDecodeBatched with a batch of 1). Colour
///    baseline JPEGs the engine takes (nvjpegDecodeBatchedSupported) go to it;
///    greyscale and the rest (progressive, 4:1:0 / 4:1:1) go to the Default
///    path of the same decoder. create() fails with Unsupported on a GPU
///    without the engine.
enum class JpegBackend : std::uint8_t { Default, Hardware };

/// One nvJPEG library handle (nvjpegCreateSimple: default backend) and one
/// JPEG state, so one decoder per pipeline instance (one thread at a time),
/// plus the device output buffer, reused across frames and grown on demand;
/// with JpegBackend::Hardware also a hardware-backend handle and state.
class NvJpegDecoder {
 public:
  /// Unsupported when this build has no nvJPEG, or (JpegBackend::Hardware)
  /// when the GPU has no hardware JPEG engine; InvalidArgument for a bad
  /// device index; CudaError when the device or nvJPEG cannot be initialised
  /// (no GPU, no driver). Images with more than `max_pixels` pixels are
  /// refused by decode() from the header (as vision::DecodeOptions::max_pixels).
  static Result<NvJpegDecoder> create(int device, std::uint64_t max_pixels,
                                      JpegBackend backend = JpegBackend::Default);

  NvJpegDecoder(NvJpegDecoder&&) noexcept;
  NvJpegDecoder& operator=(NvJpegDecoder&&) noexcept;
  NvJpegDecoder(const NvJpegDecoder&) = delete;
  NvJpegDecoder& operator=(const NvJpegDecoder&) = delete;
  ~NvJpegDecoder();

  /// Decodes `jpeg` into the device buffer on `stream` (the header is read
  /// first with nvjpegGetImageInfo and the dimensions are checked before any
  /// allocation). The decode may still be queued on `stream` on return: work
  /// that reads the image must follow on the same stream. Errors, each naming
  /// `name`:
  ///  * Unsupported: not a JPEG, no EOI marker at the end (possibly
  ///    truncated), a component count or subsampling nvJPEG does not turn
  ///    into RGB (CMYK/YCCK, unknown), a format nvJPEG refuses
  ///    (NVJPEG_STATUS_JPEG_NOT_SUPPORTED, e.g. 12-bit or arithmetic coding),
  ///    more than max_pixels. The caller may decode these on the CPU instead;
  ///  * Corrupt: nvJPEG rejects the header or the data (bad JPEG,
  ///    incomplete bitstream), zero or oversized dimensions;
  ///  * CudaError: allocation or execution failed on the device.
  /// After an error the JPEG state is re-created, so the next image decodes normally.
  Result<DeviceImage> decode(std::span<const std::byte> jpeg, const CudaStream& stream,
                             std::string_view name);

  [[nodiscard]] int device() const noexcept;
  /// Bytes of the device output buffer now (grows with the largest image).
  [[nodiscard]] std::size_t buffer_bytes() const noexcept;
  /// The images decoded so far by the hardware JPEG engine (0 with
  /// JpegBackend::Default).
  [[nodiscard]] std::uint64_t hardware_images() const noexcept;

  struct Impl;

 private:
  explicit NvJpegDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegisrt::cuda
