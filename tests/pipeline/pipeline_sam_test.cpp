// Segment Anything through the pipeline against the reference (segment-
// anything's SamPredictor on the same tiny model): committed encoder and
// prompt-decoder ONNX, images and reference masks in tests/data/golden, made
// by python/gen_golden_sam.py, also with the golden person detector as the
// `detector` part (its boxes as prompts, no --point/--box). Plus prompt parsing, the
// --allow-unlisted-backend override, per-instance contexts, and the same run
// on backend cuda when a GPU is present.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/cuda/device_info.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/vision/resize_pillow.h"
#include "common/temp_dir.h"
#include "golden_fixture.h"

namespace aegisrt::testing {
namespace {

constexpr const char* kReference = "sam_reference.json";
constexpr double kMaskIou = 0.98;         // issue 15: masks IoU >= 0.98
constexpr float kIouPredTolerance = 1e-3f;
constexpr double kBackgroundIou = 0.9;    // the complement of a mostly-full mask (detector prompts)

std::string cuda_skip_reason() {
  if (!build::kHaveCuda) return "built without the CUDA layer (AEGISRT_WITH_CUDA=OFF)";
  auto n = cuda::device_count();
  if (!n.ok()) return "no CUDA device: " + n.error().message();
  if (*n == 0) return "no CUDA device on this machine";
  return {};
}

pipeline::PipelineOptions sam_options(const std::string& backend = "onnx") {
  pipeline::PipelineOptions o;
  o.model = "segment_anything";
  o.backend = backend;
  o.allow_unlisted_backend = backend == "onnx";  // the manifest lists cuda only
  o.precision = "fp32";
  o.onnx = golden_dir() / "sam-golden-encoder.onnx";
  o.part_onnx["prompt_decoder"] = golden_dir() / "sam-golden-decoder.onnx";
  if (backend == "onnx") o.backend_options["intra_op_threads"] = "1";
  return o;
}

void set_prompt(pipeline::PipelineOptions& o, const nlohmann::json& c) {
  for (const auto& p : c.at("points")) {
    o.prompt_points.push_back({p[0].get<float>(), p[1].get<float>(), p[2].get<int>()});
  }
  if (!c.at("box").is_null()) {
    const auto& b = c.at("box");
    o.prompt_box = vision::Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
  }
}

/// The reference's COCO RLE (column-major, first run background) as a row-major mask.
std::vector<std::uint8_t> decode_rle(const nlohmann::json& rle, int& h, int& w) {
  h = rle.at("size")[0].get<int>();
  w = rle.at("size")[1].get<int>();
  std::vector<std::uint8_t> m(static_cast<std::size_t>(h) * static_cast<std::size_t>(w), 0);
  std::size_t pos = 0;
  std::uint8_t v = 0;
  for (const auto& c : rle.at("counts")) {
    const auto n = c.get<std::size_t>();
    for (std::size_t k = 0; k < n && pos < m.size(); ++k, ++pos) {
      const std::size_t x = pos / static_cast<std::size_t>(h);
      const std::size_t y = pos % static_cast<std::size_t>(h);
      m[y * static_cast<std::size_t>(w) + x] = v;
    }
    v = static_cast<std::uint8_t>(1 - v);
  }
  EXPECT_EQ(pos, m.size()) << "RLE counts do not cover the mask";
  return m;
}

/// Runs every reference case on `backend`; checks masks and predicted IoUs.
void check_against_reference(const std::string& backend, double min_iou, float iou_tol) {
  const auto ref = load_golden_reference(kReference);
  ASSERT_GE(ref.at("cases").size(), 8U);
  for (const auto& c : ref.at("cases")) {
    const std::string what = c.at("image").get<std::string>() + " " + c.at("name").get<std::string>();
    SCOPED_TRACE(what);
    auto o = sam_options(backend);
    set_prompt(o, c);
    auto p = pipeline::Pipeline::create(o, source_models_dir());
    ASSERT_TRUE(p.ok()) << p.error();
    auto r = (*p)->run_file(golden_dir() / c.at("image").get<std::string>());
    ASSERT_TRUE(r.ok()) << r.error();
    const auto* sam = std::get_if<pipeline::SamResult>(&r->output);
    ASSERT_NE(sam, nullptr);
    ASSERT_EQ(sam->masks.size(), 1U);
    const pipeline::SamMask& m = sam->masks[0];
    int h = 0;
    int w = 0;
    const auto want = decode_rle(c.at("rle"), h, w);
    ASSERT_EQ(m.mask.width, w);
    ASSERT_EQ(m.mask.height, h);
    std::size_t inter = 0;
    std::size_t uni = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const bool a = m.mask.at(x, y);
        const bool b = want[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)] != 0;
        inter += (a && b) ? 1 : 0;
        uni += (a || b) ? 1 : 0;
      }
    }
    ASSERT_GT(uni, 0U);
    const double iou = static_cast<double>(inter) / static_cast<double>(uni);
    EXPECT_GE(iou, min_iou) << "mask IoU vs SamPredictor";
    EXPECT_NEAR(m.iou_prediction, c.at("iou_prediction").get<float>(), iou_tol);
    EXPECT_EQ(m.area, m.mask.area());
  }
}

