// The pipeline end to end on the generated demo detector (ONNX Runtime CPU):
// detections mapped back to original pixels match the ground truth written
// by python/gen_demo.py; JSON carries the same numbers; tracking keeps ids;
// bad inputs and selections give the documented errors.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <atomic>
#include <set>
#include <thread>

#include "aegisrt/core/file_util.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/tools/bench.h"
#include "aegisrt/vision/draw.h"
#include "demo_fixture.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using aegisrt::testing::demo_dir;
using aegisrt::testing::load_ground_truth;
using aegisrt::testing::match_ground_truth;
using aegisrt::testing::source_models_dir;
using tools::bench_to_json;
using tools::run_bench;

PipelineOptions demo_options() {
  PipelineOptions o;
  o.model = "yolo";
  o.variant = "demo";
  o.backend = "onnx";
  o.model_data_dirs = {demo_dir()};
  o.backend_options["intra_op_threads"] = "1";
  return o;
}

std::unique_ptr<Pipeline> make_demo(PipelineOptions o = demo_options()) {
  auto p = Pipeline::create(o, source_models_dir());
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? std::move(*p) : nullptr;
}

TEST(PipelineDemo, DetectionsMatchGroundTruthInOriginalPixels) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_demo();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().model, "yolo");
  EXPECT_EQ(p->info().variant, "demo");
  EXPECT_EQ(p->info().runtime_backend, "onnx");
  EXPECT_EQ(p->info().input_name, "images");
  EXPECT_EQ(p->info().preprocess.width, 320);
  EXPECT_EQ(p->info().preprocess.pad_value, 114);
  ASSERT_GE(p->info().class_names.size(), 3u);
  EXPECT_EQ(p->info().class_names[0], "red_square");  // manifest = gen_demo.py CLASSES
  EXPECT_GT(p->info().memory_budget_bytes, 0u);

  const auto truth = load_ground_truth();
  ASSERT_EQ(truth.size(), 3u);
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    auto r = p->run_file(demo_dir() / t.file);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->width, t.width);
    EXPECT_EQ(r->height, t.height);
    EXPECT_EQ(r->output_type, models::OutputType::Detections);
    for (const auto& problem : match_ground_truth(r->detections(), t)) ADD_FAILURE() << problem;
    // Letterbox geometry recorded for mapping back: centred, aspect kept.
    const float scale = std::min(320.0f / static_cast<float>(t.width), 320.0f / static_cast<float>(t.height));
    EXPECT_NEAR(r->transform.scale_x, scale, 0.01f);
    EXPECT_NEAR(r->transform.scale_y, scale, 0.01f);
    if (t.width > t.height) {
      EXPECT_EQ(r->transform.pad_x, 0);
      EXPECT_EQ(r->transform.pad_y, (320 - static_cast<int>(std::lround(t.height * scale))) / 2);
    }
    EXPECT_GT(r->timings.decode.count(), 0);
    EXPECT_GT(r->timings.execute.count(), 0);
    EXPECT_FALSE(r->deadline_missed);
  }
  const auto m = p->context().metrics();
  EXPECT_EQ(m.calls, 3u);
  EXPECT_EQ(m.errors, 0u);
  EXPECT_LE(m.memory_in_use, m.memory_budget);
}

