// Pipeline pieces that need no model: manifest -> pre-processing config,
// input listing, latency statistics (checked against numpy's percentile) and
// the latency histogram image.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/tools/bench.h"
#include "aegisrt/tools/latency.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::pipeline {
namespace {

using tools::draw_latency_histogram;
using tools::percentile;
using tools::summarize_latencies;

namespace fs = std::filesystem;

models::InputSpec yolo_like_input() {
  models::InputSpec in;
  in.type = models::InputType::Image;
  in.color_format = models::ColorFormat::BGR;
  models::Preprocessing pre;
  pre.resize = models::ResizeMethod::Letterbox;
  pre.size = {.height = 320, .width = 416};
  pre.pad_value = 114;
  pre.normalize.scale = 1.0 / 255.0;
  pre.normalize.mean = {0.485, 0.456, 0.406};
  pre.normalize.stddev = {0.229, 0.224, 0.225};
  pre.layout = models::Layout::NHWC;
  in.preprocessing = pre;
  return in;
}

TEST(MakePreprocessConfig, MapsEveryManifestField) {
  auto cfg = make_preprocess_config(yolo_like_input(), "m");
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->width, 416);
  EXPECT_EQ(cfg->height, 320);
  EXPECT_EQ(cfg->resize, vision::ResizeMode::Letterbox);
  EXPECT_EQ(cfg->pad_value, 114);
  EXPECT_EQ(cfg->color_order, vision::ColorOrder::BGR);
  EXPECT_FLOAT_EQ(cfg->scale, 1.0f / 255.0f);
  EXPECT_FLOAT_EQ(cfg->mean[1], 0.456f);
  EXPECT_FLOAT_EQ(cfg->std[2], 0.225f);
  EXPECT_EQ(cfg->layout, vision::Layout::NHWC);
  EXPECT_EQ(cfg->tensor_shape(1), (Shape{1, 320, 416, 3}));
}

TEST(MakePreprocessConfig, MissingMeanAndStdMeanIdentity) {
  auto in = yolo_like_input();
  in.preprocessing->normalize.mean.clear();
  in.preprocessing->normalize.stddev = {0.5};
  in.preprocessing->resize = models::ResizeMethod::Resize;
  auto cfg = make_preprocess_config(in, "m");
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->mean, (std::array<float, 3>{0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(cfg->std, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(cfg->resize, vision::ResizeMode::Stretch);
}

TEST(MakePreprocessConfig, RefusesWhatTheCpuPathCannotDo) {
  auto gray = yolo_like_input();
  gray.color_format = models::ColorFormat::Gray;
  auto r = make_preprocess_config(gray, "graymodel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(r.error().message().find("graymodel"), std::string::npos);
  EXPECT_NE(r.error().message().find("gray"), std::string::npos);

  auto top_left = yolo_like_input();
  top_left.preprocessing->pad_position = models::PadPosition::TopLeft;
  r = make_preprocess_config(top_left, "m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(r.error().message().find("pad_position"), std::string::npos);

  auto two_means = yolo_like_input();
  two_means.preprocessing->normalize.mean = {0.1, 0.2};
  r = make_preprocess_config(two_means, "m");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("mean"), std::string::npos);

  auto detections = yolo_like_input();
  detections.type = models::InputType::Detections;
  r = make_preprocess_config(detections, "bytetrack");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);

  auto no_pre = yolo_like_input();
  no_pre.preprocessing.reset();
  EXPECT_FALSE(make_preprocess_config(no_pre, "m").ok());

  auto bad_pad = yolo_like_input();
  bad_pad.preprocessing->pad_value = 300;
  r = make_preprocess_config(bad_pad, "m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
}

class ListImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aegisrt_list_images_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void touch(const std::string& name) { std::ofstream(dir_ / name) << "x"; }
  fs::path dir_;
};

TEST_F(ListImagesTest, FolderGivesSortedImagesOnly) {
  touch("b.PNG");
  touch("a.jpg");
  touch("c.jpeg");
  touch("notes.txt");
  touch("d.bmp");
  fs::create_directories(dir_ / "sub.png");  // a folder named like an image is skipped
  auto r = list_images(dir_);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].filename(), "a.jpg");
  EXPECT_EQ((*r)[1].filename(), "b.PNG");
  EXPECT_EQ((*r)[2].filename(), "c.jpeg");
  EXPECT_EQ((*r)[3].filename(), "d.bmp");
}

TEST_F(ListImagesTest, FileIsTakenAsIsMissingAndEmptyAreErrors) {
  touch("x.txt");
  auto file = list_images(dir_ / "x.txt");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->size(), 1u);  // a file is passed on; decoding will say if it is no image

  auto missing = list_images(dir_ / "nope.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find("nope.png"), std::string::npos);

  auto empty = list_images(dir_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::InvalidArgument);
}

// Expected values from numpy.percentile (linear interpolation).
TEST(LatencyStats, PercentilesMatchNumpy) {
  const std::vector<double> one_to_four{4.0, 1.0, 3.0, 2.0};
  auto s = summarize_latencies(one_to_four);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.min_ms, 1.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 4.0);
  EXPECT_DOUBLE_EQ(s.mean_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.p50_ms, 2.5);   // np.percentile([1,2,3,4], 50)
  EXPECT_NEAR(s.p90_ms, 3.7, 1e-12);  // np.percentile([1,2,3,4], 90)
  EXPECT_NEAR(s.p99_ms, 3.97, 1e-12);

  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  s = summarize_latencies(hundred);
  EXPECT_NEAR(s.p50_ms, 50.5, 1e-12);
  EXPECT_NEAR(s.p90_ms, 90.1, 1e-12);
  EXPECT_NEAR(s.p99_ms, 99.01, 1e-12);

  EXPECT_EQ(summarize_latencies({}).count, 0u);
  const std::vector<double> single{7.0};
  EXPECT_DOUBLE_EQ(percentile(single, 99.0), 7.0);
  EXPECT_DOUBLE_EQ(percentile({}, 50.0), 0.0);
}

