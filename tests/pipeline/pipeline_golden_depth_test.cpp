// Golden tests: the pipeline's depth path (Pillow-bicubic pre-processing, the
// depth decoder's bicubic upsampling) against the REFERENCE implementation.
// tests/data/golden/ holds a tiny architecture-faithful Depth Anything V2
// built and exported with transformers' own model class, and what
// transformers' own end-to-end run (DPTImageProcessorPil at the export's
// fixed 518x518, the PyTorch model, post_process_depth_estimation back to the
// image size) gave on the golden images, sampled on a grid
// (python/gen_golden_depth.py; no PyTorch needed here). The pipeline runs the
// ONNX file through the catalog's depth_anything manifest on OpenVINO CPU at
// fp32: the manifest's own backend list (cuda, rocm, openvino) has no other
// CPU backend, and fp32 pins OpenVINO's inference precision to f32.
//
// Tolerance (issue 15): depth max relative error <= 1e-3, relative to the
// reference map's largest magnitude (the ReLU map has pixels at and near 0,
// where a per-pixel ratio is meaningless). fp32 kernels differ between AVX2
// and AVX-512 machines (and from PyTorch) by ~1e-5 relative, far inside it;
// the pre-processing is bit-exact (Pillow's integer resize).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "aegisrt/io/npy.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/keep_aspect.h"
#include "golden_fixture.h"

namespace aegisrt::pipeline {
namespace {

using aegisrt::testing::golden_dir;
using nlohmann::json;

constexpr double kMaxRelError = 1e-3;

struct DepthComparison {
  double max_rel = 0.0;      // max |ours - ref| / max |ref| over the samples
  std::size_t samples = 0;
};

/// Our full-size map against the reference's samples at (offset + stride*i).
DepthComparison compare_samples(const vision::DepthMap& ours, const json& grid, const Tensor& ref) {
  DepthComparison c;
  const int offset = grid.at("offset").get<int>();
  const int stride = grid.at("stride").get<int>();
  const auto rows = ref.shape()[0];
  const auto cols = ref.shape()[1];
  const auto v = ref.span<const float>();
  float scale = 0.0f;
  for (float x : v) scale = std::max(scale, std::abs(x));
  EXPECT_GT(scale, 0.0f);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const std::int64_t y = offset + stride * i;
      const std::int64_t x = offset + stride * j;
      if (x >= ours.width || y >= ours.height) {
        ADD_FAILURE() << "sample (" << x << "," << y << ") outside our " << ours.width << "x" << ours.height << " map";
        return c;
      }
      const float r = v[static_cast<std::size_t>(i * cols + j)];
      const float o = ours.values[static_cast<std::size_t>(y * ours.width + x)];
      c.max_rel = std::max(c.max_rel, static_cast<double>(std::abs(o - r)) / scale);
      ++c.samples;
    }
  }
  return c;
}

/// One golden image's depth against the reference: our map has the image's
/// size, the reference samples (.npy) have the recorded shape and spread over
/// more than `min_spread` (non-trivial depth), our map matches them within
/// kMaxRelError, and the reported range is that of the full reference map.
void check_depth_image(const FrameResult& r, const json& im, const json& grid, float min_spread,
                       const std::string& label, std::size_t min_samples = 10000) {
  const std::string file = im.at("file").get<std::string>();
  const auto* d = std::get_if<DepthResult>(&r.output);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->depth.width, im.at("width").get<int>());
  ASSERT_EQ(d->depth.height, im.at("height").get<int>());
  auto ref = io::read_npy(golden_dir() / im.at("samples").get<std::string>());
  ASSERT_TRUE(ref.ok()) << ref.error();
  ASSERT_EQ(ref->shape(), (Shape{im.at("sample_shape")[0].get<std::int64_t>(),
                                 im.at("sample_shape")[1].get<std::int64_t>()}));
  const float lo = im.at("min").get<float>();
  const float hi = im.at("max").get<float>();
  ASSERT_GT(hi - lo, min_spread);
  const DepthComparison c = compare_samples(d->depth, grid, *ref);
  EXPECT_GT(c.samples, min_samples);
  EXPECT_LE(c.max_rel, kMaxRelError) << "over " << c.samples << " samples";
  std::printf("[ measured ] %s%s: depth max relative error %.3g over %zu samples\n", label.c_str(), file.c_str(),
              c.max_rel, c.samples);
  const double range_scale = std::max(std::abs(lo), std::abs(hi));
  EXPECT_LE(std::abs(d->min_value - lo) / range_scale, kMaxRelError);
  EXPECT_LE(std::abs(d->max_value - hi) / range_scale, kMaxRelError);
}