TEST(PipelineDemo, JsonCarriesTheResult) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_demo();
  ASSERT_NE(p, nullptr);
  const auto truth = load_ground_truth();
  auto r = p->run_file(demo_dir() / truth[0].file);
  ASSERT_TRUE(r.ok()) << r.error();
  const auto j = nlohmann::json::parse(p->to_json(*r));
  EXPECT_EQ(j.at("schema"), "aegisrt.result/1");
  EXPECT_EQ(j.at("model").at("name"), "yolo");
  EXPECT_EQ(j.at("model").at("variant"), "demo");
  EXPECT_EQ(j.at("model").at("backend"), "onnx");
  EXPECT_EQ(j.at("output_type"), "detections");
  EXPECT_EQ(j.at("image").at("width"), truth[0].width);
  EXPECT_EQ(j.at("image").at("height"), truth[0].height);
  const auto& dets = j.at("detections");
  ASSERT_EQ(dets.size(), r->detections().size());
  ASSERT_EQ(dets.size(), truth[0].objects.size());
  for (std::size_t i = 0; i < dets.size(); ++i) {
    const auto& d = r->detections()[i];
    EXPECT_EQ(dets[i].at("class_id"), d.class_id);
    EXPECT_EQ(dets[i].at("class_name"), p->info().class_names[static_cast<std::size_t>(d.class_id)]);
    EXPECT_FLOAT_EQ(dets[i].at("score").get<float>(), d.score);
    EXPECT_FLOAT_EQ(dets[i].at("box").at("x1").get<float>(), d.box.x1);
    EXPECT_FLOAT_EQ(dets[i].at("box").at("y2").get<float>(), d.box.y2);
  }
  for (const char* k : {"decode", "preprocess", "execute", "postprocess", "total"}) {
    EXPECT_GE(j.at("timings_ms").at(k).get<double>(), 0.0) << k;
  }
  EXPECT_FALSE(j.contains("tracks"));
}

TEST(PipelineDemo, AnnotatedImageHasBoxesInClassColours) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_demo();
  ASSERT_NE(p, nullptr);
  const auto truth = load_ground_truth();
  auto image = vision::load_image(demo_dir() / truth[0].file, 3);
  ASSERT_TRUE(image.ok());
  auto r = p->run(*image, "mem");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->timings.decode.count(), 0);  // in-memory image: nothing decoded
  auto out = p->annotate(*image, *r);
  ASSERT_TRUE(out.ok()) << out.error();
  ASSERT_EQ(out->width(), image->width());
  ASSERT_EQ(out->height(), image->height());
  // The left edge of every box, halfway down, is drawn in its class colour.
  for (const auto& d : r->detections()) {
    const vision::Rgb c = vision::palette_color(d.class_id);
    const int x = static_cast<int>(std::lround(d.box.x1));
    const int y = static_cast<int>(std::lround((d.box.y1 + d.box.y2) / 2));
    const std::uint8_t* px = out->at(x, y);
    EXPECT_EQ((vision::Rgb{px[0], px[1], px[2]}), c) << "box of class " << d.class_id;
  }
}

TEST(PipelineDemo, TrackingKeepsIdsAcrossFrames) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = demo_options();
  o.track = true;
  auto p = make_demo(o);
  ASSERT_NE(p, nullptr);
  const auto truth = load_ground_truth();
  const fs::path frame = demo_dir() / truth[0].file;
  std::set<int> first_ids;
  for (int f = 0; f < 4; ++f) {
    auto r = p->run_file(frame);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->frame_index, f);
    std::set<int> ids;
    for (const auto& t : r->tracks()) ids.insert(t.id);
    if (f == 0) {
      first_ids = ids;
      EXPECT_EQ(ids.size(), truth[0].objects.size());
    } else {
      EXPECT_EQ(ids, first_ids) << "frame " << f;
    }
    const auto j = nlohmann::json::parse(p->to_json(*r));
    EXPECT_EQ(j.at("tracks").size(), r->tracks().size());
  }
  p->reset_tracking();
  auto r = p->run_file(frame);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->frame_index, 0);
}

