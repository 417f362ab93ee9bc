// RTMPose top-down through the pipeline against the reference (rtmlib's
// published RTMPose pre/post-processing on Ultralytics' person boxes):
// committed tiny models, image and reference JSON in tests/data/golden, made
// by python/gen_golden_rtmpose.py. The pose network there has RTMPose's I/O,
// not its body (see the generator); what is compared is the pipeline: the
// detector part, the affine crop, normalisation, SimCC decode and the map
// back to the image.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "aegisrt/vision/top_down.h"
#include "golden_fixture.h"

namespace aegisrt::testing {
namespace {

constexpr const char* kReference = "rtmpose_reference.json";
constexpr float kKeypointTolerancePx = 1.0f;  // issue 15: keypoints within 1 px
constexpr double kBoxIou = 0.99;

std::unique_ptr<pipeline::Pipeline> make_rtmpose_pipeline() {
  pipeline::PipelineOptions o;
  o.model = "rtmpose";
  o.backend = "onnx";
  o.precision = "fp32";
  o.onnx = golden_dir() / "rtmpose-golden.onnx";
  o.part_onnx["detector"] = golden_dir() / "yolov8-person-golden.onnx";
  o.backend_options["intra_op_threads"] = "1";
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? std::move(*p) : nullptr;
}

vision::Box box_of(const nlohmann::json& j) {
  return {j[0].get<float>(), j[1].get<float>(), j[2].get<float>(), j[3].get<float>()};
}

TEST(GoldenRtmpose, TopDownKeypointsMatchTheReference) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the pose model and its detector run on ONNX Runtime
  const auto ref = load_golden_reference(kReference);
  auto p = make_rtmpose_pipeline();
  ASSERT_NE(p, nullptr);
  const auto& im = ref.at("images").at(0);
  auto r = p->run_file(golden_dir() / im.at("file").get<std::string>());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->width, im.at("width").get<int>());
  ASSERT_EQ(r->height, im.at("height").get<int>());
  const auto* pose = std::get_if<pipeline::PoseResult>(&r->output);
  ASSERT_NE(pose, nullptr);
  const auto& persons = im.at("persons");
  ASSERT_GT(persons.size(), 5U) << "the golden image must have several persons";
  ASSERT_EQ(pose->detections.size(), persons.size());
  ASSERT_EQ(pose->keypoints.size(), persons.size());

  float worst = 0.0f;
  int persons_with_coarse_bins = 0;
  std::vector<bool> used(pose->detections.size(), false);
  for (const auto& person : persons) {
    const vision::Box want = box_of(person.at("box"));
    // The detection of this person: the unused box nearest to it (largest
    // corner distance). Ultralytics clips boxes to the image, so some are
    // degenerate (zero width at the border), where IoU says nothing.
    std::size_t best = 0;
    float best_dist = 1e30f;
    for (std::size_t i = 0; i < pose->detections.size(); ++i) {
      const vision::Box& b = pose->detections[i].box;
      const float dist = std::max({std::abs(b.x1 - want.x1), std::abs(b.y1 - want.y1), std::abs(b.x2 - want.x2),
                                   std::abs(b.y2 - want.y2)});
      if (!used[i] && dist < best_dist) {
        best_dist = dist;
        best = i;
      }
    }
    if (want.area() > 0.0f) {
      EXPECT_GE(vision::iou(want, pose->detections[best].box), kBoxIou)
          << "no detection matches the reference person box";
    } else {
      EXPECT_LE(best_dist, 0.5f) << "no detection matches the degenerate reference box";
    }
    used[best] = true;
    EXPECT_EQ(pose->detections[best].class_id, 0);  // person
    // One SimCC bin (half a crop pixel) in image pixels: where it is over the
    // tolerance, a decoder off by one bin fails this test.
    const auto region = vision::top_down_region(want, 192, 256);
    if (0.5 * region.scale_w / 192.0 > kKeypointTolerancePx) ++persons_with_coarse_bins;
    const auto& kps = pose->keypoints[best];
    const auto& want_kps = person.at("keypoints");
    ASSERT_EQ(kps.size(), want_kps.size());
    for (std::size_t k = 0; k < kps.size(); ++k) {
      const float wx = want_kps[k][0].get<float>();
      const float wy = want_kps[k][1].get<float>();
      const float ws = want_kps[k][2].get<float>();  // MMPose's score (min of the axis maxima)
      const float err = std::max(std::abs(kps[k].x - wx), std::abs(kps[k].y - wy));
      worst = std::max(worst, err);
      EXPECT_LE(err, kKeypointTolerancePx) << "keypoint " << k << " of the person at box [" << want.x1 << ", "
                                           << want.y1 << ", " << want.x2 << ", " << want.y2 << "]: got ("
                                           << kps[k].x << ", " << kps[k].y << "), reference (" << wx << ", " << wy
                                           << ")";
      EXPECT_NEAR(kps[k].score, ws, 1e-3) << "keypoint " << k;  // logits; box differences of ~1e-4 px move them slightly
    }
  }
  EXPECT_GT(persons_with_coarse_bins, 3) << "too few large persons to catch an off-by-one bin";
  std::cout << "[ golden ] " << persons.size() << " persons, worst keypoint error " << worst << " px, "
            << persons_with_coarse_bins << " persons with a SimCC bin over " << kKeypointTolerancePx << " px\n";

