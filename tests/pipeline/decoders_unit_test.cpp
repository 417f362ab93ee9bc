// The YOLO segment / pose decoders on hand-made head tensors with
// hand-computed expectations (no model): mask sampling, cropping to the box,
// keypoint mapping through the letterbox, NaN boxes and bad shapes; the depth
// decoder's resampling (PyTorch bicubic upsampling, Pillow bicubic input resize).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline::detail {
namespace {

Tensor make(Shape shape, const std::string& name) {
  auto t = Tensor::allocate_host(std::move(shape), DType::Float32, name);
  EXPECT_TRUE(t.ok());
  for (float& v : t->span<float>()) v = 0.0f;
  return std::move(*t);
}

/// [1, C, N] head: column n gets `values` (C of them).
void set_column(Tensor& head, std::int64_t n, const std::vector<float>& values) {
  const std::int64_t N = head.shape()[2];
  auto s = head.span<float>();
  for (std::size_t c = 0; c < values.size(); ++c) s[c * static_cast<std::size_t>(N) + static_cast<std::size_t>(n)] = values[c];
}

models::ResolvedVariant variant(models::OutputLayout layout) {
  models::ResolvedVariant rv;
  rv.model = "yolo";
  rv.variant = "t";
  rv.output.layout = layout;
  rv.output.type = models::output_type_of(layout);
  rv.postprocessing.confidence_threshold = 0.25;
  rv.postprocessing.nms_iou_threshold = 0.45;
  return rv;
}

vision::LetterboxTransform identity8() {
  vision::LetterboxTransform t;
  t.src_width = t.src_height = t.dst_width = t.dst_height = 8;
  t.resized_width = t.resized_height = 8;
  return t;
}

TEST(YoloSegDecoder, MaskIsBilinearPrototypeSignCroppedToTheBox) {
  const auto rv = variant(models::OutputLayout::YoloV8Seg);
  PipelineOptions opts;
  auto dec = make_decoder({rv, opts});
  ASSERT_TRUE(dec.ok()) << dec.error();
  // 8x8 input, protos [1, 1, 2, 2] = [[1, -1], [-1, 1]], one class.
  Tensor head = make({1, 4 + 1 + 1, 3}, "output0");
  Tensor protos = make({1, 1, 2, 2}, "output1");
  auto p = protos.span<float>();
  p[0] = 1.0f, p[1] = -1.0f, p[2] = -1.0f, p[3] = 1.0f;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  set_column(head, 0, {4, 4, 8, 8, 0.9f, 1.0f});    // whole image
  set_column(head, 1, {nan, 4, 8, 8, 0.95f, 1.0f});  // NaN box: skipped, no crash
  set_column(head, 2, {4, 4, 4, 4, 0.10f, 1.0f});    // below threshold
  ExecutionResult out;
  out.outputs.push_back(std::move(head));
  out.outputs.push_back(std::move(protos));
  FrameResult f;
  f.transform = identity8();
  ASSERT_TRUE((*dec)->decode(out, f).ok());
  const auto& seg = std::get<InstanceSegmentationResult>(f.output);
  ASSERT_EQ(seg.detections.size(), 1u);
  ASSERT_EQ(seg.masks.size(), 1u);
  // Upsampling 2 -> 8 with half-pixel centres: the weight of cell 1 is < 0.5
  // for pixels 0..3, so the logit (1-2wx)(1-2wy) is > 0 where x<4 == y<4.
  const InstanceMask& m = seg.masks[0];
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) EXPECT_EQ(m.at(x, y), (x < 4) == (y < 4)) << x << "," << y;
  }
  EXPECT_EQ(m.area(), 32u);

  // A box [2.5, 2, 6, 5.5): pixels x 3..5, y 2..5 (x >= x1 and x < x2).
  Tensor head2 = make({1, 6, 1}, "output0");
  set_column(head2, 0, {4.25f, 3.75f, 3.5f, 3.5f, 0.9f, 1.0f});
  out.outputs[0] = std::move(head2);
  ASSERT_TRUE((*dec)->decode(out, f).ok());
  const auto& seg2 = std::get<InstanceSegmentationResult>(f.output);
  ASSERT_EQ(seg2.masks.size(), 1u);
  const InstanceMask& m2 = seg2.masks[0];
  EXPECT_EQ(m2.x0, 3);
  EXPECT_EQ(m2.y0, 2);
  EXPECT_EQ(m2.width, 3);
  EXPECT_EQ(m2.height, 4);
  std::size_t want = 0;
  for (int y = 2; y < 6; ++y) {
    for (int x = 3; x < 6; ++x) {
      EXPECT_EQ(m2.at(x, y), (x < 4) == (y < 4)) << x << "," << y;
      want += (x < 4) == (y < 4) ? 1 : 0;
    }
  }
  EXPECT_EQ(m2.area(), want);
  EXPECT_FALSE(m2.at(2, 2));  // outside the box
}

