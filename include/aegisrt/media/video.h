// Video in and out through FFmpeg's libraries (Debian: libavformat,
// libavcodec, libavutil, libswscale; CMake option AEGISRT_WITH_FFMPEG, AUTO).
// No FFmpeg type appears here. Without FFmpeg every entry point answers
// ErrorCode::Unsupported ("built without FFmpeg").
//
// Reading: the file is checked and opened with core/file_util.h
// (ReadableFile: regular files only, FIFOs/devices/sockets refused) and
// FFmpeg reads it through that descriptor (custom AVIOContext), never by
// path. Frames come out one at a time as 8-bit RGB vision::Image. A decode
// error, or a stream that ends before the frame count its container declares
// (a truncated file), is ErrorCode::Corrupt naming the file and the 0-based
// frame index; the frames returned before stay valid (read_video() keeps them).
//
// Writing: the container follows the file extension (.mp4, .mkv, .avi, ...);
// the codec is, in order, libx264 (H.264, in Debian's FFmpeg build) for
// mp4/mkv/mov, then the container's default encoder, then mpeg4 (MPEG-4 part 2).
// Frames are converted to the encoder's pixel format (yuv420p) with swscale;
// odd sizes are padded to even by repeating the last column/row (yuv420p
// needs even sizes). The file is written to a temporary next to the target
// and renamed on close(), so a failed or abandoned write leaves no partial file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::media {

/// Whether this build has FFmpeg (AEGISRT_WITH_FFMPEG resolved ON).
bool video_supported() noexcept;

struct VideoInfo {
  int width = 0;
  int height = 0;
  double fps = 0.0;               // average frame rate; 0 when the container has none
  std::int64_t frame_count = -1;  // frames the container declares; -1 when unknown
  std::string codec;              // decoder name, e.g. "h264"
  std::string container;          // demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
};

class VideoReader {
 public:
  /// NotFound / InvalidArgument (not a regular file) from file_util;
  /// Corrupt when FFmpeg cannot read a video stream from it (names the file).
  static Result<VideoReader> open(const std::filesystem::path& path);

  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  ~VideoReader();

  [[nodiscard]] const VideoInfo& info() const noexcept;
  [[nodiscard]] const std::filesystem::path& path() const noexcept;
  /// Frames returned so far (also the index of the next frame).
  [[nodiscard]] std::int64_t frames_read() const noexcept;

  /// The next frame as RGB (3 channels), std::nullopt at the end of the
  /// stream. Corrupt (file + frame index) on a decode error or a premature
  /// end; after an error, further calls return the same error.
  Result<std::optional<vision::Image>> next();

 private:
  struct Impl;
  explicit VideoReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Every frame of a file, stopping at the first error: `frames` holds what
/// decoded before it, `error` the error (std::nullopt when the file was read
/// to its end). Errors opening the file are returned as the Result's error.
struct VideoFrames {
  VideoInfo info;
  std::vector<vision::Image> frames;
  std::optional<Error> error;
};
Result<VideoFrames> read_video(const std::filesystem::path& path);

struct VideoWriterOptions {
  double fps = 30.0;
  /// FFmpeg encoder name ("libx264", "mpeg4", ...); empty = the order above.
  std::string codec;
};

class VideoWriter {
 public:
  /// InvalidArgument for sizes < 1 or fps <= 0; Unsupported when no encoder
  /// fits the container; IoError naming the file when it cannot be created.
  static Result<VideoWriter> open(const std::filesystem::path& path, int width, int height,
                                  const VideoWriterOptions& options = {});

  VideoWriter(VideoWriter&&) noexcept;
  VideoWriter& operator=(VideoWriter&&) noexcept;
  /// Without close(), the temporary file is removed (nothing is published).
  ~VideoWriter();

  /// Appends one frame (1, 3 or 4 channels, the size given to open()).
  Result<void> write(const vision::Image& frame);
  /// Flushes the encoder, writes the trailer and publishes the file.
  Result<void> close();

  [[nodiscard]] const std::string& codec() const noexcept;
  [[nodiscard]] std::int64_t frames_written() const noexcept;

 private:
  struct Impl;
  explicit VideoWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegisrt::media