/// Mask IoU of the pipeline's mask and a reference mask (row-major); 1 when
/// both are empty. `background`: the IoU of their complements instead.
double mask_iou(const pipeline::InstanceMask& m, const std::vector<std::uint8_t>& want, int w, int h,
                bool background = false) {
  std::size_t inter = 0;
  std::size_t uni = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const bool a = m.at(x, y) != background;
      const bool b =
          (want[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)] != 0) !=
          background;
      inter += (a && b) ? 1 : 0;
      uni += (a || b) ? 1 : 0;
    }
  }
  return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

/// $AEGISRT_MODEL_DATA unset for one test (the detector's file must not be
/// found there), restored after.
class ModelDataUnset {
 public:
  ModelDataUnset() {
    if (const char* v = std::getenv("AEGISRT_MODEL_DATA"); v != nullptr) saved_ = v;
    ::unsetenv("AEGISRT_MODEL_DATA");
  }
  ~ModelDataUnset() {
    if (saved_) ::setenv("AEGISRT_MODEL_DATA", saved_->c_str(), 1);
  }
  ModelDataUnset(const ModelDataUnset&) = delete;
  ModelDataUnset& operator=(const ModelDataUnset&) = delete;

 private:
  std::optional<std::string> saved_;
};

TEST(GoldenSam, MasksMatchSamPredictorForEveryPrompt) {
  AEGISRT_SKIP_WITHOUT_ORT();  // encoder and prompt decoder run on ONNX Runtime CPU
  check_against_reference("onnx", kMaskIou, kIouPredTolerance);
}

TEST(GoldenSam, CudaBackendMatchesTheReference) {
  AEGISRT_SKIP_WITHOUT_ORT();
  if (const std::string why = cuda_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  // fp32 on the GPU (ORT CUDA EP; TF32 may be used by cuDNN convolutions), same tolerances.
  check_against_reference("cuda", kMaskIou, kIouPredTolerance);
}

TEST(GoldenSam, JsonAndAnnotationDescribeTheMask) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = sam_options();
  o.prompt_points.push_back({200.0f, 300.0f, 1});
  o.prompt_points.push_back({450.0f, 120.0f, 0});
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto img = vision::load_image(golden_dir() / "golden_street.png");
  ASSERT_TRUE(img.ok()) << img.error();
  auto r = (*p)->run(*img, "street");
  ASSERT_TRUE(r.ok()) << r.error();
  const auto j = nlohmann::json::parse((*p)->to_json(*r));
  ASSERT_EQ(j.at("prompts").size(), 1U);
  const auto& pr = j.at("prompts")[0];
  EXPECT_EQ(pr.at("points").size(), 2U);
  EXPECT_EQ(pr.at("points")[1].at("label").get<int>(), 0);
  EXPECT_TRUE(pr.at("box").is_null());
  const auto& m = std::get<pipeline::SamResult>(r->output).masks[0];
  EXPECT_EQ(pr.at("mask_area").get<std::size_t>(), m.area);
  // The JSON's RLE decodes to the very mask.
  int h = 0;
  int w = 0;
  const auto back = decode_rle(pr.at("mask_rle"), h, w);
  ASSERT_EQ(h, img->height());
  ASSERT_EQ(w, img->width());
  EXPECT_EQ(back, m.mask.data);
  // The overlay changes pixels inside the mask and leaves far-away background alone.
  auto a = (*p)->annotate(*img, *r);
  ASSERT_TRUE(a.ok()) << a.error();
  std::size_t changed = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      if (std::memcmp(a->at(x, y), img->at(x, y), 3) != 0) ++changed;
    }
  }
  EXPECT_GE(changed, m.area / 2);
}