TEST(YoloSegDecoder, MissingPrototypesAreAnError) {
  const auto rv = variant(models::OutputLayout::YoloV8Seg);
  PipelineOptions opts;
  auto dec = make_decoder({rv, opts});
  ASSERT_TRUE(dec.ok());
  ExecutionResult out;
  out.outputs.push_back(make({1, 37, 4}, "output0"));
  FrameResult f;
  f.transform = identity8();
  auto r = (*dec)->decode(out, f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("mask prototypes"), std::string::npos) << r.error();
}

TEST(YoloPoseDecoder, KeypointsGoThroughTheLetterboxInverseAndAreClipped) {
  const auto rv = variant(models::OutputLayout::YoloV8Pose);
  PipelineOptions opts;
  auto dec = make_decoder({rv, opts});
  ASSERT_TRUE(dec.ok()) << dec.error();
  // 17 keypoints, 1 class: 4 + 1 + 51 = 56 channels.
  Tensor head = make({1, 56, 2}, "output0");
  std::vector<float> col = {20, 30, 10, 10, 0.8f};
  for (int k = 0; k < 17; ++k) {
    col.push_back(10.0f + static_cast<float>(k));  // x
    col.push_back(k == 16 ? 100.0f : 24.0f);       // y; the last one beyond the image
    col.push_back(0.01f * static_cast<float>(k));  // visibility
  }
  set_column(head, 0, col);
  ExecutionResult out;
  out.outputs.push_back(std::move(head));
  FrameResult f;
  // Image 20x10 letterboxed into 40x40: scale 2, pad_y 10.
  f.transform.src_width = 20;
  f.transform.src_height = 10;
  f.transform.dst_width = f.transform.dst_height = 40;
  f.transform.resized_width = 40;
  f.transform.resized_height = 20;
  f.transform.scale_x = f.transform.scale_y = 2.0f;
  f.transform.pad_y = 10;
  ASSERT_TRUE((*dec)->decode(out, f).ok());
  const auto& pose = std::get<PoseResult>(f.output);
  ASSERT_EQ(pose.detections.size(), 1u);
  ASSERT_EQ(pose.keypoints[0].size(), 17u);
  const auto& b = pose.detections[0].box;  // model box (15, 25)-(25, 35)
  EXPECT_FLOAT_EQ(b.x1, 7.5f);
  EXPECT_FLOAT_EQ(b.y1, 7.5f);
  EXPECT_FLOAT_EQ(b.x2, 12.5f);
  EXPECT_FLOAT_EQ(b.y2, 10.0f);  // clipped
  for (int k = 0; k < 17; ++k) {
    const auto& kp = pose.keypoints[0][static_cast<std::size_t>(k)];
    EXPECT_FLOAT_EQ(kp.x, (10.0f + static_cast<float>(k)) / 2.0f) << k;
    EXPECT_FLOAT_EQ(kp.y, k == 16 ? 10.0f : 7.0f) << k;  // (24 - 10) / 2; 45 clipped to 10
    EXPECT_FLOAT_EQ(kp.score, 0.01f * static_cast<float>(k)) << k;
  }
}

