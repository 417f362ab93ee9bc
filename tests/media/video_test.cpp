// Video in/out: synthetic frames written by our VideoWriter and, independently,
// by the ffmpeg command-line tool, read back with VideoReader and compared
// with the known frames within codec tolerance; truncated, foreign and
// non-regular files give typed errors naming the file (and the frame).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aegisrt/media/frame_source.h"
#include "aegisrt/media/video.h"
#include "common/temp_dir.h"

namespace aegisrt::media {
namespace {
namespace fs = std::filesystem;
using vision::Image;
using aegisrt::testing::TempDir;

constexpr int kW = 64, kH = 48;

// Frame k: a flat background whose colour moves with k and a 16x16 yellow
// square moving right by 3 px per frame.
Image synth(int k) {
  auto img = Image::create(kW, kH, 3).value();
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      std::uint8_t* p = img.at(x, y);
      const bool sq = x >= 4 + 3 * k && x < 20 + 3 * k && y >= 16 && y < 32;
      p[0] = sq ? 250 : static_cast<std::uint8_t>(20 + 8 * k);
      p[1] = sq ? 240 : 100;
      p[2] = sq ? 30 : static_cast<std::uint8_t>(200 - 6 * k);
    }
  return img;
}

double mean_abs_diff(const Image& a, const Image& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.byte_size(); ++i) s += std::abs(int(a.data()[i]) - int(b.data()[i]));
  return s / static_cast<double>(a.byte_size());
}

// Each decoded frame is close to its synthetic original (lossy codec: mean
// error small, the square's centre and the background at the expected colour).
[[maybe_unused]] void expect_matches_synth(const Image& got, int k) {  // unused without FFmpeg
  ASSERT_EQ(got.width(), kW);
  ASSERT_EQ(got.height(), kH);
  ASSERT_EQ(got.channels(), 3);
  const Image want = synth(k);
  EXPECT_LT(mean_abs_diff(got, want), 4.0) << "frame " << k;
  const int cx = 12 + 3 * k, cy = 24;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(got.at(cx, cy)[c], want.at(cx, cy)[c], 12) << "square centre, frame " << k << " channel " << c;
    EXPECT_NEAR(got.at(kW - 4, 4)[c], want.at(kW - 4, 4)[c], 12) << "background, frame " << k << " channel " << c;
  }
}

class VideoTest : public ::testing::Test {
 protected:
  TempDir temp_{"aegisrt_video_"};
  fs::path dir_ = temp_.path();
};

#if AEGISRT_TEST_HAVE_FFMPEG

Result<void> write_synth(const fs::path& p, int n, double fps, const std::string& codec = {}) {
  VideoWriterOptions o;
  o.fps = fps;
  o.codec = codec;
  AEGIS_ASSIGN_OR_RETURN(VideoWriter w, VideoWriter::open(p, kW, kH, o));
  for (int k = 0; k < n; ++k) AEGIS_TRY(w.write(synth(k)));
  return w.close();
}

TEST_F(VideoTest, WriterRoundTripMp4) {
  const fs::path p = dir_ / "clip.mp4";
  VideoWriterOptions o;
  o.fps = 25.0;
  auto w = VideoWriter::open(p, kW, kH, o);
  ASSERT_TRUE(w.ok()) << w.error().message();
  // Debian's FFmpeg is built with libx264; mpeg4 is the documented fallback.
  EXPECT_TRUE(w->codec() == "libx264" || w->codec() == "mpeg4") << w->codec();
  for (int k = 0; k < 12; ++k) ASSERT_TRUE(w->write(synth(k)).ok());
  EXPECT_FALSE(fs::exists(p)) << "published before close()";
  ASSERT_TRUE(w->close().ok());
  EXPECT_EQ(w->frames_written(), 12);

  auto v = read_video(p);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_FALSE(v->error.has_value()) << v->error->message();
  EXPECT_EQ(v->info.width, kW);
  EXPECT_EQ(v->info.height, kH);
  EXPECT_NEAR(v->info.fps, 25.0, 1e-9);
  EXPECT_EQ(v->info.frame_count, 12);
  ASSERT_EQ(v->frames.size(), 12u);
  for (int k = 0; k < 12; ++k) expect_matches_synth(v->frames[static_cast<std::size_t>(k)], k);
}