  // The result draws and serialises.
  auto image = vision::load_image(golden_dir() / im.at("file").get<std::string>());
  ASSERT_TRUE(image.ok());
  auto drawn = p->annotate(*image, *r);
  ASSERT_TRUE(drawn.ok()) << drawn.error();
  EXPECT_EQ(drawn->width(), image->width());
  const auto j = nlohmann::json::parse(p->to_json(*r));
  ASSERT_EQ(j.at("detections").size(), persons.size());
  EXPECT_EQ(j.at("detections")[0].at("keypoints").size(), 17U);
  EXPECT_EQ(j.at("detections")[0].at("class_name"), "person");
  EXPECT_DOUBLE_EQ(j.at("keypoint_threshold").get<double>(), 0.30000001192092896);
}

TEST(GoldenRtmpose, UnknownPartIsRefusedNamingTheParts) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the pose model and its detector run on ONNX Runtime
  pipeline::PipelineOptions o;
  o.model = "rtmpose";
  o.backend = "onnx";
  o.onnx = golden_dir() / "rtmpose-golden.onnx";
  o.part_onnx["detectr"] = golden_dir() / "yolov8-person-golden.onnx";
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(p.error().message().find("has no part 'detectr'"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("its parts: detector"), std::string::npos) << p.error().message();
}

TEST(GoldenRtmpose, MissingDetectorFileNamesThePart) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the pose model and its detector run on ONNX Runtime
  pipeline::PipelineOptions o;
  o.model = "rtmpose";
  o.backend = "onnx";
  o.onnx = golden_dir() / "rtmpose-golden.onnx";  // the detector: yolov8n.onnx, not shipped
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::NotFound);
  EXPECT_NE(p.error().to_string().find("rtmpose part 'detector' (yolo variant v8n)"), std::string::npos)
      << p.error().to_string();
  EXPECT_NE(p.error().message().find("yolov8n.onnx"), std::string::npos) << p.error().message();
}

// The crop is cv2.warpAffine's: hand-computed values of the fixed-point
// bilinear warp on a tiny image (source coordinate 0.5 + 1/32 steps).
TEST(GoldenRtmpose, WarpIsOpenCvFixedPointBilinear) {
  std::vector<std::uint8_t> px = {0, 100, 200, 50};  // 2x2 gray
  auto img = vision::Image::from_pixels(2, 2, 1, px);
  ASSERT_TRUE(img.ok());
  // Identity shifted by half a pixel: dst(0,0) samples src(0.5, 0.5) = mean of the four.
  vision::WarpMatrix m;
  m.m[2] = -0.5;
  m.m[5] = -0.5;
  auto out = vision::warp_affine_linear(*img, m, 2, 2);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->data()[0], 88);  // (0 + 100 + 200 + 50) / 4 = 87.5 -> 88 (rounded half up in 15-bit fixed point)
  // dst(1,0) samples (1.5, 0.5): the right column and the constant 0 border.
  EXPECT_EQ(out->data()[1], 38);  // (100 + 50) / 4 = 37.5 -> 38
}

}  // namespace
}  // namespace aegisrt::testing
