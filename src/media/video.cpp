// FFmpeg-backed VideoReader / VideoWriter (see include/aegisrt/media/video.h).
// Every FFmpeg object lives in a small RAII holder; FFmpeg reports errors by
// return codes (no exceptions), which are turned into typed Errors here.
#include "aegisrt/media/video.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

#include "aegisrt/core/file_util.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace aegisrt::media {
namespace {

std::string av_error_text(int code) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
  if (av_strerror(code, buf.data(), buf.size()) < 0) return "FFmpeg error " + std::to_string(code);
  return std::string(buf.data());
}

// FFmpeg logs to stderr by default; our errors carry the information, so only
// fatal messages stay visible.
void quiet_ffmpeg_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

struct FormatInputCloser {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};
struct FormatOutputFree {
  void operator()(AVFormatContext* c) const noexcept { avformat_free_context(c); }
};
struct CodecCtxFree {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};
struct AvioFree {
  void operator()(AVIOContext* io) const noexcept {
    if (io == nullptr) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};

constexpr int kSwsFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;

// AVIO callbacks over the ReadableFile's stream (FFmpeg never opens the path).
int avio_read_cb(void* opaque, std::uint8_t* buf, int size) {
  auto* f = static_cast<std::FILE*>(opaque);
  const std::size_t n = std::fread(buf, 1, static_cast<std::size_t>(size), f);
  if (n == 0) return std::ferror(f) != 0 ? AVERROR(EIO) : AVERROR_EOF;
  return static_cast<int>(n);
}

std::int64_t avio_seek_cb(void* opaque, std::int64_t offset, int whence) {
  auto* f = static_cast<std::FILE*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) {
    const off_t here = ftello(f);
    if (here < 0 || fseeko(f, 0, SEEK_END) != 0) return -1;
    const off_t size = ftello(f);
    if (fseeko(f, here, SEEK_SET) != 0) return -1;
    return size;
  }
  if (fseeko(f, static_cast<off_t>(offset), whence) != 0) return -1;
  return ftello(f);
}

}  // namespace

bool video_supported() noexcept { return true; }

// ------------------------------------------------------------------ reader
struct VideoReader::Impl {
  std::filesystem::path path;
  ReadableFile file;
  std::unique_ptr<AVIOContext, AvioFree> io;
  std::unique_ptr<AVFormatContext, FormatInputCloser> fmt;
  std::unique_ptr<AVCodecContext, CodecCtxFree> dec;
  std::unique_ptr<AVFrame, FrameFree> frame;
  std::unique_ptr<AVPacket, PacketFree> packet;
  SwsContext* sws = nullptr;  // sws_getCachedContext needs a raw pointer
  int stream_index = -1;
  VideoInfo info;
  std::int64_t index = 0;
  bool flushing = false;
  bool done = false;
  std::optional<Error> failed;