/// The annotated picture is the colour-mapped depth at the image's size: the
/// nearest pixel (largest value for inverse depth, smallest for metric depth)
/// has the map's top colour, the farthest its bottom colour.
void expect_colour_mapped(const Pipeline& p, const vision::Image& image, const FrameResult& r, bool near_is_larger,
                          vision::ColorMap map) {
  const auto* dp = r.depth();
  ASSERT_NE(dp, nullptr);
  const DepthResult& d = *dp;
  auto drawn_r = p.annotate(image, r);
  ASSERT_TRUE(drawn_r.ok()) << drawn_r.error();
  const vision::Image& drawn = *drawn_r;
  ASSERT_EQ(drawn.width(), image.width());
  ASSERT_EQ(drawn.height(), image.height());
  const auto& v = d.depth.values;
  ASSERT_FALSE(v.empty());
  const auto lo = static_cast<std::size_t>(std::min_element(v.begin(), v.end()) - v.begin());
  const auto hi = static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
  const std::size_t near_i = near_is_larger ? hi : lo;
  const std::size_t far_i = near_is_larger ? lo : hi;
  const auto px = [&](std::size_t i) {
    const auto* q = drawn.at(static_cast<int>(i % static_cast<std::size_t>(d.depth.width)),
                             static_cast<int>(i / static_cast<std::size_t>(d.depth.width)));
    return vision::Rgb{q[0], q[1], q[2]};
  };
  EXPECT_EQ(px(near_i), vision::colormap_color(map, 1.0f));
  EXPECT_EQ(px(far_i), vision::colormap_color(map, 0.0f));
}

/// A depth pipeline's run on golden_street.png, with its JSON document.
struct StreetRun {
  std::unique_ptr<Pipeline> p;
  vision::Image image;
  FrameResult r;
  json j;
  const DepthResult* d = nullptr;
};
void run_on_street(const std::string& model, const std::string& variant, const std::string& onnx, StreetRun& out) {
  out.p = aegisrt::testing::make_golden_pipeline(model, variant, onnx, "openvino");
  ASSERT_NE(out.p, nullptr);
  auto image = vision::load_image(golden_dir() / "golden_street.png", 3);
  ASSERT_TRUE(image.ok()) << image.error();
  out.image = std::move(*image);
  auto r = out.p->run(out.image, "golden_street.png");
  ASSERT_TRUE(r.ok()) << r.error();
  out.r = std::move(*r);
  out.d = out.r.depth();
  ASSERT_NE(out.d, nullptr);
  out.j = json::parse(out.p->to_json(out.r));
  EXPECT_FLOAT_EQ(out.j.at("depth").at("min").get<float>(), out.d->min_value);
  EXPECT_FLOAT_EQ(out.j.at("depth").at("max").get<float>(), out.d->max_value);
}

TEST(PipelineGoldenDepth, DepthAnythingMatchesTransformers) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  auto p = aegisrt::testing::make_golden_pipeline("depth_anything", "vits", "depth-anything-v2-golden.onnx",
                                                  "openvino");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().output_layout, models::OutputLayout::RelativeInverseDepth);
  EXPECT_EQ(p->info().preprocess.interpolation, vision::Interpolation::Bicubic);
  const json doc = aegisrt::testing::load_golden_reference("depth_anything_reference.json");
  aegisrt::testing::for_each_golden_image(*p, doc, [&](const json& im, const FrameResult& r) {
    // Non-trivial reference: relative depth varies by over 1 across the image.
    check_depth_image(r, im, doc.at("grid"), 1.0f, "");
  });
}