TEST(PipelineInstances, ShareOneLoadedModelAndKeepTheirOwnState) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = demo_options();
  o.track = true;
  auto p = make_demo(o);
  ASSERT_NE(p, nullptr);
  auto q = p->create_instance();
  ASSERT_TRUE(q.ok()) << q.error();
  // Model state is shared: one backend object, one LoadedModel.
  ASSERT_NE(p->context().shared_model(), nullptr);
  EXPECT_EQ(p->context().shared_model(), (*q)->context().shared_model());
  EXPECT_EQ(&p->context().backend(), &(*q)->context().backend());
  EXPECT_NE(&p->context(), &(*q)->context());
  EXPECT_EQ((*q)->info().model, "yolo");
  EXPECT_EQ((*q)->info().input_name, p->info().input_name);

  const auto truth = load_ground_truth();
  ASSERT_EQ(truth.size(), 3u);
  // Instance state is not: p's frame numbering and tracker run ahead of q's.
  for (const auto& t : truth) ASSERT_TRUE(p->run_file(demo_dir() / t.file).ok());
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    auto rq = (*q)->run_file(demo_dir() / t.file);
    ASSERT_TRUE(rq.ok()) << rq.error();
    for (const auto& problem : match_ground_truth(rq->detections(), t)) ADD_FAILURE() << problem;
  }
  EXPECT_EQ(p->context().metrics().calls, 3u);
  EXPECT_EQ((*q)->context().metrics().calls, 3u);
  auto r = (*q)->run_file(demo_dir() / truth[0].file);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->frame_index, 3);

  // Both instances, each on its own thread, give the ground truth at once.
  std::atomic<int> wrong{0};
  auto worker = [&](Pipeline& pl) {
    for (int i = 0; i < 6; ++i) {
      const auto& t = truth[static_cast<std::size_t>(i) % truth.size()];
      auto rr = pl.run_file(demo_dir() / t.file);
      if (!rr.ok() || !match_ground_truth(rr->detections(), t).empty()) ++wrong;
    }
  };
  p->reset_tracking();
  (*q)->reset_tracking();
  std::thread a(worker, std::ref(*p));
  std::thread b(worker, std::ref(**q));
  a.join();
  b.join();
  EXPECT_EQ(wrong.load(), 0);
  // The first pipeline may go first: the instance keeps the model alive.
  p.reset();
  auto again = (*q)->run_file(demo_dir() / truth[1].file);
  ASSERT_TRUE(again.ok()) << again.error();
  for (const auto& problem : match_ground_truth(again->detections(), truth[1])) ADD_FAILURE() << problem;
}