  explicit Impl(ReadableFile f) : file(std::move(f)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { sws_freeContext(sws); }

  Error fail(const std::string& why) {
    Error e(ErrorCode::Corrupt,
            "video " + quote_path(path) + ": frame " + std::to_string(index) + ": " + why);
    failed = e;
    return e;
  }

  Result<vision::Image> convert(const AVFrame& f) {
    if (f.width <= 0 || f.height <= 0) return fail("decoded frame has no size");
    sws = sws_getCachedContext(sws, f.width, f.height, static_cast<AVPixelFormat>(f.format), f.width,
                               f.height, AV_PIX_FMT_RGB24, kSwsFlags, nullptr, nullptr, nullptr);
    if (sws == nullptr) return fail("cannot convert pixel format to RGB");
    auto img = vision::Image::create(f.width, f.height, 3);
    if (!img) return std::move(img).error();
    std::array<std::uint8_t*, 4> dst{img->data(), nullptr, nullptr, nullptr};
    std::array<int, 4> dst_stride{static_cast<int>(img->row_bytes()), 0, 0, 0};
    const int rows = sws_scale(sws, f.data, f.linesize, 0, f.height, dst.data(), dst_stride.data());
    if (rows != f.height) return fail("pixel conversion failed");
    return img;
  }
};

VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const noexcept { return impl_->info; }
const std::filesystem::path& VideoReader::path() const noexcept { return impl_->path; }
std::int64_t VideoReader::frames_read() const noexcept { return impl_->index; }

Result<VideoReader> VideoReader::open(const std::filesystem::path& path) {
  quiet_ffmpeg_logs();
  AEGIS_ASSIGN_OR_RETURN(ReadableFile file, ReadableFile::open(path, "video"));
  auto impl = std::make_unique<Impl>(std::move(file));
  impl->path = path;
  const auto corrupt = [&](const std::string& why) {
    return Error(ErrorCode::Corrupt, "video " + quote_path(path) + ": " + why);
  };
  constexpr int kIoBuffer = 1 << 16;
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(kIoBuffer));
  if (buffer == nullptr) return Error(ErrorCode::IoError, "video " + quote_path(path) + ": out of memory");
  impl->io.reset(avio_alloc_context(buffer, kIoBuffer, 0, impl->file.stream(), &avio_read_cb, nullptr,
                                    &avio_seek_cb));
  if (!impl->io) {
    av_free(buffer);
    return Error(ErrorCode::IoError, "video " + quote_path(path) + ": out of memory");
  }
  AVFormatContext* fmt = avformat_alloc_context();
  if (fmt == nullptr) return Error(ErrorCode::IoError, "video " + quote_path(path) + ": out of memory");
  fmt->pb = impl->io.get();
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  const std::string url = path.string();
  int r = avformat_open_input(&fmt, url.c_str(), nullptr, nullptr);  // frees fmt on failure
  if (r < 0) return corrupt("not a readable video (" + av_error_text(r) + ")");
  impl->fmt.reset(fmt);
  r = avformat_find_stream_info(fmt, nullptr);
  if (r < 0) return corrupt("cannot read stream information (" + av_error_text(r) + ")");
  const AVCodec* codec = nullptr;
  r = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (r < 0 || codec == nullptr) return corrupt("no decodable video stream (" + av_error_text(r) + ")");
  impl->stream_index = r;
  AVStream* st = fmt->streams[r];
  impl->dec.reset(avcodec_alloc_context3(codec));
  if (!impl->dec) return Error(ErrorCode::IoError, "video " + quote_path(path) + ": out of memory");
  r = avcodec_parameters_to_context(impl->dec.get(), st->codecpar);
  if (r < 0) return corrupt("bad codec parameters (" + av_error_text(r) + ")");
  impl->dec->thread_count = 0;
  impl->dec->thread_type = FF_THREAD_SLICE;  // no frame-threading delay: errors surface at their frame
  r = avcodec_open2(impl->dec.get(), codec, nullptr);
  if (r < 0) return corrupt("cannot open the " + std::string(codec->name) + " decoder (" + av_error_text(r) + ")");
  if (impl->dec->width <= 0 || impl->dec->height <= 0) return corrupt("video stream has no frame size");
  impl->frame.reset(av_frame_alloc());
  impl->packet.reset(av_packet_alloc());
  if (!impl->frame || !impl->packet) return Error(ErrorCode::IoError, "video " + quote_path(path) + ": out of memory");

  VideoInfo& info = impl->info;
  info.width = impl->dec->width;
  info.height = impl->dec->height;
  const AVRational fr = av_guess_frame_rate(fmt, st, nullptr);
  info.fps = (fr.num > 0 && fr.den > 0) ? av_q2d(fr) : 0.0;
  info.frame_count = st->nb_frames > 0 ? st->nb_frames : -1;
  info.codec = codec->name;
  info.container = fmt->iformat != nullptr ? fmt->iformat->name : "";
  return VideoReader(std::move(impl));
}