TEST(PipelineGoldenDepth, DepthJsonCarriesTheRangeAndThePictureIsColourMapped) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  StreetRun s;
  ASSERT_NO_FATAL_FAILURE(run_on_street("depth_anything", "vits", "depth-anything-v2-golden.onnx", s));
  const json& j = s.j;
  EXPECT_EQ(j.at("output_layout"), "relative_inverse_depth");
  EXPECT_EQ(j.at("depth").at("kind"), "relative_inverse");
  EXPECT_EQ(j.at("depth").at("color_map"), "inferno");
  // Colour-mapped: the nearest pixel (largest inverse depth) gets the map's
  // top colour, the farthest its bottom colour.
  expect_colour_mapped(*s.p, s.image, s.r, /*near_is_larger=*/true, vision::ColorMap::Inferno);
}

TEST(PipelineGoldenDepth, ManifestNamesTheReferenceFilters) {
  auto catalog = models::ModelCatalog::load_directory(aegisrt::testing::source_models_dir());
  ASSERT_TRUE(catalog.ok()) << catalog.error();
  auto m = catalog->get("depth_anything");
  ASSERT_TRUE(m.ok()) << m.error();
  auto rv = (*m)->resolve("vits");
  ASSERT_TRUE(rv.ok()) << rv.error();
  ASSERT_TRUE(rv->input.preprocessing.has_value());
  EXPECT_EQ(rv->input.preprocessing->interpolation, models::Interpolation::Bicubic);
  EXPECT_EQ(rv->postprocessing.upsample, models::Interpolation::Bicubic);
  // A misspelt filter is reported where it is, with the choices.
  const auto file = aegisrt::testing::source_models_dir() / "depth_anything" / "manifest.yaml";
  for (const auto& [good, bad, field] :
       {std::tuple{"interpolation: bicubic", "interpolation: bicubik", "input.preprocessing.interpolation"},
        std::tuple{"upsample: bicubic", "upsample: cubic", "postprocessing.upsample"}}) {
    std::string text = aegisrt::read_file(file, "manifest").value();
    const auto at = text.find(good);
    ASSERT_NE(at, std::string::npos) << good;
    text.replace(at, std::string(good).size(), bad);
    const auto report = models::analyze_manifest(text, file);
    ASSERT_FALSE(report.ok()) << bad;
    ASSERT_EQ(report.issues.size(), 1u) << bad;
    EXPECT_EQ(report.issues[0].kind, models::ManifestIssueKind::UnknownValue) << bad;
    EXPECT_EQ(report.issues[0].field, field) << bad;
    EXPECT_NE(report.issues[0].message.find("bilinear"), std::string::npos) << report.issues[0].message;
  }
}

// ---------------------------------------------------------------- ZoeDepth
// tests/data/golden/zoedepth-golden.onnx: a tiny ZoeDepth (BEiT backbone with
// relative position bias, DPT neck, one metric bins head) built and exported
// with transformers' own ZoeDepthForDepthEstimation; the reference is
// transformers' end-to-end run (ZoeDepthImageProcessor at the export's fixed
// 384x512: reflect border, torch bilinear align_corners=True; the PyTorch
// model; post_process_depth_estimation(source_sizes): bicubic to the padded
// size, border cropped) on the golden images (python/gen_golden_zoedepth.py).
// Same tolerance and scale as above (max relative error <= 1e-3 of the
// reference map's largest value); the pre-processing is float (not
// bit-exact), ~1e-7 relative, and the tiny model amplifies an input change
// by ~2 (the generator prints it), far inside the tolerance. A border one
// pixel off moves the map by more than that (checked by hand; see the
// report of this change).

TEST(PipelineGoldenDepth, ZoeDepthMatchesTransformers) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  auto p = aegisrt::testing::make_golden_pipeline("zoedepth", "nk", "zoedepth-golden.onnx", "openvino");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().output_layout, models::OutputLayout::MetricDepth);
  EXPECT_EQ(p->info().preprocess.border, vision::BorderMode::Reflect);
  EXPECT_TRUE(p->info().preprocess.align_corners);
  const json doc = aegisrt::testing::load_golden_reference("zoedepth_reference.json");
  ASSERT_FALSE(doc.at("images").empty());
  for (const auto& im : doc.at("images")) {
    const std::string file = im.at("file").get<std::string>();
    SCOPED_TRACE(file);
    const int w = im.at("width").get<int>();
    const int h = im.at("height").get<int>();
    // The border is transformers' int(sqrt(side / 2) * 3), as the generator recorded it.
    EXPECT_EQ(vision::border_size(w, p->info().preprocess.border_factor), im.at("pad_w").get<int>());
    EXPECT_EQ(vision::border_size(h, p->info().preprocess.border_factor), im.at("pad_h").get<int>());
    auto r = p->run_file(golden_dir() / file);
    ASSERT_TRUE(r.ok()) << r.error();
    // Non-trivial reference: metric depth varies by over 0.2 m across the image.
    check_depth_image(*r, im, doc.at("grid"), 0.2f, "zoedepth ");
  }
}