// The pose helpers both pose decoders use (yolo_v8_pose, top-down SimCC):
// which keypoints count as visible, what is drawn and what the JSON says.
FrameResult one_pose(std::vector<vision::Keypoint> kps) {
  PoseResult r;
  vision::Detection d;
  d.box = {250, 250, 290, 290};
  d.score = 0.9f;
  d.class_id = 0;
  r.detections.push_back(d);
  r.keypoints.push_back(std::move(kps));
  FrameResult f;
  f.output = std::move(r);
  return f;
}

TEST(PoseHelpers, VisibilityIsThresholdFiniteAndOptionallyPositive) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const vision::Keypoint shown{10, 10, 0.6f}, zero{12, 12, 0.0f}, lost{nan, 5, 0.9f}, weak{8, 8, 0.2f};
  const KeypointVisibility yolo{0.5f, false};
  EXPECT_TRUE(yolo(shown));
  EXPECT_FALSE(yolo(weak));
  EXPECT_FALSE(yolo(lost));
  const KeypointVisibility any{0.0f, false};
  EXPECT_TRUE(any(zero));  // a threshold of 0 alone lets a score-0 keypoint through...
  const KeypointVisibility top_down{0.0f, true};
  EXPECT_FALSE(top_down(zero));  // ...which top-down (score > 0) does not
  EXPECT_TRUE(top_down(weak));
  EXPECT_FALSE(top_down(lost));
}

TEST(PoseHelpers, JsonHasVisibleOnlyWhenAskedAndDrawingFollowsVisibility) {
  const FrameResult f = one_pose({{20, 20, 0.6f}, {60, 60, 0.0f}, {100, 30, 0.2f}});
  const std::vector<std::string> names = {"person"};
  const Json plain = pose_json(f, names);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].at("class_name"), "person");
  ASSERT_EQ(plain[0].at("keypoints").size(), 3u);
  EXPECT_FALSE(plain[0].at("keypoints")[0].contains("visible"));
  EXPECT_FLOAT_EQ(plain[0].at("keypoints")[2].at("x").get<float>(), 100.0f);
  EXPECT_FLOAT_EQ(plain[0].at("keypoints")[2].at("score").get<float>(), 0.2f);
  const KeypointVisibility top_down{0.0f, true};
  const Json marked = pose_json(f, names, &top_down);
  EXPECT_EQ(marked[0].at("keypoints")[0].at("visible"), true);
  EXPECT_EQ(marked[0].at("keypoints")[1].at("visible"), false);
  EXPECT_EQ(marked[0].at("keypoints")[2].at("visible"), true);
  EXPECT_TRUE(pose_json(FrameResult{}, names).empty());

  // Dots at the visible keypoints only (the image is black, the box and its
  // label (shifted to fit the image) are in the bottom-right corner, away
  // from the keypoints).
  auto black = vision::Image::create(300, 300, 3);
  ASSERT_TRUE(black.ok());
  const auto lit = [](const vision::Image& im, int x, int y) {
    const auto* q = im.at(x, y);
    return q[0] != 0 || q[1] != 0 || q[2] != 0;
  };
  auto drawn = annotate_pose(*black, f, names, top_down);
  ASSERT_TRUE(drawn.ok()) << drawn.error();
  EXPECT_TRUE(lit(*drawn, 20, 20));
  EXPECT_FALSE(lit(*drawn, 60, 60));  // score 0: not drawn top-down
  EXPECT_TRUE(lit(*drawn, 100, 30));
  auto strict = annotate_pose(*black, f, names, KeypointVisibility{0.5f, false});
  ASSERT_TRUE(strict.ok()) << strict.error();
  EXPECT_TRUE(lit(*strict, 20, 20));
  EXPECT_FALSE(lit(*strict, 100, 30));  // below 0.5
}