TEST(GoldenSam, InstancesHaveTheirOwnContextsAndAgree) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = sam_options();
  o.prompt_box = vision::Box{100.0f, 80.0f, 420.0f, 360.0f};
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto q = (*p)->create_instance();
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_NE(&(*p)->context(), &(*q)->context());
  EXPECT_EQ((*p)->context().shared_model().get(), (*q)->context().shared_model().get());
  auto a = (*p)->run_file(golden_dir() / "golden_street.png");
  auto b = (*q)->run_file(golden_dir() / "golden_street.png");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(std::get<pipeline::SamResult>(a->output).masks[0].mask.data,
            std::get<pipeline::SamResult>(b->output).masks[0].mask.data);
}

TEST(SamPipeline, UnlistedBackendIsRefusedWithoutTheOverride) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = sam_options();
  o.prompt_points.push_back({10.0f, 10.0f, 1});
  o.allow_unlisted_backend = false;
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(p.error().message().find("--allow-unlisted-backend"), std::string::npos) << p.error();
  EXPECT_NE(p.error().message().find("cuda"), std::string::npos) << p.error();
  o.allow_unlisted_backend = true;
  auto q = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ((*q)->info().backend, "onnx");
}

TEST(SamPipeline, OverrideDoesNotAcceptUnknownBackends) {
  auto o = sam_options();
  o.backend = "onxx";
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::NotFound) << p.error();
}

// Issue 15: "the prompt decoder per prompt (--point, --box, or the
// detector's boxes)". The catalog's segment_anything declares yolo v8n as its
// `detector` part; here its file is the golden person detector (the same
// --part-onnx a user passes), the image golden_people.png, no prompt given.
// Reference: SamPredictor's mask for each of the Ultralytics predictor's boxes
// on that detector (python/gen_golden_sam.py "detector_prompts", the boxes of
// python/gen_golden_rtmpose.py).
TEST(GoldenSam, DetectorBoxesArePrompts) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto ref = load_golden_reference(kReference).at("detector_prompts");
  const auto& want = ref.at("masks");
  ASSERT_GT(want.size(), 5U) << "the golden image must have several persons";
  auto o = sam_options();
  o.part_onnx["detector"] = golden_dir() / ref.at("detector").get<std::string>();
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto img = vision::load_image(golden_dir() / ref.at("image").get<std::string>());
  ASSERT_TRUE(img.ok()) << img.error();
  auto r = (*p)->run(*img, "people");
  ASSERT_TRUE(r.ok()) << r.error();
  const auto* sam = std::get_if<pipeline::SamResult>(&r->output);
  ASSERT_NE(sam, nullptr);
  ASSERT_EQ(sam->masks.size(), want.size()) << "one mask per detected box";
  const auto j = nlohmann::json::parse((*p)->to_json(*r));
  ASSERT_EQ(j.at("prompts").size(), want.size());
  for (std::size_t i = 0; i < sam->masks.size(); ++i) {
    EXPECT_EQ(j.at("prompts")[i].at("source"), "detector");
    EXPECT_TRUE(j.at("prompts")[i].at("points").empty());
    EXPECT_FALSE(j.at("prompts")[i].at("box").is_null());
    EXPECT_EQ(sam->masks[i].prompt.source, "detector");
    ASSERT_TRUE(sam->masks[i].prompt.box.has_value());
    EXPECT_TRUE(sam->masks[i].prompt.points.empty());
  }
  // Each reference box's mask: the mask of the unused prompt box nearest to it
  // (largest corner distance; Ultralytics clips boxes to the image, so some
  // are degenerate, zero width at the border, and IoU of boxes says nothing).
  std::vector<bool> used(sam->masks.size(), false);
  std::size_t nonempty = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    const auto& c = want[k];
    SCOPED_TRACE("reference box " + std::to_string(k) + " " + c.at("box").dump());
    const vision::Box wb{c.at("box")[0].get<float>(), c.at("box")[1].get<float>(), c.at("box")[2].get<float>(),
                         c.at("box")[3].get<float>()};
    std::size_t best = 0;
    float best_dist = 1e30f;
    for (std::size_t i = 0; i < sam->masks.size(); ++i) {
      const vision::Box& b = *sam->masks[i].prompt.box;
      const float dist = std::max({std::abs(b.x1 - wb.x1), std::abs(b.y1 - wb.y1), std::abs(b.x2 - wb.x2),
                                   std::abs(b.y2 - wb.y2)});
      if (!used[i] && dist < best_dist) {
        best_dist = dist;
        best = i;
      }
    }
    used[best] = true;
    EXPECT_LE(best_dist, 1.0f) << "no prompt box is the reference detector box";
    const pipeline::SamMask& m = sam->masks[best];
    int h = 0;
    int w = 0;
    const auto rm = decode_rle(c.at("rle"), h, w);
    ASSERT_EQ(m.mask.width, w);
    ASSERT_EQ(m.mask.height, h);
    EXPECT_GE(mask_iou(m.mask, rm, w, h), kMaskIou) << "mask IoU vs SamPredictor on the detector box";
    // The untrained golden network's masks cover most of the image (see
    // docs/PIPELINE.md), so the prompt shows mostly in the holes: their IoU
    // must be high too (a wrong box moves them).
    EXPECT_GE(mask_iou(m.mask, rm, w, h, /*background=*/true), kBackgroundIou)
        << "background IoU vs SamPredictor on the detector box";
    EXPECT_NEAR(m.iou_prediction, c.at("iou_prediction").get<float>(), kIouPredTolerance);
    EXPECT_EQ(m.area, m.mask.area());
    nonempty += c.at("area").get<std::size_t>() > 0 ? 1 : 0;
  }
  EXPECT_GT(nonempty, want.size() / 2) << "the reference masks must mostly be non-empty";
}