TEST(PipelineGoldenDepth, ZoeDepthJsonIsMetricInMetresAndNearIsWarm) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  StreetRun s;
  ASSERT_NO_FATAL_FAILURE(run_on_street("zoedepth", "nk", "zoedepth-golden.onnx", s));
  const json& j = s.j;
  EXPECT_EQ(j.at("output_layout"), "metric_depth");
  EXPECT_EQ(j.at("depth").at("kind"), "metric");
  EXPECT_EQ(j.at("depth").at("unit"), "m");
  EXPECT_EQ(j.at("depth").at("color_map"), "turbo");
  // Metric depth grows away from the camera: the nearest pixel (smallest
  // depth) gets the map's top (warm) colour, the farthest its bottom colour.
  expect_colour_mapped(*s.p, s.image, s.r, /*near_is_larger=*/false, vision::ColorMap::Turbo);
}

TEST(PipelineGoldenDepth, ZoeDepthManifestNamesTheReferencePreprocessing) {
  auto catalog = models::ModelCatalog::load_directory(aegisrt::testing::source_models_dir());
  ASSERT_TRUE(catalog.ok()) << catalog.error();
  auto m = catalog->get("zoedepth");
  ASSERT_TRUE(m.ok()) << m.error();
  for (const char* variant : {"n", "k", "nk"}) {
    auto rv = (*m)->resolve(variant);
    ASSERT_TRUE(rv.ok()) << rv.error();
    ASSERT_TRUE(rv->input.preprocessing.has_value());
    const auto& pre = *rv->input.preprocessing;
    EXPECT_EQ(pre.interpolation, models::Interpolation::Bilinear) << variant;
    EXPECT_TRUE(pre.align_corners) << variant;
    ASSERT_TRUE(pre.border.has_value()) << variant;
    EXPECT_EQ(pre.border->mode, models::BorderMode::Reflect);
    EXPECT_DOUBLE_EQ(pre.border->factor, 3.0);
    EXPECT_EQ(rv->postprocessing.upsample, models::Interpolation::Bicubic);
    EXPECT_EQ(rv->output.layout, models::OutputLayout::MetricDepth);
  }
}

// ---------------------------------------------------------------- keep aspect (dynamic-size exports)
// The same tiny weights exported with dynamic batch/height/width
// (*-golden-dynamic.onnx); the reference is transformers' run with the
// processors' own keep-aspect policy (Depth Anything: one side 518, multiple
// of 14; ZoeDepth: one side of the BORDERED image 384 or 512, multiple of
// 32), sampled every 8th pixel (the `keep_aspect` section of the reference
// JSON). Same tolerance as above. The section's `sizes` table is the
// processors' input size for odd image sizes, got by calling them.

/// The catalog variant's pre-processing (target size, border) and keep_aspect multiple.
struct CatalogPolicy {
  vision::PreprocessConfig config;
  int multiple = 0;
};
CatalogPolicy catalog_policy(const std::string& model, const std::string& variant) {
  CatalogPolicy out;
  auto catalog = models::ModelCatalog::load_directory(aegisrt::testing::source_models_dir());
  EXPECT_TRUE(catalog.ok()) << catalog.error();
  if (!catalog.ok()) return out;
  auto m = catalog->get(model);
  EXPECT_TRUE(m.ok()) << m.error();
  if (!m.ok()) return out;
  auto rv = (*m)->resolve(variant);
  EXPECT_TRUE(rv.ok()) << rv.error();
  if (!rv.ok() || !rv->input.preprocessing || !rv->input.preprocessing->keep_aspect) {
    ADD_FAILURE() << model << "/" << variant << " has no input.preprocessing.keep_aspect";
    return out;
  }
  auto cfg = make_preprocess_config(rv->input, model);
  EXPECT_TRUE(cfg.ok()) << cfg.error();
  if (cfg.ok()) out.config = *cfg;
  out.multiple = rv->input.preprocessing->keep_aspect->multiple_of;
  return out;
}

