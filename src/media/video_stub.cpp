// Built without FFmpeg (AEGISRT_WITH_FFMPEG resolved OFF): every video entry
// point answers Unsupported.
#include "aegisrt/media/video.h"

namespace aegisrt::media {
namespace {
Error no_ffmpeg(const std::filesystem::path& path) {
  return Error(ErrorCode::Unsupported, "video " + path.string() +
                                           ": this build has no FFmpeg (configure with AEGISRT_WITH_FFMPEG and "
                                           "the libavformat/libavcodec/libswscale -dev packages)");
}
}  // namespace

bool video_supported() noexcept { return false; }

struct VideoReader::Impl {
  VideoInfo info;
  std::filesystem::path path;
};
VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
VideoReader::~VideoReader() = default;
const VideoInfo& VideoReader::info() const noexcept { return impl_->info; }
const std::filesystem::path& VideoReader::path() const noexcept { return impl_->path; }
std::int64_t VideoReader::frames_read() const noexcept { return 0; }
Result<VideoReader> VideoReader::open(const std::filesystem::path& path) { return no_ffmpeg(path); }
Result<std::optional<vision::Image>> VideoReader::next() { return no_ffmpeg(impl_->path); }
Result<VideoFrames> read_video(const std::filesystem::path& path) { return no_ffmpeg(path); }

struct VideoWriter::Impl {
  std::string codec;
  std::filesystem::path path;
};
VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
VideoWriter::~VideoWriter() = default;
const std::string& VideoWriter::codec() const noexcept { return impl_->codec; }
std::int64_t VideoWriter::frames_written() const noexcept { return 0; }
Result<VideoWriter> VideoWriter::open(const std::filesystem::path& path, int, int, const VideoWriterOptions&) {
  return no_ffmpeg(path);
}
Result<void> VideoWriter::write(const vision::Image&) { return no_ffmpeg(impl_->path); }
Result<void> VideoWriter::close() { return no_ffmpeg(impl_->path); }

}  // namespace aegisrt::media