Result<std::optional<vision::Image>> VideoReader::next() {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (s.done) return std::optional<vision::Image>{};
  for (;;) {
    int r = avcodec_receive_frame(s.dec.get(), s.frame.get());
    if (r == 0) {
      if (s.frame->decode_error_flags != 0 || (s.frame->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
        av_frame_unref(s.frame.get());
        return s.fail("decoded with errors (damaged data)");
      }
      auto img = s.convert(*s.frame);
      av_frame_unref(s.frame.get());
      if (!img) return std::move(img).error();
      ++s.index;
      return std::optional<vision::Image>(std::move(img).value());
    }
    if (r == AVERROR_EOF) {
      s.done = true;
      if (s.info.frame_count > 0 && s.index < s.info.frame_count) {
        s.done = false;
        return s.fail("truncated: the container declares " + std::to_string(s.info.frame_count) +
                      " frames, the stream ended after " + std::to_string(s.index));
      }
      return std::optional<vision::Image>{};
    }
    if (r != AVERROR(EAGAIN)) return s.fail("decoder error (" + av_error_text(r) + ")");
    if (s.flushing) return s.fail("decoder wants input after the end of the stream");
    r = av_read_frame(s.fmt.get(), s.packet.get());
    if (r == AVERROR_EOF) {
      s.flushing = true;
      r = avcodec_send_packet(s.dec.get(), nullptr);
      if (r < 0 && r != AVERROR_EOF) return s.fail("decoder error at end of stream (" + av_error_text(r) + ")");
      continue;
    }
    if (r < 0) return s.fail("read error (" + av_error_text(r) + ")");
    if (s.packet->stream_index != s.stream_index) {
      av_packet_unref(s.packet.get());
      continue;
    }
    if ((s.packet->flags & AV_PKT_FLAG_CORRUPT) != 0) {
      av_packet_unref(s.packet.get());
      return s.fail("truncated or damaged packet");
    }
    r = avcodec_send_packet(s.dec.get(), s.packet.get());
    av_packet_unref(s.packet.get());
    if (r < 0 && r != AVERROR(EAGAIN)) return s.fail("cannot decode (" + av_error_text(r) + ")");
  }
}

Result<VideoFrames> read_video(const std::filesystem::path& path) {
  AEGIS_ASSIGN_OR_RETURN(VideoReader reader, VideoReader::open(path));
  VideoFrames out;
  out.info = reader.info();
  for (;;) {
    auto f = reader.next();
    if (!f) {
      out.error = std::move(f).error();
      break;
    }
    if (!f->has_value()) break;
    out.frames.push_back(std::move(**f));
  }
  return out;
}

// ------------------------------------------------------------------ writer
struct VideoWriter::Impl {
  std::filesystem::path path;
  std::filesystem::path temp;
  std::unique_ptr<AVFormatContext, FormatOutputFree> fmt;
  std::unique_ptr<AVCodecContext, CodecCtxFree> enc;
  std::unique_ptr<AVFrame, FrameFree> frame;
  std::unique_ptr<AVPacket, PacketFree> packet;
  std::unique_ptr<SwsContext, SwsFree> sws;
  AVStream* stream = nullptr;
  int width = 0, height = 0;  // frames given
  std::string codec;
  std::int64_t written = 0;
  bool header = false;
  bool closed = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (fmt && fmt->pb != nullptr) avio_closep(&fmt->pb);
    if (!closed && !temp.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
    }
  }

  Error io_error(const std::string& why) const {
    return Error(ErrorCode::IoError, "video " + quote_path(path) + ": " + why);
  }

  Result<void> drain() {
    for (;;) {
      int r = avcodec_receive_packet(enc.get(), packet.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return {};
      if (r < 0) return io_error("encoder error (" + av_error_text(r) + ")");
      av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
      packet->stream_index = stream->index;
      r = av_interleaved_write_frame(fmt.get(), packet.get());  // takes the packet's reference
      if (r < 0) return io_error("cannot write a packet (" + av_error_text(r) + ")");
    }
  }

  // The steps of VideoWriter::open() after the container exists.
  /// Encoder context, stream, frame, packet and RGB converter for `codec`.
  Result<void> open_encoder(const AVCodec* encoder, double fps);
  /// The temporary file and the container header.
  Result<void> start_file();
};

namespace {

/// The first encoder the container accepts: the one asked for, else libx264
/// (mp4/mkv/mov), the container's default, MPEG-4 Part 2.
Result<const AVCodec*> choose_encoder(const std::filesystem::path& path, const AVOutputFormat* ofmt,
                                      const std::string& asked) {
  std::vector<const AVCodec*> candidates;
  if (!asked.empty()) {
    const AVCodec* c = avcodec_find_encoder_by_name(asked.c_str());
    if (c == nullptr) return Error(ErrorCode::Unsupported, "video " + quote_path(path) + ": encoder '" + asked + "' is not in this FFmpeg build");
    candidates.push_back(c);
  } else {
    const std::string name = ofmt->name != nullptr ? ofmt->name : "";
    if (name.find("mp4") != std::string::npos || name.find("matroska") != std::string::npos ||
        name.find("mov") != std::string::npos) {
      if (const AVCodec* c = avcodec_find_encoder_by_name("libx264")) candidates.push_back(c);
    }
    if (ofmt->video_codec != AV_CODEC_ID_NONE)
      if (const AVCodec* c = avcodec_find_encoder(ofmt->video_codec)) candidates.push_back(c);
    if (const AVCodec* c = avcodec_find_encoder(AV_CODEC_ID_MPEG4)) candidates.push_back(c);
  }
  for (const AVCodec* c : candidates)
    if (avformat_query_codec(ofmt, c->id, FF_COMPLIANCE_NORMAL) == 1) return c;
  return Error(ErrorCode::Unsupported, "video " + quote_path(path) + ": no available encoder fits the " +
                                           std::string(ofmt->name) + " container");
}

}  // namespace

Result<void> VideoWriter::Impl::open_encoder(const AVCodec* encoder, double fps) {
  enc.reset(avcodec_alloc_context3(encoder));
  if (!enc) return io_error("out of memory");
  AVCodecContext* e = enc.get();
  e->width = (width + 1) & ~1;
  e->height = (height + 1) & ~1;
  const AVRational rate = av_d2q(fps, 100000);
  e->framerate = rate;
  e->time_base = av_inv_q(rate);
  e->gop_size = 12;
  e->pix_fmt = AV_PIX_FMT_YUV420P;
  if (encoder->pix_fmts != nullptr) {
    bool has420 = false;
    for (const AVPixelFormat* p = encoder->pix_fmts; *p != AV_PIX_FMT_NONE; ++p) has420 |= (*p == AV_PIX_FMT_YUV420P);
    if (!has420) e->pix_fmt = encoder->pix_fmts[0];
  }
  e->thread_count = 1;  // deterministic output
  if (std::strcmp(encoder->name, "libx264") == 0) {
    av_opt_set(e->priv_data, "preset", "fast", 0);
    av_opt_set(e->priv_data, "crf", "18", 0);
  } else {
    e->flags |= AV_CODEC_FLAG_QSCALE;
    e->global_quality = FF_QP2LAMBDA * 2;
  }
  if ((fmt->oformat->flags & AVFMT_GLOBALHEADER) != 0) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int r = avcodec_open2(e, encoder, nullptr);
  if (r < 0) return Error(ErrorCode::Unsupported, "video " + quote_path(path) + ": cannot open encoder " + codec + " (" + av_error_text(r) + ")");
  stream = avformat_new_stream(fmt.get(), nullptr);
  if (stream == nullptr) return io_error("out of memory");
  r = avcodec_parameters_from_context(stream->codecpar, e);
  if (r < 0) return io_error("codec parameters (" + av_error_text(r) + ")");
  stream->time_base = e->time_base;
  stream->avg_frame_rate = rate;
  frame.reset(av_frame_alloc());
  packet.reset(av_packet_alloc());
  if (!frame || !packet) return io_error("out of memory");
  frame->format = e->pix_fmt;
  frame->width = e->width;
  frame->height = e->height;
  r = av_frame_get_buffer(frame.get(), 0);
  if (r < 0) return io_error("out of memory");
  sws.reset(sws_getContext(e->width, e->height, AV_PIX_FMT_RGB24, e->width, e->height,
                           e->pix_fmt, kSwsFlags, nullptr, nullptr, nullptr));
  if (!sws) return Error(ErrorCode::Unsupported, "video " + quote_path(path) + ": no RGB conversion to the encoder's pixel format");
  return {};
}

Result<void> VideoWriter::Impl::start_file() {
  int r = avio_open(&fmt->pb, temp.string().c_str(), AVIO_FLAG_WRITE);
  if (r < 0) return io_error("cannot create " + quote_path(temp) + " (" + av_error_text(r) + ")");
  AVDictionary* mux_opts = nullptr;
  const std::string name(fmt->oformat->name);
  if (name.find("mp4") != std::string::npos || name == "mov")
    av_dict_set(&mux_opts, "movflags", "+faststart", 0);  // index first: a cut file keeps its frames
  r = avformat_write_header(fmt.get(), &mux_opts);
  av_dict_free(&mux_opts);
  if (r < 0) return io_error("cannot write the header (" + av_error_text(r) + ")");
  header = true;
  return {};
}

VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
VideoWriter::~VideoWriter() = default;
const std::string& VideoWriter::codec() const noexcept { return impl_->codec; }
std::int64_t VideoWriter::frames_written() const noexcept { return impl_->written; }

Result<VideoWriter> VideoWriter::open(const std::filesystem::path& path, int width, int height,
                                      const VideoWriterOptions& options) {
  quiet_ffmpeg_logs();
  const auto bad = [&](const std::string& why) {
    return Error(ErrorCode::InvalidArgument, "video " + quote_path(path) + ": " + why);
  };
  if (width < 1 || height < 1) return bad("frame size must be positive");
  if (width > 16384 || height > 16384) return bad("frame size above 16384");
  if (!(options.fps > 0.0) || !std::isfinite(options.fps) || options.fps > 1000.0)
    return bad("frame rate must be in (0, 1000]");
  const std::string target = path.string();
  const AVOutputFormat* ofmt = av_guess_format(nullptr, target.c_str(), nullptr);
  if (ofmt == nullptr) return bad("no container known for this file extension");

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->width = width;
  impl->height = height;
  impl->temp = unique_temp_path(path);
  AVFormatContext* oc = nullptr;
  const std::string temp = impl->temp.string();
  int r = avformat_alloc_output_context2(&oc, ofmt, nullptr, temp.c_str());
  if (r < 0 || oc == nullptr) return impl->io_error("cannot create the container (" + av_error_text(r) + ")");
  impl->fmt.reset(oc);

  // Encoder choice (see the header).
  AEGIS_ASSIGN_OR_RETURN(const AVCodec* codec, choose_encoder(path, ofmt, options.codec));
  impl->codec = codec->name;
  AEGIS_TRY(impl->open_encoder(codec, options.fps));
  AEGIS_TRY(impl->start_file());
  return VideoWriter(std::move(impl));
}

Result<void> VideoWriter::write(const vision::Image& image) {
  Impl& s = *impl_;
  if (s.closed) return Error(ErrorCode::InvalidArgument, "video " + quote_path(s.path) + ": write after close");
  if (image.width() != s.width || image.height() != s.height)
    return Error(ErrorCode::InvalidArgument,
                 "video " + quote_path(s.path) + ": frame " + std::to_string(s.written) + " is " +
                     std::to_string(image.width()) + "x" + std::to_string(image.height()) + ", the video is " +
                     std::to_string(s.width) + "x" + std::to_string(s.height));
  vision::Image rgb;
  const vision::Image* src = &image;
  if (image.channels() != 3) {
    AEGIS_ASSIGN_OR_RETURN(rgb, image.convert(3));
    src = &rgb;
  }
  const int ew = s.enc->width, eh = s.enc->height;
  vision::Image padded;
  if (ew != s.width || eh != s.height) {  // replicate the last column/row
    AEGIS_ASSIGN_OR_RETURN(padded, vision::Image::create(ew, eh, 3));
    for (int y = 0; y < eh; ++y) {
      const int sy = std::min(y, s.height - 1);
      std::memcpy(padded.at(0, y), src->at(0, sy), src->row_bytes());
      if (ew != s.width) std::memcpy(padded.at(ew - 1, y), src->at(s.width - 1, sy), 3);
    }
    src = &padded;
  }
  int r = av_frame_make_writable(s.frame.get());
  if (r < 0) return s.io_error("out of memory");
  const std::array<const std::uint8_t*, 4> in{src->data(), nullptr, nullptr, nullptr};
  const std::array<int, 4> in_stride{static_cast<int>(src->row_bytes()), 0, 0, 0};
  sws_scale(s.sws.get(), in.data(), in_stride.data(), 0, eh, s.frame->data, s.frame->linesize);
  s.frame->pts = s.written;
  r = avcodec_send_frame(s.enc.get(), s.frame.get());
  if (r < 0) return s.io_error("encoder refused frame " + std::to_string(s.written) + " (" + av_error_text(r) + ")");
  ++s.written;
  return s.drain();
}

Result<void> VideoWriter::close() {
  Impl& s = *impl_;
  if (s.closed) return {};
  int r = avcodec_send_frame(s.enc.get(), nullptr);
  if (r < 0 && r != AVERROR_EOF) return s.io_error("encoder flush (" + av_error_text(r) + ")");
  AEGIS_TRY(s.drain());
  r = av_write_trailer(s.fmt.get());
  if (r < 0) return s.io_error("cannot write the trailer (" + av_error_text(r) + ")");
  r = avio_closep(&s.fmt->pb);
  if (r < 0) return s.io_error("cannot close " + quote_path(s.temp) + " (" + av_error_text(r) + ")");
  std::error_code ec;
  std::filesystem::rename(s.temp, s.path, ec);
  if (ec) return s.io_error("cannot rename " + quote_path(s.temp) + " (" + ec.message() + ")");
  s.closed = true;
  return {};
}

}  // namespace aegisrt::media