/// The processor's input size for every image size of the reference's table.
void expect_processor_sizes(const std::string& model, const std::string& variant, const char* reference) {
  const CatalogPolicy policy = catalog_policy(model, variant);
  ASSERT_GT(policy.multiple, 0);
  const json doc = aegisrt::testing::load_golden_reference(reference);
  const json& section = doc.at("keep_aspect");
  EXPECT_EQ(section.at("policy").at("multiple_of").get<int>(), policy.multiple);
  EXPECT_EQ(section.at("policy").at("size")[0].get<int>(), policy.config.height);
  EXPECT_EQ(section.at("policy").at("size")[1].get<int>(), policy.config.width);
  std::size_t checked = 0;
  std::size_t refused = 0;
  for (const auto& e : section.at("sizes")) {
    const int w = e.at("width").get<int>();
    const int h = e.at("height").get<int>();
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    auto k = vision::keep_aspect_config(w, h, policy.config, policy.multiple);
    if (e.value("refused", false)) {
      // The processor raised; the pipeline refuses the image too (the size,
      // or for ZoeDepth the border, which must be smaller than the side).
      const bool ours_refuses = !k.ok() || !vision::compute_transform(w, h, *k).ok();
      EXPECT_TRUE(ours_refuses);
      ++refused;
      continue;
    }
    ASSERT_TRUE(k.ok()) << k.error();
    EXPECT_EQ(k->width, e.at("input_width").get<int>());
    EXPECT_EQ(k->height, e.at("input_height").get<int>());
    ++checked;
  }
  EXPECT_GE(checked, 15u);
  EXPECT_GE(refused, 1u);
}

TEST(PipelineGoldenDepthKeepAspect, DepthAnythingInputSizesAreTheProcessors) {
  expect_processor_sizes("depth_anything", "vits", "depth_anything_reference.json");
}

TEST(PipelineGoldenDepthKeepAspect, ZoeDepthInputSizesAreTheProcessors) {
  expect_processor_sizes("zoedepth", "nk", "zoedepth_reference.json");
}

/// Runs the dynamic-size export on the reference's keep-aspect images: the
/// pipeline uses the policy, each image's input has the processor's size,
/// and the depth matches transformers'.
void check_keep_aspect_run(const std::string& model, const std::string& variant, const char* reference,
                           int multiple, float min_spread) {
  const json doc = aegisrt::testing::load_golden_reference(reference);
  const json& section = doc.at("keep_aspect");
  auto p = aegisrt::testing::make_golden_pipeline(model, variant, section.at("model").get<std::string>(), "openvino");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().keep_aspect_multiple, multiple);
  EXPECT_FALSE(p->info().device_path);
  bool some_size_differs = false;
  ASSERT_FALSE(section.at("images").empty());
  for (const auto& im : section.at("images")) {
    const std::string file = im.at("file").get<std::string>();
    SCOPED_TRACE(file);
    auto r = p->run_file(golden_dir() / file);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->transform.dst_width, im.at("input_width").get<int>());
    EXPECT_EQ(r->transform.dst_height, im.at("input_height").get<int>());
    some_size_differs |= r->transform.dst_width != p->info().preprocess.width ||
                         r->transform.dst_height != p->info().preprocess.height;
    check_depth_image(*r, im, section.at("grid"), min_spread, model + " keep aspect ", 4000);
    // The JSON names the size the image was fed at.
    const json j = json::parse(p->to_json(*r));
    EXPECT_EQ(j.at("transform").at("input_width").get<int>(), im.at("input_width").get<int>());
  }
  EXPECT_TRUE(some_size_differs) << "no golden image got a size other than the fixed one";
}

