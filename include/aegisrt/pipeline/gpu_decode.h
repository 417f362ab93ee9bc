// What this build of libaegisrt can do for GPU image decoding (`aegisrt info`).
// A header of its own, apart from pipeline.h, so that a query of the build
// does not pull in the whole pipeline API.
#pragma once

namespace aegisrt::pipeline {

/// Whether this build of the library has NVIDIA nvJPEG GPU JPEG decoding
/// compiled in (CMake AEGISRT_WITH_NVJPEG: AUTO finds nvJPEG with CUDA).
/// Compiled in is not the same as available: decoding on the GPU also needs a
/// CUDA device, the pipeline's device path and a JPEG nvJPEG takes
/// (DecodeMode, PipelineInfo::decoder / decoder_reason in pipeline.h).
bool gpu_jpeg_decode_compiled() noexcept;

}  // namespace aegisrt::pipeline