TEST(OutputDecoders, LayoutsWithoutADecoderAreRefusedSayingWhatIsSupported) {
  PipelineOptions opts;
  // (sam_masks has its decoder since Segment Anything runs: pipeline_sam_test.)
  auto rv = variant(models::OutputLayout::Tracks);
  auto dec = make_decoder({rv, opts});
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(dec.error().message().find("yolo_v8_seg"), std::string::npos) << dec.error();
  EXPECT_NE(dec.error().message().find("sam_masks"), std::string::npos) << dec.error();  // among the supported
}

TEST(OutputDecoders, ABorderIsRefusedOutsideDepthLayouts) {
  // input.preprocessing.border (ZoeDepth) shifts the image inside the model
  // input; only the depth decoder takes it back out.
  PipelineOptions opts;
  for (auto layout : {models::OutputLayout::YoloV8, models::OutputLayout::YoloV8Pose, models::OutputLayout::SimCC}) {
    auto rv = variant(layout);
    rv.input.preprocessing = models::Preprocessing{};
    rv.input.preprocessing->border = models::BorderPadding{};
    auto dec = make_decoder({rv, opts});
    ASSERT_FALSE(dec.ok());
    EXPECT_EQ(dec.error().code(), ErrorCode::Unsupported);
    EXPECT_NE(dec.error().message().find("input.preprocessing.border"), std::string::npos) << dec.error();
  }
}

TEST(DepthDecoder, MetricDepthWithABorderIsCroppedAndInMetres) {
  // 12x10 image, factor 1: border int(sqrt(6)) = 2 columns, int(sqrt(5)) = 2
  // rows; the model input is the padded 16x14 (scale 1) and the map
  // d(u, v) = 100 v + u, so image pixel (x, y) reads d(x + 2, y + 2).
  auto rv = variant(models::OutputLayout::MetricDepth);
  rv.input.preprocessing = models::Preprocessing{};
  rv.input.preprocessing->border = models::BorderPadding{models::BorderMode::Reflect, 1.0};
  rv.postprocessing.upsample = models::Interpolation::Bicubic;
  PipelineOptions opts;
  auto dec = make_decoder({rv, opts});
  ASSERT_TRUE(dec.ok()) << dec.error();
  Tensor map = make({1, 14, 16}, "predicted_depth");
  auto m = map.span<float>();
  for (int v = 0; v < 14; ++v)
    for (int u = 0; u < 16; ++u) m[static_cast<std::size_t>(v * 16 + u)] = static_cast<float>(100 * v + u);
  ExecutionResult out;
  out.outputs.push_back(std::move(map));
  FrameResult frame;
  frame.transform.src_width = 12;
  frame.transform.src_height = 10;
  frame.transform.dst_width = frame.transform.resized_width = 16;
  frame.transform.dst_height = frame.transform.resized_height = 14;
  frame.transform.scale_x = 16.0f / 12.0f;
  frame.transform.scale_y = 14.0f / 10.0f;
  ASSERT_TRUE((*dec)->decode(out, frame).ok());
  const DepthResult* d = frame.depth();
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->depth.width, 12);
  ASSERT_EQ(d->depth.height, 10);
  EXPECT_FLOAT_EQ(d->depth.values[0], 202.0f);
  EXPECT_FLOAT_EQ(d->depth.values[11], 213.0f);
  EXPECT_FLOAT_EQ(d->depth.values[9 * 12], 1102.0f);
  EXPECT_FLOAT_EQ(d->min_value, 202.0f);
  EXPECT_FLOAT_EQ(d->max_value, 1113.0f);
  Json j;
  (*dec)->to_json(frame, j);
  EXPECT_EQ(j.at("depth").at("kind"), "metric");
  EXPECT_EQ(j.at("depth").at("unit"), "m");
}

}  // namespace
}  // namespace aegisrt::pipeline::detail