TEST_F(VideoTest, WriterMpeg4InMkvFrameCountUnknownButAllFramesRead) {
  const fs::path p = dir_ / "clip.mkv";
  auto r = write_synth(p, 8, 10.0, "mpeg4");
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto v = read_video(p);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_FALSE(v->error.has_value());
  EXPECT_NEAR(v->info.fps, 10.0, 1e-9);
  ASSERT_EQ(v->frames.size(), 8u);
  for (int k = 0; k < 8; ++k) expect_matches_synth(v->frames[static_cast<std::size_t>(k)], k);
}

TEST_F(VideoTest, OddSizeIsPaddedNotRefused) {
  const fs::path p = dir_ / "odd.mp4";
  auto w = VideoWriter::open(p, 33, 21);
  ASSERT_TRUE(w.ok()) << w.error().message();
  auto img = Image::create(33, 21, 3).value();
  for (std::size_t i = 0; i < img.byte_size(); i += 3) img.data()[i] = 200;
  ASSERT_TRUE(w->write(img).ok());
  ASSERT_TRUE(w->close().ok());
  auto v = read_video(p);
  ASSERT_TRUE(v.ok()) << v.error().message();
  ASSERT_EQ(v->frames.size(), 1u);
  EXPECT_EQ(v->info.width, 34);
  EXPECT_EQ(v->info.height, 22);
  EXPECT_NEAR(v->frames[0].at(33, 21)[0], 200, 12);  // replicated corner
}

TEST_F(VideoTest, WrongFrameSizeIsRefused) {
  auto w = VideoWriter::open(dir_ / "a.mp4", kW, kH);
  ASSERT_TRUE(w.ok());
  auto r = w->write(Image::create(10, 10, 3).value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("frame 0"), std::string::npos) << r.error().message();
}

TEST_F(VideoTest, AbandonedWriterPublishesNothing) {
  {
    auto w = VideoWriter::open(dir_ / "a.mp4", kW, kH);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->write(synth(0)).ok());
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

// Independent producer: the ffmpeg CLI (Debian's ffmpeg package) encodes the
// same raw RGB frames.
TEST_F(VideoTest, ReadsWhatTheFfmpegCliWrote) {
  if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) GTEST_SKIP() << "ffmpeg CLI not installed";
  const fs::path raw = dir_ / "frames.rgb";
  {
    std::ofstream f(raw, std::ios::binary);
    for (int k = 0; k < 15; ++k) {
      const Image img = synth(k);
      f.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.byte_size()));
    }
  }
  const fs::path out = dir_ / "cli.mp4";
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -f rawvideo -pix_fmt rgb24 -s 64x48 -r 30 -i '" +
                          raw.string() + "' -c:v libx264 -crf 16 -pix_fmt yuv420p '" + out.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto v = read_video(out);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_FALSE(v->error.has_value());
  EXPECT_EQ(v->info.codec, "h264");
  EXPECT_NEAR(v->info.fps, 30.0, 1e-9);
  EXPECT_EQ(v->info.frame_count, 15);
  ASSERT_EQ(v->frames.size(), 15u);
  for (int k = 0; k < 15; ++k) expect_matches_synth(v->frames[static_cast<std::size_t>(k)], k);
}

TEST_F(VideoTest, TruncatedFileNamesFileAndFrameAndKeepsEarlierFrames) {
  const fs::path p = dir_ / "cut.mp4";
  ASSERT_TRUE(write_synth(p, 20, 25.0).ok());
  const auto size = fs::file_size(p);
  fs::resize_file(p, size * 85 / 100);
  auto v = read_video(p);
  ASSERT_TRUE(v.ok()) << v.error().message();  // the index is at the front (+faststart): it opens
  ASSERT_TRUE(v->error.has_value()) << "no error for a cut file";
  EXPECT_EQ(v->error->code(), ErrorCode::Corrupt);
  const std::string& m = v->error->message();
  EXPECT_NE(m.find("cut.mp4"), std::string::npos) << m;
  EXPECT_NE(m.find("frame " + std::to_string(v->frames.size())), std::string::npos) << m;
  EXPECT_GT(v->frames.size(), 0u) << m;
  EXPECT_LT(v->frames.size(), 20u) << m;
  for (std::size_t k = 0; k < v->frames.size(); ++k) expect_matches_synth(v->frames[k], static_cast<int>(k));
}

TEST_F(VideoTest, NotAVideoIsCorruptNamingTheFile) {
  const fs::path p = dir_ / "notes.mp4";
  std::ofstream(p) << "this is not a video, just some text\n";
  auto r = VideoReader::open(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(r.error().message().find("notes.mp4"), std::string::npos) << r.error().message();
}

TEST_F(VideoTest, FifoIsRefusedWithoutBlocking) {
  const fs::path p = dir_ / "pipe.mp4";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto r = VideoReader::open(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("pipe.mp4"), std::string::npos);
}

TEST_F(VideoTest, FrameSourceOverVideo) {
  const fs::path p = dir_ / "clip.mp4";
  ASSERT_TRUE(write_synth(p, 5, 12.0).ok());
  auto src = open_frame_source(p);
  ASSERT_TRUE(src.ok()) << src.error().message();
  EXPECT_EQ((*src)->kind(), FrameSourceKind::Video);
  EXPECT_NEAR((*src)->fps(), 12.0, 1e-9);
  EXPECT_EQ((*src)->frame_count(), 5);
  for (int k = 0; k < 5; ++k) {
    auto f = (*src)->next();
    ASSERT_TRUE(f.ok() && f->has_value());
    EXPECT_EQ((*f)->index, k);
    EXPECT_EQ((*f)->name, "clip.mp4#" + std::to_string(k));
    expect_matches_synth((*f)->image, k);
  }
  auto end = (*src)->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

#else

TEST_F(VideoTest, WithoutFfmpegVideoIsUnsupported) {
  EXPECT_FALSE(video_supported());
  auto r = VideoWriter::open(dir_ / "a.mp4", 8, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
}

#endif

TEST_F(VideoTest, FrameSourceOverFolderIsSortedByName) {
  for (int k : {2, 0, 1}) ASSERT_TRUE(vision::save_png(synth(k), dir_ / ("f" + std::to_string(k) + ".png")).ok());
  std::ofstream(dir_ / "readme.txt") << "ignored";
  auto src = open_frame_source(dir_);
  ASSERT_TRUE(src.ok()) << src.error().message();
  EXPECT_EQ((*src)->kind(), FrameSourceKind::Directory);
  EXPECT_EQ((*src)->frame_count(), 3);
  for (int k = 0; k < 3; ++k) {
    auto f = (*src)->next();
    ASSERT_TRUE(f.ok() && f->has_value());
    EXPECT_EQ((*f)->name, "f" + std::to_string(k) + ".png");
    EXPECT_EQ(mean_abs_diff((*f)->image, synth(k)), 0.0);  // PNG is lossless
  }
  EXPECT_FALSE((*src)->next()->has_value());
}

TEST_F(VideoTest, FrameSourceErrors) {
  auto missing = open_frame_source(dir_ / "nope.mp4");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  auto empty = open_frame_source(dir_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(vision::save_png(synth(0), dir_ / "one.png").ok());
  auto single = open_frame_source(dir_ / "one.png");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)->kind(), FrameSourceKind::Image);
  EXPECT_EQ((*single)->frame_count(), 1);
}

}  // namespace
}  // namespace aegisrt::media