// A run with --point/--box does not load the detector part, so it needs none
// of its files; without a prompt the missing file is a clear error naming the
// part and the file.
TEST(SamPipeline, DetectorIsLoadedOnlyWithoutPrompts) {
  AEGISRT_SKIP_WITHOUT_ORT();
  TempDir empty("aegisrt_sam_");
  ModelDataUnset no_env;
  auto o = sam_options();
  o.model_data_dirs = {empty.path()};
  o.prompt_points.push_back({200.0f, 300.0f, 1});
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto r = (*p)->run_file(golden_dir() / "golden_street.png");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(std::get<pipeline::SamResult>(r->output).masks.size(), 1U);
  EXPECT_EQ(std::get<pipeline::SamResult>(r->output).masks[0].prompt.source, "cli");

  o.prompt_points.clear();
  auto q = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code(), ErrorCode::NotFound) << q.error();
  const std::string msg = q.error().to_string();
  EXPECT_NE(msg.find("part 'detector'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("yolov8n.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--point"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--part-onnx detector="), std::string::npos) << msg;
}

// A catalog whose segment_anything has no detector part (the shipped one
// with its model-level parts removed): without a prompt, create() asks for one.
TEST(SamPipeline, NoPromptAndNoDetectorIsAClearError) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto shipped = models::ModelCatalog::load_directory(source_models_dir());
  ASSERT_TRUE(shipped.ok()) << shipped.error();
  models::ModelCatalog catalog;
  for (models::ModelManifest m : shipped->models()) {
    if (m.name == "segment_anything") {
      ASSERT_FALSE(m.parts.empty()) << "the shipped manifest declares the detector part";
      m.parts.clear();
    }
    ASSERT_TRUE(catalog.add(std::move(m)).ok());
  }
  auto p = pipeline::Pipeline::create(catalog, sam_options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(p.error().message().find("--point"), std::string::npos) << p.error();
  EXPECT_NE(p.error().message().find("--box"), std::string::npos) << p.error();
  EXPECT_NE(p.error().message().find("no detector part"), std::string::npos) << p.error();
}