TEST(LatencyHistogram, DrawsBarsProportionalToCounts) {
  // 30 samples at 1 ms, 10 at 3 ms: with 2 bins the left bar is 3x the right.
  std::vector<double> samples(30, 1.0);
  samples.insert(samples.end(), 10, 3.0);
  auto img = draw_latency_histogram(samples, "test", 400, 300, 2);
  ASSERT_TRUE(img.ok()) << img.error();
  EXPECT_EQ(img->width(), 400);
  EXPECT_EQ(img->height(), 300);
  EXPECT_EQ(img->channels(), 3);
  // Measure each bar's height at the middle of its bin by counting bar pixels.
  const vision::Rgb bar{70, 130, 180};
  const auto column_height = [&](int x) {
    int n = 0;
    for (int y = 0; y < img->height(); ++y) {
      const std::uint8_t* p = img->at(x, y);
      if (p[0] == bar.r && p[1] == bar.g && p[2] == bar.b) ++n;
    }
    return n;
  };
  const int left = 60, right = 400 - 20;  // plot area used by the drawer
  // Columns away from the percentile labels drawn near the top left.
  const int h0 = column_height(left + (right - left) / 2 - 15);
  const int h1 = column_height(left + 3 * (right - left) / 4 + 10);
  ASSERT_GT(h0, 0);
  ASSERT_GT(h1, 0);
  EXPECT_NEAR(static_cast<double>(h0) / h1, 3.0, 0.1);

  // It round-trips through PNG.
  auto png = vision::encode_png(*img);
  ASSERT_TRUE(png.ok());
  auto back = vision::decode_image(*png, "hist", 3);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->width(), 400);
}

TEST(LatencyHistogram, RejectsNoSamplesAndTinySizes) {
  EXPECT_EQ(draw_latency_histogram({}, "t").error().code(), ErrorCode::InvalidArgument);
  const std::vector<double> s{1.0};
  EXPECT_EQ(draw_latency_histogram(s, "t", 100, 100).error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(draw_latency_histogram(s, "all equal").ok());
}

}  // namespace
}  // namespace aegisrt::pipeline