// ---- depth decoder resampling (the golden test checks it end to end) ----
namespace aegisrt::pipeline::detail {
namespace {

/// A 2x1 map stretched back onto a 4x1 image.
vision::LetterboxTransform stretch_2_to_4() {
  vision::LetterboxTransform t;
  t.src_width = 4;
  t.src_height = 1;
  t.dst_width = t.resized_width = 2;
  t.dst_height = t.resized_height = 1;
  t.scale_x = 0.5f;
  t.scale_y = 1.0f;
  return t;
}

TEST(DepthDecoder, BicubicUpsampleIsPyTorchs) {
  Tensor map = make({1, 1, 2}, "depth");
  map.span<float>()[1] = 1.0f;
  auto d = vision::depth_to_original(map.view(), stretch_2_to_4(), 0, vision::Interpolation::Bicubic);
  ASSERT_TRUE(d.ok()) << d.error();
  ASSERT_EQ(d->values.size(), 4u);
  // Hand-computed: source x = (d + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
  // cubic convolution A = -0.75 with taps clamped to the edge. At -0.25
  // (floor -1, t = 0.75) only the tap at index 1 sees the 1: W(1.25) =
  // ((-0.75*1.25 + 3.75)*1.25 - 6)*1.25 + 3 = -0.10546875; at 0.25 index 1
  // has W(0.75) = (1.25*0.75 - 2.25)*0.75^2 + 1 = 0.26171875 and index 2
  // (clamped to 1) W(1.75) = -0.03515625: 0.2265625. Same as
  // torch.nn.functional.interpolate(mode="bicubic", align_corners=False).
  EXPECT_NEAR(d->values[0], -0.10546875f, 1e-6f);
  EXPECT_NEAR(d->values[1], 0.2265625f, 1e-6f);
  EXPECT_NEAR(d->values[2], 1.0f - d->values[1], 1e-6f);
  EXPECT_NEAR(d->values[3], 1.0f - d->values[0], 1e-6f);
  // Bilinear (the default) stays within the values.
  auto b = vision::depth_to_original(map.view(), stretch_2_to_4());
  ASSERT_TRUE(b.ok());
  EXPECT_FLOAT_EQ(b->values[0], 0.0f);
  EXPECT_FLOAT_EQ(b->values[1], 0.25f);
}

TEST(DepthDecoder, PillowBicubicResizeOfTheInput) {
  auto img = vision::Image::create(2, 1, 1);
  ASSERT_TRUE(img.ok());
  img->at(0, 0)[0] = 0;
  img->at(1, 0)[0] = 255;
  auto r = vision::resize_bicubic(*img, 4, 1);
  ASSERT_TRUE(r.ok()) << r.error();
  // Hand-computed (Pillow's Resample.c, a = -0.5, support 2, taps clipped to
  // the image and renormalised): output 1 has centre 0.75, taps x = 0, 1 with
  // weights K(0.25) = 0.8671875 and K(0.75) = 0.2265625 -> 255 * 0.2265625 /
  // 1.09375 = 52.8 -> 53; output 0 has weights K(0.25), K(1.25) = -0.0703125
  // -> negative -> 0. Pillow's Image.resize((4, 1), BICUBIC) gives the same.
  EXPECT_EQ(r->at(0, 0)[0], 0);
  EXPECT_EQ(r->at(1, 0)[0], 53);
  EXPECT_EQ(r->at(2, 0)[0], 202);
  EXPECT_EQ(r->at(3, 0)[0], 255);
  // A constant image stays constant under shrinking and enlarging.
  auto flat = vision::Image::create(37, 23, 3);
  ASSERT_TRUE(flat.ok());
  for (int y = 0; y < 23; ++y) {
    for (int x = 0; x < 37 * 3; ++x) flat->at(0, y)[x] = 91;
  }
  for (auto [w, h] : {std::pair{11, 50}, std::pair{80, 7}}) {
    auto f = vision::resize_bicubic(*flat, w, h);
    ASSERT_TRUE(f.ok());
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w * 3; ++x) ASSERT_EQ(f->at(0, y)[x], 91) << w << "x" << h;
    }
  }
}

}  // namespace
}  // namespace aegisrt::pipeline::detail