/// A models folder with copies of the yolo and bytetrack manifests, edited by `edit`.
fs::path catalog_copy(const std::string& name, const std::function<void(std::string&, std::string&)>& edit) {
  const fs::path dir = fs::temp_directory_path() / ("aegisrt_track_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  std::string yolo, bt;
  for (auto [m, text] : {std::pair{"yolo", &yolo}, std::pair{"bytetrack", &bt}}) {
    auto read = aegisrt::read_file(source_models_dir() / m / "manifest.yaml", "manifest");
    *text = read.ok() ? std::move(*read) : std::string();  // empty: the catalog load then fails
  }
  edit(yolo, bt);
  for (auto [m, text] : {std::pair{"yolo", &yolo}, std::pair{"bytetrack", &bt}}) {
    fs::create_directories(dir / m);
    std::ofstream(dir / m / "manifest.yaml") << *text;
  }
  return dir;
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

TEST(PipelineDemo, TrackerSettingsComeFromTheCatalogsBytetrackEntry) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto truth = load_ground_truth();
  const fs::path frame = demo_dir() / truth[0].file;
  auto o = demo_options();
  o.track = true;
  const auto tracks_over_3_frames = [&](const fs::path& models) -> std::vector<std::size_t> {
    auto p = Pipeline::create(o, models);
    EXPECT_TRUE(p.ok()) << p.error();
    std::vector<std::size_t> counts;
    if (!p.ok()) return counts;
    auto q = (*p)->create_instance();  // the instance tracks with the same settings
    EXPECT_TRUE(q.ok());
    for (int f = 0; f < 3; ++f) {
      auto r = (*q)->run_file(frame);
      EXPECT_TRUE(r.ok());
      if (r.ok()) counts.push_back(r->tracks().size());
    }
    return counts;
  };
  const std::size_t n = truth[0].objects.size();
  // The catalog's own entry (track_high_threshold 0.5): every object is tracked.
  EXPECT_EQ(tracks_over_3_frames(source_models_dir()), (std::vector<std::size_t>{n, n, n}));
  // A bytetrack entry whose first-association threshold no score can pass: no track is born.
  const fs::path strict = catalog_copy("strict", [](std::string&, std::string& bt) {
    replace_once(bt, "track_high_threshold: 0.5", "track_high_threshold: 1.0");
  });
  EXPECT_EQ(tracks_over_3_frames(strict), (std::vector<std::size_t>{0, 0, 0}));
  // The detector's own track_* key overrides the bytetrack entry.
  const fs::path overridden = catalog_copy("override", [](std::string& yolo, std::string& bt) {
    replace_once(bt, "track_high_threshold: 0.5", "track_high_threshold: 1.0");
    replace_once(yolo, "  max_detections: 300\n", "  max_detections: 300\n  track_high_threshold: 0.5\n");
  });
  EXPECT_EQ(tracks_over_3_frames(overridden), (std::vector<std::size_t>{n, n, n}));
  fs::remove_all(strict);
  fs::remove_all(overridden);
}

TEST(PipelineDemo, BenchReportsConsistentStages) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_demo();
  ASSERT_NE(p, nullptr);
  const auto truth = load_ground_truth();
  std::vector<fs::path> images;
  for (const auto& t : truth) images.push_back(demo_dir() / t.file);
  auto rep = run_bench(*p, images, {.iterations = 6, .warmup = 1});
  ASSERT_TRUE(rep.ok()) << rep.error();
  EXPECT_EQ(rep->total.count, 6u);
  EXPECT_EQ(rep->total_samples_ms.size(), 6u);
  // Each image's total is the sum of its stages, so the means add up.
  const double stages = rep->decode.mean_ms + rep->preprocess.mean_ms + rep->execute.mean_ms +
                        rep->postprocess.mean_ms;
  EXPECT_NEAR(stages, rep->total.mean_ms, 1e-6 * rep->total.mean_ms + 1e-9);
  EXPECT_NEAR(rep->images_per_second, 1000.0 / rep->total.mean_ms, 1e-6 * rep->images_per_second);
  // 6 timed images cycle the 3 demo images twice: 2 * (6 + 5 + 4) / 6 = 5 detections each.
  EXPECT_DOUBLE_EQ(rep->detections_per_image, 5.0);
  EXPECT_GT(rep->load_ms, 0.0);
  EXPECT_GT(rep->first_image_ms, 0.0);
  const auto j = nlohmann::json::parse(bench_to_json(*rep, p->info()));
  EXPECT_EQ(j.at("schema"), "aegisrt.bench/1");
  EXPECT_DOUBLE_EQ(j.at("warm_ms").at("total").at("p99").get<double>(), rep->total.p99_ms);
  EXPECT_EQ(j.at("latency_samples_ms").size(), 6u);

  // Three streams over one loaded model: every timed image once, each of the
  // 3 images 3 times, so (6 + 5 + 4) / 3 = 5 detections each again.
  auto streams = run_bench(*p, images, {.iterations = 9, .warmup = 1, .streams = 3});
  ASSERT_TRUE(streams.ok()) << streams.error();
  EXPECT_EQ(streams->streams, 3);
  EXPECT_EQ(streams->total.count, 9u);
  EXPECT_DOUBLE_EQ(streams->detections_per_image, 5.0);
  EXPECT_GT(streams->wall_images_per_second, 0.0);
  EXPECT_EQ(nlohmann::json::parse(bench_to_json(*streams, p->info())).at("streams"), 3);
  auto both = run_bench(*p, images, {.iterations = 2, .warmup = 0, .prefetch = 1, .streams = 2});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code(), ErrorCode::InvalidArgument);
  EXPECT_FALSE(run_bench(*p, images, {.iterations = 2, .streams = 0}).ok());

  // Decode-ahead gives the same images in the same order, so the same results.
  auto ahead = run_bench(*p, images, {.iterations = 6, .warmup = 1, .prefetch = 2});
  ASSERT_TRUE(ahead.ok()) << ahead.error();
  EXPECT_EQ(ahead->prefetch, 2);
  EXPECT_EQ(ahead->total.count, 6u);
  EXPECT_DOUBLE_EQ(ahead->detections_per_image, 5.0);
  EXPECT_GT(ahead->decode.min_ms, 0.0);
  EXPECT_GT(ahead->wall_images_per_second, 0.0);
  // A decode error surfaces from the helper thread too.
  auto missing = run_bench(*p, {demo_dir() / "missing.png"}, {.iterations = 2, .warmup = 0, .prefetch = 1});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);

  EXPECT_EQ(run_bench(*p, {}, {}).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(run_bench(*p, images, {.iterations = 0, .warmup = 0}).error().code(),
            ErrorCode::InvalidArgument);
}

