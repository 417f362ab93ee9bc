// EXIF orientation through the pipeline: a demo image stored sideways in a
// JPEG with Orientation 6 (rotate 90 clockwise to display) is turned upright
// by default, so the detections match the upright ground truth, and the JSON
// says so; with apply_exif_orientation off the stored order is kept and the
// JSON still reports the tag.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/image.h"
#include "demo_fixture.h"
#include "vision/jpeg_test_util.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using namespace aegisrt::testing;

TEST(PipelineExif, RotatedPhotoIsTurnedUprightAndReported) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto truth = load_ground_truth();
  const TruthImage* wide = nullptr;
  for (const auto& t : truth)
    if (t.width > t.height) wide = &t;
  ASSERT_NE(wide, nullptr);
  auto upright = vision::load_image(demo_dir() / wide->file);
  ASSERT_TRUE(upright.ok()) << upright.error();
  // Stored as a camera held sideways would: rotated 90 counter-clockwise, so
  // Orientation 6 (rotate 90 clockwise) brings it back.
  auto stored = vision::apply_exif_orientation(*upright, 8);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->width(), wide->height);
  const fs::path dir = fs::temp_directory_path() / ("aegisrt_pipeline_exif_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "sideways.jpg";
  const Bytes jpeg = with_segment(encode_jpeg(*stored), exif_app1(6));
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(jpeg.data()),
                                              static_cast<std::streamsize>(jpeg.size()));

  auto p = Pipeline::create(demo_options(), source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto r = (*p)->run_file(file);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->width, wide->width);
  EXPECT_EQ(r->height, wide->height);
  EXPECT_EQ(r->exif_orientation, 6);
  EXPECT_TRUE(r->orientation_applied);
  for (const auto& problem : match_ground_truth(r->detections(), *wide)) ADD_FAILURE() << problem;
  auto j = nlohmann::json::parse((*p)->to_json(*r));
  EXPECT_EQ(j.at("image").at("width"), wide->width);
  EXPECT_EQ(j.at("image").at("exif_orientation"), 6);
  EXPECT_EQ(j.at("image").at("orientation_applied"), true);

  PipelineOptions raw = demo_options();
  raw.apply_exif_orientation = false;
  auto q = Pipeline::create(raw, source_models_dir());
  ASSERT_TRUE(q.ok()) << q.error();
  auto s = (*q)->run_file(file);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->width, wide->height);
  EXPECT_EQ(s->height, wide->width);
  EXPECT_EQ(s->exif_orientation, 6);
  EXPECT_FALSE(s->orientation_applied);
  j = nlohmann::json::parse((*q)->to_json(*s));
  EXPECT_EQ(j.at("image").at("exif_orientation"), 6);
  EXPECT_EQ(j.at("image").at("orientation_applied"), false);
  fs::remove_all(dir);
}

TEST(PipelineExif, PngReportsNoOrientation) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto truth = load_ground_truth();
  auto p = Pipeline::create(demo_options(), source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto r = (*p)->run_file(demo_dir() / truth[0].file);
  ASSERT_TRUE(r.ok()) << r.error();
  const auto j = nlohmann::json::parse((*p)->to_json(*r));
  EXPECT_EQ(j.at("image").at("exif_orientation"), 0);
  EXPECT_EQ(j.at("image").at("orientation_applied"), false);
}

}  // namespace
}  // namespace aegisrt::pipeline
