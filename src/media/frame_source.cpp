// Frame sources for `aegisrt run --input` (see include/aegisrt/media/frame_source.h).
#include "aegisrt/media/frame_source.h"

#include <algorithm>
#include <cctype>
#include <system_error>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "aegisrt/media/video.h"

namespace aegisrt::media {
namespace {

std::string lower_ext(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

bool is_image_ext(const std::filesystem::path& p) {
  const std::string e = lower_ext(p);
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

class VideoSource final : public FrameSource {
 public:
  explicit VideoSource(VideoReader r) : reader_(std::move(r)) {}
  Result<std::optional<Frame>> next() override {
    const std::int64_t index = reader_.frames_read();
    AEGIS_ASSIGN_OR_RETURN(std::optional<vision::Image> img, reader_.next());
    if (!img) return std::optional<Frame>{};
    Frame f;
    f.image = std::move(*img);
    f.index = index;
    f.name = reader_.path().filename().string() + "#" + std::to_string(index);
    return std::optional<Frame>(std::move(f));
  }
  [[nodiscard]] FrameSourceKind kind() const noexcept override { return FrameSourceKind::Video; }
  [[nodiscard]] double fps() const noexcept override { return reader_.info().fps; }
  [[nodiscard]] std::int64_t frame_count() const noexcept override { return reader_.info().frame_count; }

 private:
  VideoReader reader_;
};

class ImageListSource final : public FrameSource {
 public:
  ImageListSource(std::vector<std::filesystem::path> files, FrameSourceKind kind)
      : files_(std::move(files)), kind_(kind) {}
  Result<std::optional<Frame>> next() override {
    if (pos_ >= files_.size()) return std::optional<Frame>{};
    const auto& p = files_[pos_];
    AEGIS_ASSIGN_OR_RETURN(vision::Image img, vision::load_image(p, 3));
    Frame f;
    f.image = std::move(img);
    f.index = static_cast<std::int64_t>(pos_);
    f.name = p.filename().string();
    ++pos_;
    return std::optional<Frame>(std::move(f));
  }
  [[nodiscard]] FrameSourceKind kind() const noexcept override { return kind_; }
  [[nodiscard]] double fps() const noexcept override { return 0.0; }
  [[nodiscard]] std::int64_t frame_count() const noexcept override {
    return static_cast<std::int64_t>(files_.size());
  }

 private:
  std::vector<std::filesystem::path> files_;
  FrameSourceKind kind_;
  std::size_t pos_ = 0;
};

}  // namespace

bool has_video_extension(const std::filesystem::path& path) {
  static const char* const kExt[] = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"};
  const std::string e = lower_ext(path);
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* x) { return e == x; });
}

Result<std::unique_ptr<FrameSource>> open_frame_source(const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(st)) {
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (is_image_ext(it->path()) && it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) return Error(ErrorCode::IoError, "input folder " + quote_path(path) + ": " + ec.message());
    if (files.empty())
      return Error(ErrorCode::InvalidArgument, "input folder " + quote_path(path) + " has no .png/.jpg/.jpeg files");
    std::sort(files.begin(), files.end());
    return std::unique_ptr<FrameSource>(std::make_unique<ImageListSource>(std::move(files), FrameSourceKind::Directory));
  }
  AEGIS_TRY(check_regular_file(path, "input"));
  if (has_video_extension(path)) {
    AEGIS_ASSIGN_OR_RETURN(VideoReader reader, VideoReader::open(path));
    return std::unique_ptr<FrameSource>(std::make_unique<VideoSource>(std::move(reader)));
  }
  return std::unique_ptr<FrameSource>(
      std::make_unique<ImageListSource>(std::vector<std::filesystem::path>{path}, FrameSourceKind::Image));
}

}  // namespace aegisrt::media