TEST(PipelineGoldenDepthKeepAspect, DepthAnythingMatchesTransformers) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  check_keep_aspect_run("depth_anything", "vits", "depth_anything_reference.json", 14, 1.0f);
}

TEST(PipelineGoldenDepthKeepAspect, ZoeDepthMatchesTransformers) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  check_keep_aspect_run("zoedepth", "nk", "zoedepth_reference.json", 32, 0.2f);
}

TEST(PipelineGoldenDepthKeepAspect, DepthAnythingOnOnnxRuntimeCpu) {
  AEGISRT_SKIP_WITHOUT_ORT();
  // The same keep-aspect run on ONNX Runtime's CPU EP (not in the manifest's
  // backend list: --allow-unlisted-backend); runs in builds without OpenVINO
  // (the asan preset) too.
  const json doc = aegisrt::testing::load_golden_reference("depth_anything_reference.json");
  const json& section = doc.at("keep_aspect");
  PipelineOptions o;
  o.model = "depth_anything";
  o.variant = "vits";
  o.backend = "onnx";
  o.allow_unlisted_backend = true;
  o.onnx = golden_dir() / section.at("model").get<std::string>();
  o.precision = "fp32";
  o.backend_options["intra_op_threads"] = "1";
  auto p = Pipeline::create(o, aegisrt::testing::source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ((*p)->info().keep_aspect_multiple, 14);
  for (const auto& im : section.at("images")) {
    const std::string file = im.at("file").get<std::string>();
    SCOPED_TRACE(file);
    auto r = (*p)->run_file(golden_dir() / file);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->transform.dst_width, im.at("input_width").get<int>());
    EXPECT_EQ(r->transform.dst_height, im.at("input_height").get<int>());
    check_depth_image(*r, im, section.at("grid"), 1.0f, "depth_anything keep aspect (onnx) ", 4000);
  }
}

TEST(PipelineGoldenDepthKeepAspect, FixedSizeExportKeepsTheFixedResize) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  // The manifest has keep_aspect, the fixed 518x518 export cannot take it.
  auto p = aegisrt::testing::make_golden_pipeline("depth_anything", "vits", "depth-anything-v2-golden.onnx",
                                                  "openvino");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().keep_aspect_multiple, 0);
  auto r = p->run_file(golden_dir() / "golden_street.png");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->transform.dst_width, 518);
  EXPECT_EQ(r->transform.dst_height, 518);
}

TEST(PipelineGoldenDepthKeepAspect, RunBatchTakesOneInputSizeOnly) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  auto p = aegisrt::testing::make_golden_pipeline("depth_anything", "vits", "depth-anything-v2-golden-dynamic.onnx",
                                                  "openvino");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->max_batch(), 0);  // the dynamic export's batch axis is dynamic too
  auto street = vision::load_image(golden_dir() / "golden_street.png", 3);
  auto portrait = vision::load_image(golden_dir() / "golden_portrait.png", 3);
  ASSERT_TRUE(street.ok() && portrait.ok());
  // 640x480 -> 686x518, 720x1280 -> 518x924: refused, naming both sizes.
  const std::vector<vision::Image> mixed{*street, *portrait};
  auto bad = p->run_batch(mixed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("686x518"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().message().find("518x924"), std::string::npos) << bad.error();
  // Images of one input size run as one batch; each result is run()'s.
  auto one = p->run(*street);
  ASSERT_TRUE(one.ok()) << one.error();
  const std::vector<vision::Image> same{*street, *street};
  auto both = p->run_batch(same);
  ASSERT_TRUE(both.ok()) << both.error();
  ASSERT_EQ(both->size(), 2u);
  for (const FrameResult& r : *both) {
    EXPECT_EQ(r.transform.dst_width, 686);
    EXPECT_EQ(r.transform.dst_height, 518);
    const auto* d = r.depth();
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->depth.values.size(), one->depth()->depth.values.size());
    const float scale = std::max(std::abs(one->depth()->min_value), std::abs(one->depth()->max_value));
    double worst = 0.0;
    for (std::size_t i = 0; i < d->depth.values.size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::abs(d->depth.values[i] - one->depth()->depth.values[i])));
    }
    EXPECT_LE(worst / scale, kMaxRelError);
  }
}

}  // namespace
}  // namespace aegisrt::pipeline