TEST(SamPipeline, PointsOutsideTheImageAreRefused) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = sam_options();
  o.prompt_points.push_back({641.0f, 10.0f, 1});  // golden_street.png is 640x480
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  auto r = (*p)->run_file(golden_dir() / "golden_street.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("--point"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("outside"), std::string::npos) << r.error();
}

TEST(SamPipeline, PromptsOnANonSamModelAreRefused) {
  AEGISRT_SKIP_WITHOUT_ORT();
  pipeline::PipelineOptions o;
  o.model = "rtmpose";
  o.onnx = golden_dir() / "rtmpose-golden.onnx";
  o.part_onnx["detector"] = golden_dir() / "yolov8-person-golden.onnx";
  o.prompt_points.push_back({1.0f, 1.0f, 1});
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("--point"), std::string::npos) << p.error();
}

TEST(SamPrompts, ParsesPointsAndBoxes) {
  auto a = pipeline::parse_prompt_point("12.5,7");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_FLOAT_EQ(a->x, 12.5f);
  EXPECT_FLOAT_EQ(a->y, 7.0f);
  EXPECT_EQ(a->label, 1);
  auto b = pipeline::parse_prompt_point(" 3 , 4 ,0");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->label, 0);
  auto c = pipeline::parse_prompt_box("1,2,30,40.5");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_FLOAT_EQ(c->x1, 1.0f);
  EXPECT_FLOAT_EQ(c->y1, 2.0f);
  EXPECT_FLOAT_EQ(c->x2, 30.0f);
  EXPECT_FLOAT_EQ(c->y2, 40.5f);
}

TEST(SamPrompts, MalformedValuesNameTheOption) {
  for (const char* bad : {"", "1", "1,2,1,4", "a,b", "1,,2", "1,2,2", "1,2,-1", "nan,1", "1,inf", "1;2", "1,2,"}) {
    SCOPED_TRACE(bad);
    auto r = pipeline::parse_prompt_point(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("--point"), std::string::npos) << r.error();
  }
  for (const char* bad : {"", "1,2,3", "1,2,3,4,5", "5,2,3,4", "1,5,3,4", "1,2,1,4", "x,2,3,4"}) {
    SCOPED_TRACE(bad);
    auto r = pipeline::parse_prompt_box(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("--box"), std::string::npos) << r.error();
  }
}

TEST(PillowBilinear, MatchesHandComputedUpscaleAndAntialiasedShrink) {
  // 2x1 -> 4x1: source centres 0.25, 0.75, 1.25, 1.75 (x + 0.5 scaled),
  // triangle weights of the two nearest pixels, taps outside the image
  // dropped and the rest renormalised: 0, 255/4 = 63.75 -> 64, 191.25 -> 191, 255.
  auto img = vision::Image::create(2, 1, 1);
  ASSERT_TRUE(img.ok());
  img->at(0, 0)[0] = 0;
  img->at(1, 0)[0] = 255;
  auto up = vision::resize_pillow_bilinear(*img, 4, 1);
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(up->at(0, 0)[0], 0);
  EXPECT_EQ(up->at(1, 0)[0], 64);
  EXPECT_EQ(up->at(2, 0)[0], 191);
  EXPECT_EQ(up->at(3, 0)[0], 255);
  // 4x1 -> 2x1 antialiased: the support doubles to 2; output 0 (centre 1)
  // takes x = 0, 1, 2 with weights 1 - |x + 0.5 - 1| / 2 = .75, .75, .25:
  // (0*.75 + 100*.75 + 200*.25) / 1.75 = 71.4 -> 71; output 1 (centre 3)
  // x = 1, 2, 3 with .25, .75, .75: (25 + 150 + 30) / 1.75 = 117.1 -> 117.
  auto row = vision::Image::create(4, 1, 1);
  ASSERT_TRUE(row.ok());
  const std::uint8_t px[4] = {0, 100, 200, 40};
  for (int x = 0; x < 4; ++x) row->at(x, 0)[0] = px[x];
  auto down = vision::resize_pillow_bilinear(*row, 2, 1);
  ASSERT_TRUE(down.ok()) << down.error();
  EXPECT_EQ(down->at(0, 0)[0], 71);
  EXPECT_EQ(down->at(1, 0)[0], 117);
}

}  // namespace
}  // namespace aegisrt::testing