TEST(PipelineErrors, MissingAndCorruptImagesNameTheFile) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = make_demo();
  ASSERT_NE(p, nullptr);
  auto missing = p->run_file(demo_dir() / "no_such_image.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().to_string().find("no_such_image.png"), std::string::npos);

  const fs::path corrupt = fs::temp_directory_path() / "aegisrt_pipeline_corrupt.png";
  std::ofstream(corrupt, std::ios::binary) << "\x89PNG\r\n\x1a\nthis is not really a png";
  auto bad = p->run_file(corrupt);
  fs::remove(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().to_string().find("aegisrt_pipeline_corrupt.png"), std::string::npos);
  // A failed image does not break the pipeline.
  EXPECT_TRUE(p->run_file(demo_dir() / load_ground_truth()[0].file).ok());
}

TEST(PipelineErrors, UnsupportedSelectionsAreRefusedWithWhatIsSupported) {
  auto o = demo_options();
  o.variant = "v9000";
  auto r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("demo"), std::string::npos) << r.error();  // lists variants

  o = demo_options();
  o.model = "no_such_model";
  r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);

  o = demo_options();
  o.precision = "fp64";
  r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);

  o = demo_options();
  o.backend = "not_a_backend";
  r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
}

TEST(PipelineErrors, MissingOnnxSaysHowToExportIt) {
  if (!::aegisrt::build::kHaveOnnxRuntime) {
    // Without ONNX Runtime the backend is refused before any file is looked
    // for, and the error says how to get it; the export hint needs the backend.
    auto r = Pipeline::create(demo_options(), source_models_dir());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
    EXPECT_NE(r.error().message().find("backend 'onnx' is not available in this build"), std::string::npos)
        << r.error();
    EXPECT_NE(r.error().message().find("AEGISRT_WITH_ONNXRUNTIME"), std::string::npos) << r.error();
    return;
  }
  auto o = demo_options();
  o.variant = "";  // the default variant: a real YOLO whose ONNX is not shipped
  o.model_data_dirs = {fs::temp_directory_path() / "aegisrt_no_models_here"};
  auto r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound) << r.error();
  EXPECT_NE(r.error().message().find("export"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("--onnx"), std::string::npos) << r.error();

  o = demo_options();
  o.onnx = "/nonexistent/model.onnx";
  r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().to_string().find("/nonexistent/model.onnx"), std::string::npos);
}

TEST(PipelineErrors, ModelWhoseInputDoesNotMatchTheManifestIsRefused) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = demo_options();
  o.onnx = fs::path(AEGISRT_TEST_DATA_DIR) / "models" / "affine.onnx";  // x: [N, 4]
  auto r = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
  EXPECT_NE(r.error().message().find("1x3x320x320"), std::string::npos) << r.error();
}

TEST(PipelineErrors, ThresholdOverridesAreValidatedAndApplied) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto o = demo_options();
  o.confidence_threshold = 1.5f;
  auto bad = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);

  o = demo_options();
  o.max_detections = 2;
  auto p = make_demo(o);
  ASSERT_NE(p, nullptr);
  auto r = p->run_file(demo_dir() / load_ground_truth()[0].file);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->detections().size(), 2u);
}

}  // namespace
}  // namespace aegisrt::pipeline
