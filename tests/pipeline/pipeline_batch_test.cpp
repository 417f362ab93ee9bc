// Pipeline::run_batch (src/pipeline/batch.cpp): N images in one execute give
// what run() gives per image. The batched models are dynamic-batch copies of
// the committed golden YOLO exports (tests/data/gen_dynamic_batch.py, made at
// build time into the test-data folder); the reference is run() on the
// committed fixed-batch file itself, an independent path (one execute per
// image, no slicing).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/tools/bench.h"
#include "aegisrt/vision/preprocess.h"
#include "golden_fixture.h"

namespace aegisrt {
namespace {

using pipeline::FrameResult;
using pipeline::Pipeline;
namespace fs = std::filesystem;

fs::path batch_models_dir() { return AEGISRT_BATCH_MODELS_DIR; }

std::unique_ptr<Pipeline> make_yolo(const std::string& variant, const fs::path& onnx) {
  pipeline::PipelineOptions o;
  o.model = "yolo";
  o.variant = variant;
  o.backend = "onnx";
  o.onnx = onnx;
  o.precision = "fp32";
  o.backend_options["intra_op_threads"] = "1";
  auto p = Pipeline::create(o, testing::source_models_dir());
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? std::move(*p) : nullptr;
}

/// The three golden pictures plus a smaller, gray copy of the first: four
/// images of different sizes (and one with 1 channel) in one batch.
std::vector<vision::Image> batch_images() {
  std::vector<vision::Image> out;
  for (const char* f : {"golden_people.png", "golden_portrait.png", "golden_street.png"}) {
    auto im = vision::load_image(testing::golden_dir() / f, 3);
    EXPECT_TRUE(im.ok()) << im.error();
    if (im.ok()) out.push_back(std::move(*im));
  }
  if (!out.empty()) {
    auto small = vision::resize_bilinear(out.front(), 333, 250);
    EXPECT_TRUE(small.ok());
    if (small.ok()) {
      auto gray = small->convert(1);
      EXPECT_TRUE(gray.ok());
      if (gray.ok()) out.push_back(std::move(*gray));
    }
  }
  return out;
}

void expect_same_detections(const FrameResult& want, const FrameResult& got) {
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.height, want.height);
  EXPECT_EQ(got.transform.scale_x, want.transform.scale_x);
  EXPECT_EQ(got.transform.pad_x, want.transform.pad_x);
  EXPECT_EQ(got.transform.pad_y, want.transform.pad_y);
  const auto& a = want.detections();
  const auto& b = got.detections();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("detection " + std::to_string(i));
    EXPECT_EQ(a[i].class_id, b[i].class_id);
    EXPECT_NEAR(a[i].score, b[i].score, 1e-4);
    EXPECT_GE(vision::iou(a[i].box, b[i].box), 0.99f);
  }
}

// The golden models detect something on every picture (the reference JSON
// says so), so an empty == empty comparison cannot pass by accident.
void check_batch_equals_run(const std::string& variant, const std::string& onnx) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto single = make_yolo(variant, testing::golden_dir() / onnx);
  auto batched = make_yolo(variant, batch_models_dir() / fs::path(onnx).stem().concat("-dynbatch.onnx"));
  ASSERT_NE(single, nullptr);
  ASSERT_NE(batched, nullptr);
  EXPECT_EQ(single->max_batch(), 1);
  EXPECT_EQ(batched->max_batch(), 0);
  const auto images = batch_images();
  ASSERT_EQ(images.size(), 4u);
  const std::vector<std::string> names{"a", "b", "c", "d"};
  auto got = batched->run_batch(images, names);
  ASSERT_TRUE(got.ok()) << got.error();
  ASSERT_EQ(got->size(), images.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    SCOPED_TRACE("image " + std::to_string(i));
    auto want = single->run(images[i], names[i]);
    ASSERT_TRUE(want.ok()) << want.error();
    EXPECT_EQ((*got)[i].source, names[i]);
    EXPECT_EQ((*got)[i].frame_index, static_cast<std::int64_t>(i));
    expect_same_detections(*want, (*got)[i]);
    total += want->detections().size();
    if (const auto* w = std::get_if<pipeline::PoseResult>(&want->output)) {
      const auto* g = std::get_if<pipeline::PoseResult>(&(*got)[i].output);
      ASSERT_NE(g, nullptr);
      ASSERT_EQ(w->keypoints.size(), g->keypoints.size());
      for (std::size_t d = 0; d < w->keypoints.size(); ++d) {
        ASSERT_EQ(w->keypoints[d].size(), g->keypoints[d].size());
        for (std::size_t k = 0; k < w->keypoints[d].size(); ++k) {
          EXPECT_NEAR(w->keypoints[d][k].x, g->keypoints[d][k].x, 0.05);
          EXPECT_NEAR(w->keypoints[d][k].y, g->keypoints[d][k].y, 0.05);
        }
      }
    }
    if (const auto* w = std::get_if<pipeline::InstanceSegmentationResult>(&want->output)) {
      const auto* g = std::get_if<pipeline::InstanceSegmentationResult>(&(*got)[i].output);
      ASSERT_NE(g, nullptr);
      ASSERT_EQ(w->masks.size(), g->masks.size());
      for (std::size_t d = 0; d < w->masks.size(); ++d) {
        const double aw = static_cast<double>(w->masks[d].area());
        const double ag = static_cast<double>(g->masks[d].area());
        EXPECT_NEAR(ag, aw, 0.01 * aw + 1.0) << "mask " << d;
      }
    }
  }
  EXPECT_GT(total, 0u);
}

