// `aegisrt run --model yolo --variant demo --track --input clip.mp4` through
// the built binary: a generated clip of shapes moving smoothly (the demo
// detector finds saturated red squares and green circles) must give an
// annotated video with as many frames, one JSON line per frame, and each
// shape keeps one track id across the clip.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "aegisrt/build_config.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/media/video.h"
#include "cli/cli_test_util.h"

namespace aegisrt::media {
namespace {
namespace fs = std::filesystem;

constexpr int kFrames = 24, kW = 320, kH = 240;

// Frame k: grey background, a 40x40 red square moving right 6 px/frame and a
// 50 px green circle moving left 5 px/frame on another row (they never meet).
vision::Image clip_frame(int k) {
  auto img = vision::Image::create(kW, kH, 3).value();
  const double sx = 50 + 6.0 * k, sy = 70;  // square centre
  const double cx = 270 - 5.0 * k, cy = 170;  // circle centre
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      std::uint8_t* p = img.at(x, y);
      p[0] = p[1] = p[2] = 128;
      const double px = x + 0.5, py = y + 0.5;
      if (std::abs(px - sx) <= 20 && std::abs(py - sy) <= 20) {
        p[0] = 220, p[1] = 40, p[2] = 35;
      } else if ((px - cx) * (px - cx) + (py - cy) * (py - cy) <= 25.0 * 25.0) {
        p[0] = 40, p[1] = 190, p[2] = 60;
      }
    }
  return img;
}

std::string slurp(const fs::path& p) {
  // core's read_file (not an istreambuf_iterator slurp: g++ 13 -Wnull-dereference
  // false positive); empty when unreadable, so the assertions that use it fail.
  auto text = aegisrt::read_file(p, "CLI output");
  return text.ok() ? std::move(*text) : std::string();
}

TEST(VideoCli, TrackedDemoClipGivesVideoJsonLinesAndStableIds) {
  if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime is not compiled into this build";
  if (!video_supported()) GTEST_SKIP() << "built without FFmpeg";
  const aegisrt::testing::TempDir scratch;
  const fs::path& work = scratch.path();
  const fs::path clip = work / "clip.mp4";
  {
    VideoWriterOptions o;
    o.fps = 24.0;
    auto w = VideoWriter::open(clip, kW, kH, o);
    ASSERT_TRUE(w.ok()) << w.error().message();
    for (int k = 0; k < kFrames; ++k) ASSERT_TRUE(w->write(clip_frame(k)).ok());
    ASSERT_TRUE(w->close().ok());
  }
  const fs::path out = work / "out";
  const auto run = aegisrt::testing::run_cli(
      "--models-dir '" + std::string(AEGISRT_SOURCE_DIR) + "/models' run --model yolo --variant demo --backend onnx " +
          "--threads 1 --model-data '" + AEGISRT_DEMO_DATA_DIR + "' --track --input '" + clip.string() +
          "' --output '" + out.string() + "'",
      work);
  ASSERT_EQ(run.exit_code, 0) << run.err;  // exited normally, with 0
  const std::string& err = run.err;
  EXPECT_NE(err.find("clip.mp4: " + std::to_string(kFrames) + " frames in"), std::string::npos) << err;
  EXPECT_NE(run.out.find("clip.annotated.mp4"), std::string::npos);

  // The annotated video: same frame count, size and rate.
  auto v = read_video(out / "clip.annotated.mp4");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_FALSE(v->error.has_value());
  EXPECT_EQ(v->frames.size(), static_cast<std::size_t>(kFrames));
  EXPECT_EQ(v->info.width, kW);
  EXPECT_EQ(v->info.height, kH);
  EXPECT_NEAR(v->info.fps, 24.0, 1e-9);

  // One JSON object per line, per frame; each shape one stable track id.
  std::istringstream lines(slurp(out / "clip.jsonl"));
  std::string line;
  int n = 0;
  std::map<int, std::set<int>> ids_by_class;  // class_id -> track ids seen
  int frames_with_both = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.contains("tracks")) << line;
    int seen = 0;
    for (const auto& t : j.at("tracks")) {
      const int cls = t.at("class_id").get<int>();
      ids_by_class[cls].insert(t.at("track_id").get<int>());
      // The track box follows the shape (centre within 6 px).
      const auto& b = t.at("box");
      const double bx = (b.at("x1").get<double>() + b.at("x2").get<double>()) / 2;
      const double want = cls == 0 ? 50 + 6.0 * n : 270 - 5.0 * n;
      EXPECT_NEAR(bx, want, 6.0) << "frame " << n << " class " << cls;
      ++seen;
    }
    if (seen == 2) ++frames_with_both;
    ++n;
  }
  EXPECT_EQ(n, kFrames);
  EXPECT_EQ(frames_with_both, kFrames);
  ASSERT_EQ(ids_by_class.size(), 2u);
  EXPECT_EQ(ids_by_class[0].size(), 1u) << "the square changed track id";
  EXPECT_EQ(ids_by_class[1].size(), 1u) << "the circle changed track id";
  EXPECT_NE(*ids_by_class[0].begin(), *ids_by_class[1].begin());
}

}  // namespace
}  // namespace aegisrt::media
