// A sequence of input frames for `aegisrt run --input`: a video file (through
// media::VideoReader), a folder of images (PNG/JPEG, sorted by file name) or
// a single image (one frame).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "aegisrt/core/result.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::media {

struct Frame {
  vision::Image image;  // RGB
  std::int64_t index = 0;
  std::string name;     // "clip.mp4#12", or the image's file name
};

enum class FrameSourceKind : std::uint8_t { Video, Directory, Image };

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  /// The next frame, std::nullopt after the last. Errors name the file (and
  /// the frame index for videos); frames returned earlier stay valid.
  virtual Result<std::optional<Frame>> next() = 0;
  [[nodiscard]] virtual FrameSourceKind kind() const noexcept = 0;
  /// Frames per second of a video; 0 for images and folders.
  [[nodiscard]] virtual double fps() const noexcept = 0;
  /// Total frames when known, else -1.
  [[nodiscard]] virtual std::int64_t frame_count() const noexcept = 0;
};

/// Whether `path` looks like a video by its extension (mp4, mkv, avi, mov, webm, m4v, mpg, mpeg, ts).
bool has_video_extension(const std::filesystem::path& path);

/// Opens `path`: a folder -> its *.png/*.jpg/*.jpeg files in name order
/// (InvalidArgument when there are none); a file with a video extension ->
/// VideoReader; any other regular file -> one image. NotFound when missing.
Result<std::unique_ptr<FrameSource>> open_frame_source(const std::filesystem::path& path);

}  // namespace aegisrt::media