TEST(PipelineBatch, YoloSegmentBatchEqualsPerImageRun) { check_batch_equals_run("v8n-seg", "yolov8-seg-golden.onnx"); }

TEST(PipelineBatch, YoloPoseBatchEqualsPerImageRun) { check_batch_equals_run("v8n-pose", "yolov8-pose-golden.onnx"); }

TEST(PipelineBatch, RefusesEmptyBatchAndMismatchedSources) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_yolo("v8n-seg", batch_models_dir() / "yolov8-seg-golden-dynbatch.onnx");
  ASSERT_NE(p, nullptr);
  auto empty = p->run_batch({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::InvalidArgument);
  const auto images = batch_images();
  ASSERT_EQ(images.size(), 4u);
  const std::vector<std::string> two{"a", "b"};
  auto mismatched = p->run_batch(images, two);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code(), ErrorCode::InvalidArgument);
}

TEST(PipelineBatch, FixedBatchOfOneRefusesMoreThanOneImage) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_yolo("v8n-pose", testing::golden_dir() / "yolov8-pose-golden.onnx");
  ASSERT_NE(p, nullptr);
  const auto images = batch_images();
  ASSERT_EQ(images.size(), 4u);
  auto r = p->run_batch(std::span<const vision::Image>(images).first(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("fixed batch of 1"), std::string::npos) << r.error();
  // A batch of one is that model's batch: same as run().
  auto one = p->run_batch(std::span<const vision::Image>(images).first(1));
  ASSERT_TRUE(one.ok()) << one.error();
  ASSERT_EQ(one->size(), 1u);
  auto want = p->run(images.front());
  ASSERT_TRUE(want.ok()) << want.error();
  EXPECT_FALSE(want->detections().empty());
  expect_same_detections(*want, one->front());
}

TEST(PipelineBatch, DemoDetectorHasAFixedBatchOfOne) {
  AEGISRT_SKIP_WITHOUT_ORT();
  // The demo graph builds its batch of 1 into the graph (Concat on axis 0),
  // so it stays a batch-1 model: max_batch() says so, run_batch of one image
  // equals run().
  pipeline::PipelineOptions o;
  o.model = "yolo";
  o.variant = "demo";
  o.backend = "onnx";
  o.model_data_dirs = {testing::demo_dir()};
  o.backend_options["intra_op_threads"] = "1";
  auto p = Pipeline::create(o, testing::source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ((*p)->max_batch(), 1);
  auto image = vision::load_image(testing::demo_dir() / "demo_shapes.png", 3);
  ASSERT_TRUE(image.ok()) << image.error();
  auto want = (*p)->run(*image);
  ASSERT_TRUE(want.ok()) << want.error();
  EXPECT_FALSE(want->detections().empty());
  auto got = (*p)->run_batch(std::span<const vision::Image>(&*image, 1));
  ASSERT_TRUE(got.ok()) << got.error();
  expect_same_detections(*want, got->front());
  const std::vector<vision::Image> two{*image, *image};
  EXPECT_FALSE((*p)->run_batch(two).ok());
}

// aegisrt bench --batch: whole batches through run_batch, images counted
// one by one, detections the same as per-image runs.
TEST(PipelineBatch, BenchRunsWholeBatches) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_yolo("v8n-pose", batch_models_dir() / "yolov8-pose-golden-dynbatch.onnx");
  ASSERT_NE(p, nullptr);
  const std::vector<fs::path> images{testing::golden_dir() / "golden_people.png",
                                     testing::golden_dir() / "golden_portrait.png",
                                     testing::golden_dir() / "golden_street.png"};
  std::size_t per_cycle = 0;
  for (const auto& f : images) {
    auto r = p->run_file(f);
    ASSERT_TRUE(r.ok()) << r.error();
    per_cycle += r->detections().size();
  }
  ASSERT_GT(per_cycle, 0u);
  // 5 timed images in batches of 2 -> 3 batches = 6 images; the warmup batch
  // takes images 0, 1, so the timed ones are 2, 0, 1, 2, 0, 1: each twice.
  auto rep = tools::run_bench(*p, images, {.iterations = 5, .warmup = 1, .batch = 2});
  ASSERT_TRUE(rep.ok()) << rep.error();
  EXPECT_EQ(rep->batch, 2);
  EXPECT_EQ(rep->iterations, 6);
  EXPECT_EQ(rep->total.count, 6u);
  EXPECT_DOUBLE_EQ(rep->detections_per_image, static_cast<double>(per_cycle) / 3.0);
  EXPECT_EQ(nlohmann::json::parse(tools::bench_to_json(*rep, p->info())).at("batch"), 2);
  EXPECT_EQ(tools::run_bench(*p, images, {.iterations = 2, .streams = 2, .batch = 2}).error().code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(tools::run_bench(*p, images, {.iterations = 2, .batch = 0}).error().code(), ErrorCode::InvalidArgument);
  // A fixed batch of 1 cannot take batches of 2: the error names the input.
  auto fixed = make_yolo("v8n-pose", testing::golden_dir() / "yolov8-pose-golden.onnx");
  ASSERT_NE(fixed, nullptr);
  auto refused = tools::run_bench(*fixed, images, {.iterations = 2, .warmup = 0, .batch = 2});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt
