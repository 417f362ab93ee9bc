// `aegisrt run` and `aegisrt bench` through the built binary: exit codes,
// files written (annotated PNG that decodes, JSON with the detections),
// summary lines, the bench JSON and histogram, and plain-word errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "aegisrt/core/file_util.h"
#include "aegisrt/vision/image.h"
#include "cli/cli_test_util.h"
#include "demo_fixture.h"
#include "golden_fixture.h"
#include "vision/jpeg_test_util.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using aegisrt::testing::demo_dir;
using aegisrt::testing::load_ground_truth;
using aegisrt::testing::match_ground_truth;
using aegisrt::testing::source_models_dir;

using CommandResult = aegisrt::testing::CliRun;
using aegisrt::testing::run_cli;
using aegisrt::testing::shell_quote;
using aegisrt::testing::TempDir;

std::string slurp(const fs::path& p) {
  auto r = aegisrt::read_file(p, "test output");
  return r.ok() ? *r : std::string();
}

class CliTest : public ::testing::Test {
 protected:
  /// Runs `aegisrt --models-dir <source models> ARGS`, capturing stdout/stderr.
  CommandResult aegisrt(const std::string& args) {
    return run_cli("--models-dir " + shell_quote(source_models_dir().string()) + " " + args, tmp_);
  }
  std::string demo_args() const {
    return "--model yolo --variant demo --backend onnx --threads 1 --model-data '" + demo_dir().string() + "'";
  }
  TempDir tmp_;
  fs::path work_ = tmp_.path();
};

TEST_F(CliTest, HelpForEveryCommand) {
  for (const char* c : {"run", "bench"}) {
    auto r = aegisrt(std::string(c) + " --help");
    EXPECT_EQ(r.exit_code, 0) << c << r.err;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << c;
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << c;
  }
}

TEST_F(CliTest, RunWritesAnnotatedPngAndJsonPerImage) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const fs::path outdir = work_ / "out";
  auto r = aegisrt("run " + demo_args() + " --input '" + demo_dir().string() + "' --output '" +
                   outdir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto truth = load_ground_truth();
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    const std::string stem = fs::path(t.file).stem().string();
    // One summary line per image, naming the file and its detection count.
    EXPECT_NE(r.out.find(t.file + ": " + std::to_string(t.width) + "x" + std::to_string(t.height) + ", " +
                         std::to_string(t.objects.size()) + " detections"),
              std::string::npos)
        << r.out;
    auto png = vision::load_image(outdir / (stem + ".annotated.png"), 3);
    ASSERT_TRUE(png.ok()) << png.error();
    EXPECT_EQ(png->width(), t.width);
    EXPECT_EQ(png->height(), t.height);
    const auto j = nlohmann::json::parse(slurp(outdir / (stem + ".json")));
    std::vector<vision::Detection> dets;
    for (const auto& d : j.at("detections")) {
      const auto& b = d.at("box");
      dets.push_back({vision::Box{b.at("x1").get<float>(), b.at("y1").get<float>(), b.at("x2").get<float>(),
                                  b.at("y2").get<float>()},
                      d.at("score").get<float>(), d.at("class_id").get<int>()});
    }
    for (const auto& problem : match_ground_truth(dets, t)) ADD_FAILURE() << problem;
  }
}

TEST_F(CliTest, RunJsonPrintsTheDocumentOnStdout) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto truth = load_ground_truth();
  auto r = aegisrt("run " + demo_args() + " --json --input '" + (demo_dir() / truth[2].file).string() +
                   "' --output '" + (work_ / "o").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("schema"), "aegisrt.result/1");
  EXPECT_EQ(j.at("detections").size(), truth[2].objects.size());
}

// The catalog's depth_anything through `aegisrt run`, fed the golden tiny
// Depth Anything V2 (--onnx) on OpenVINO CPU (the manifest's own CPU
// backend): the JSON's depth range is transformers' own (reference run of
// python/gen_golden_depth.py) within the 1e-3, and the annotated
// picture is the colour-mapped depth at the image size.
TEST_F(CliTest, RunDepthAnythingGivesTheReferenceRangeAndAColourMap) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  using aegisrt::testing::golden_dir;
  const auto ref = aegisrt::testing::load_golden_reference("depth_anything_reference.json");
  const auto& im = ref.at("images")[0];
  const fs::path out = work_ / "o";
  auto r = aegisrt("run --model depth_anything --backend openvino --threads 1 --onnx '" +
                   (golden_dir() / "depth-anything-v2-golden.onnx").string() + "' --json --input '" +
                   (golden_dir() / im.at("file").get<std::string>()).string() + "' --output '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("output_layout"), "relative_inverse_depth");
  const double lo = im.at("min").get<double>();
  const double hi = im.at("max").get<double>();
  const double scale = std::max(std::abs(lo), std::abs(hi));
  EXPECT_LE(std::abs(j.at("depth").at("min").get<double>() - lo) / scale, 1e-3);
  EXPECT_LE(std::abs(j.at("depth").at("max").get<double>() - hi) / scale, 1e-3);
  auto png = vision::load_image(out / (fs::path(im.at("file").get<std::string>()).stem().string() + ".annotated.png"), 3);
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), im.at("width").get<int>());
  EXPECT_EQ(png->height(), im.at("height").get<int>());
}

// RTMPose top-down (docs/PIPELINE.md "RTMPose"): the detector part's file
// through --part-onnx; every person gets 17 keypoints and the picture is written.
TEST_F(CliTest, RunRtmposeDrawsEveryDetectedPerson) {
  using aegisrt::testing::golden_dir;
  const auto ref = aegisrt::testing::load_golden_reference("rtmpose_reference.json");
  const auto& im = ref.at("images")[0];
  const fs::path out = work_ / "o";
  auto r = aegisrt("run --model rtmpose --backend onnx --threads 1 --onnx '" +
                   (golden_dir() / "rtmpose-golden.onnx").string() + "' --part-onnx 'detector=" +
                   (golden_dir() / "yolov8-person-golden.onnx").string() + "' --json --input '" +
                   (golden_dir() / im.at("file").get<std::string>()).string() + "' --output '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("output_layout"), "simcc");
  ASSERT_EQ(j.at("detections").size(), im.at("persons").size());
  for (const auto& d : j.at("detections")) {
    EXPECT_EQ(d.at("class_name"), "person");
    EXPECT_EQ(d.at("keypoints").size(), 17U);
  }
  auto png = vision::load_image(out / (fs::path(im.at("file").get<std::string>()).stem().string() + ".annotated.png"), 3);
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), im.at("width").get<int>());
  // A --part-onnx for a part the model does not have is refused (exit 3).
  auto bad = aegisrt("run --model rtmpose --backend onnx --onnx '" + (golden_dir() / "rtmpose-golden.onnx").string() +
                     "' --part-onnx 'decoder=x.onnx' --input '" +
                     (golden_dir() / im.at("file").get<std::string>()).string() + "' --output '" + out.string() + "'");
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("has no part 'decoder'"), std::string::npos) << bad.err;
}

// The catalog's zoedepth through `aegisrt run`, fed the golden tiny ZoeDepth
// (--onnx) on OpenVINO CPU: the JSON's metric depth range (metres) is
// transformers' own (python/gen_golden_zoedepth.py) within 1e-3, and the
// annotated picture is the colour-mapped depth at the image size.
TEST_F(CliTest, RunZoeDepthGivesTheReferenceRangeInMetresAndAColourMap) {
  AEGISRT_SKIP_WITHOUT_OPENVINO();
  using aegisrt::testing::golden_dir;
  const auto ref = aegisrt::testing::load_golden_reference("zoedepth_reference.json");
  for (const auto& im : ref.at("images")) {
    const fs::path out = work_ / "zoe";
    auto r = aegisrt("run --model zoedepth --backend openvino --threads 1 --onnx '" +
                     (golden_dir() / "zoedepth-golden.onnx").string() + "' --json --input '" +
                     (golden_dir() / im.at("file").get<std::string>()).string() + "' --output '" + out.string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("output_layout"), "metric_depth");
    EXPECT_EQ(j.at("depth").at("kind"), "metric");
    EXPECT_EQ(j.at("depth").at("unit"), "m");
    const double lo = im.at("min").get<double>();
    const double hi = im.at("max").get<double>();
    const double scale = std::max(std::abs(lo), std::abs(hi));
    EXPECT_LE(std::abs(j.at("depth").at("min").get<double>() - lo) / scale, 1e-3);
    EXPECT_LE(std::abs(j.at("depth").at("max").get<double>() - hi) / scale, 1e-3);
    auto png =
        vision::load_image(out / (fs::path(im.at("file").get<std::string>()).stem().string() + ".annotated.png"), 3);
    ASSERT_TRUE(png.ok()) << png.error();
    EXPECT_EQ(png->width(), im.at("width").get<int>());
    EXPECT_EQ(png->height(), im.at("height").get<int>());
  }
}

TEST_F(CliTest, BenchDevicePathFlag) {
  AEGISRT_SKIP_WITHOUT_ORT();
  // off: the CPU path, and the JSON says so.
  auto r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --json --device-path off");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.at("device_path").at("used").get<bool>());
  EXPECT_NE(j.at("device_path").at("reason").get<std::string>().find("switched off"), std::string::npos);
  // No device path: the YOLO output is decoded on the host, and the JSON says why.
  EXPECT_FALSE(j.at("gpu_postprocess").at("used").get<bool>());
  EXPECT_NE(j.at("gpu_postprocess").at("reason").get<std::string>().find("needs the device path, which is off"),
            std::string::npos);
  // auto on a CPU backend: the CPU path, with the reason in the text report.
  r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("device path: off (backend 'onnx' as loaded takes no device inputs"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("post-proc. : host (post-processing on the GPU needs the device path"), std::string::npos)
      << r.out;
  // require on a CPU backend: refused at creation (exit 3, the reason named).
  r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --device-path require");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("takes no device inputs"), std::string::npos) << r.err;
  // Not a mode: a flag error.
  r = aegisrt("bench " + demo_args() + " --device-path gpu");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(CliTest, BenchDecodeFlag) {
  AEGISRT_SKIP_WITHOUT_ORT();
  // auto on a CPU backend: CPU decode, the reason in the JSON and the text report.
  auto r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("decoder").at("configured").get<std::string>(), "cpu");
  EXPECT_NE(j.at("decoder").at("reason").get<std::string>().find("needs the device path"), std::string::npos);
  EXPECT_EQ(j.at("decoder").at("gpu_decoded_images").get<int>(), 0);
  r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --decode cpu");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("decoder    : cpu (CPU decode asked for"), std::string::npos) << r.out;
  // gpu without the device path (or without CUDA / nvJPEG): refused at creation, exit 3, the reason named.
  r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --decode gpu");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("decode = gpu"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("takes no device inputs"), std::string::npos) << r.err;
  // gpu-hw (the hardware JPEG engine) is a mode of the flag: refused the same way here.
  r = aegisrt("bench " + demo_args() + " --iterations 2 --warmup 0 --decode gpu-hw");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("decode = gpu-hw"), std::string::npos) << r.err;
  // run takes the flag too.
  r = aegisrt("run " + demo_args() + " --decode gpu --input " + shell_quote(demo_dir().string()) + " --output " +
              shell_quote((work_ / "gpu_decode").string()));
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  // Not a mode: a flag error.
  r = aegisrt("bench " + demo_args() + " --decode nvjpeg");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(CliTest, BenchPrintsPercentilesAndWritesHistogram) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const fs::path hist = work_ / "plots" / "latency.png";
  auto r = aegisrt("bench " + demo_args() + " --input '" + demo_dir().string() +
                   "' --iterations 5 --warmup 1 --histogram '" + hist.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"p50", "p90", "p99", "max", "images/s", "cold start", "decode", "preprocess",
                           "execute", "postprocess"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
  }
  auto png = vision::load_image(hist, 3);
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), 800);
  EXPECT_EQ(png->height(), 480);

  r = aegisrt("bench " + demo_args() + " --iterations 3 --warmup 0 --json");  // synthetic input
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("iterations"), 3);
  EXPECT_EQ(j.at("latency_samples_ms").size(), 3u);
  const auto& total = j.at("warm_ms").at("total");
  EXPECT_LE(total.at("p50").get<double>(), total.at("p99").get<double>());
  EXPECT_LE(total.at("p99").get<double>(), total.at("max").get<double>());
  EXPECT_GT(j.at("images_per_second").get<double>(), 0.0);
  EXPECT_GT(j.at("cold_start_ms").at("load").get<double>(), 0.0);
}

TEST_F(CliTest, BadInputsGiveDocumentedExitCodesAndPlainErrors) {
  // Missing image: invalid input (3), names the file.
  auto r = aegisrt("run " + demo_args() + " --input '" + (work_ / "missing.png").string() + "' --output '" +
                   (work_ / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("missing.png"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;

  // Unknown model: 3, with the known ones suggested.
  r = aegisrt("run --model yolov8 --input '" + demo_dir().string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("yolo"), std::string::npos) << r.err;

  // Missing required flag / unknown flag: usage error 2.
  EXPECT_EQ(aegisrt("run --model yolo").exit_code, 2);
  EXPECT_EQ(aegisrt("bench --model yolo --iterations 0").exit_code, 2);
  EXPECT_EQ(aegisrt("run --model yolo --input x --frobnicate").exit_code, 2);

  // Malformed --backend-option: 3.
  r = aegisrt("run " + demo_args() + " --backend-option nonsense --input '" + demo_dir().string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("KEY=VALUE"), std::string::npos) << r.err;
}

TEST_F(CliTest, CorruptImageIsARuntimeErrorButOtherImagesStillRun) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const fs::path in = work_ / "in";
  fs::create_directories(in);
  const auto truth = load_ground_truth();
  fs::copy_file(demo_dir() / truth[0].file, in / "a_good.png");
  std::ofstream(in / "b_corrupt.png", std::ios::binary) << "not an image at all";
  const fs::path outdir = work_ / "out";
  auto r = aegisrt("run " + demo_args() + " --input '" + in.string() + "' --output '" + outdir.string() + "'");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("b_corrupt.png"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(outdir / "a_good.annotated.png"));
  EXPECT_TRUE(fs::exists(outdir / "a_good.json"));
  EXPECT_FALSE(fs::exists(outdir / "b_corrupt.json"));
}

TEST_F(CliTest, RunAppliesExifOrientationUnlessToldNot) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto truth = load_ground_truth();
  const aegisrt::testing::TruthImage* wide = nullptr;
  for (const auto& t : truth)
    if (t.width > t.height) wide = &t;
  ASSERT_NE(wide, nullptr);
  // The wide demo image stored sideways with Orientation 6 (rotate 90 clockwise to view).
  auto upright = vision::load_image(demo_dir() / wide->file);
  ASSERT_TRUE(upright.ok()) << upright.error();
  const auto stored = vision::apply_exif_orientation(*upright, 8).value();
  const auto jpeg = aegisrt::testing::with_segment(aegisrt::testing::encode_jpeg(stored), aegisrt::testing::exif_app1(6));
  const fs::path file = work_ / "sideways.jpg";
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(jpeg.data()),
                                              static_cast<std::streamsize>(jpeg.size()));
  for (const bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "--no-exif-rotate" : "default");
    const fs::path outdir = work_ / (keep ? "raw" : "upright");
    auto r = aegisrt("run " + demo_args() + " --input '" + file.string() + "' --output '" + outdir.string() + "' --json" +
                     (keep ? " --no-exif-rotate" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("image").at("exif_orientation"), 6);
    EXPECT_EQ(j.at("image").at("orientation_applied"), !keep);
    EXPECT_EQ(j.at("image").at("width"), keep ? wide->height : wide->width);
    auto annotated = vision::load_image(outdir / "sideways.annotated.png");
    ASSERT_TRUE(annotated.ok()) << annotated.error();
    EXPECT_EQ(annotated->width(), keep ? wide->height : wide->width);
    EXPECT_EQ(annotated->height(), keep ? wide->width : wide->height);
  }
}

// Segment Anything (docs/PIPELINE.md "Segment Anything"): the manifest lists
// cuda only, so a CPU run needs --allow-unlisted-backend, which says so on
// stderr; --point prompts write the overlay and the JSON.
TEST_F(CliTest, RunSegmentAnythingWithPointsWritesOverlayAndJson) {
  AEGISRT_SKIP_WITHOUT_ORT();
  using aegisrt::testing::golden_dir;
  const fs::path out = work_ / "o";
  const std::string models = "--model segment_anything --backend onnx --threads 1 --onnx '" +
                             (golden_dir() / "sam-golden-encoder.onnx").string() + "' --part-onnx 'prompt_decoder=" +
                             (golden_dir() / "sam-golden-decoder.onnx").string() + "' --input '" +
                             (golden_dir() / "golden_street.png").string() + "' --output '" + out.string() + "'";
  auto refused = aegisrt("run " + models + " --point 200,300");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--allow-unlisted-backend"), std::string::npos) << refused.err;

  auto r = aegisrt("run " + models + " --allow-unlisted-backend --point 200,300 --point 450,120,0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--allow-unlisted-backend: running segment_anything on backend onnx"), std::string::npos)
      << r.err;
  const auto j = nlohmann::json::parse(slurp(out / "golden_street.json"));
  EXPECT_EQ(j.at("output_layout"), "sam_masks");
  ASSERT_EQ(j.at("prompts").size(), 1U);
  EXPECT_EQ(j.at("prompts")[0].at("points").size(), 2U);
  EXPECT_GT(j.at("prompts")[0].at("mask_area").get<int>(), 0);
  EXPECT_LT(j.at("prompts")[0].at("mask_area").get<int>(), 640 * 480);
  auto png = vision::load_image(out / "golden_street.annotated.png", 3);
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), 640);
  EXPECT_EQ(png->height(), 480);
}

// Without --point/--box the catalog's `detector` part (yolo v8n; here its
// file is the golden person detector) gives one prompt per box: one mask per
// detected person of golden_people.png, each from source "detector", its box
// one of the reference's (python/gen_golden_sam.py "detector_prompts"). The
// mask values are GoldenSam.DetectorBoxesArePrompts' job; here --max-det 6
// (passed on to the detector part) keeps the run short: the 6 best boxes.
TEST_F(CliTest, RunSegmentAnythingWithTheDetectorPartWritesAMaskPerBox) {
  AEGISRT_SKIP_WITHOUT_ORT();
  using aegisrt::testing::golden_dir;
  const auto ref = aegisrt::testing::load_golden_reference("sam_reference.json").at("detector_prompts");
  constexpr std::size_t boxes = 6;
  ASSERT_GT(ref.at("masks").size(), boxes);
  const fs::path out = work_ / "o";
  auto r = aegisrt("run --model segment_anything --backend onnx --allow-unlisted-backend --threads 1 --onnx '" +
                   (golden_dir() / "sam-golden-encoder.onnx").string() + "' --part-onnx 'prompt_decoder=" +
                   (golden_dir() / "sam-golden-decoder.onnx").string() + "' --part-onnx 'detector=" +
                   (golden_dir() / ref.at("detector").get<std::string>()).string() + "' --input '" +
                   (golden_dir() / "golden_people.png").string() + "' --output '" + out.string() + "' --max-det 6");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(out / "golden_people.json"));
  EXPECT_EQ(j.at("output_layout"), "sam_masks");
  ASSERT_EQ(j.at("prompts").size(), boxes);
  std::size_t nonempty = 0;
  for (const auto& p : j.at("prompts")) {
    EXPECT_EQ(p.at("source"), "detector");
    EXPECT_TRUE(p.at("points").empty());
    ASSERT_EQ(p.at("box").size(), 4U);
    float nearest = 1e30f;  // largest corner distance to the nearest of the reference's best boxes
    for (std::size_t k = 0; k < boxes; ++k) {
      const auto& b = ref.at("masks")[k].at("box");
      nearest = std::min(nearest, std::max({std::abs(p.at("box").at("x1").get<float>() - b[0].get<float>()),
                                            std::abs(p.at("box").at("y1").get<float>() - b[1].get<float>()),
                                            std::abs(p.at("box").at("x2").get<float>() - b[2].get<float>()),
                                            std::abs(p.at("box").at("y2").get<float>() - b[3].get<float>())}));
    }
    EXPECT_LE(nearest, 1.0f) << p.at("box").dump();
    EXPECT_EQ(p.at("mask_rle").at("size"), nlohmann::json::array({2560, 1920}));
    nonempty += p.at("mask_area").get<long>() > 0 ? 1 : 0;
  }
  EXPECT_GT(nonempty, boxes / 2);
  auto png = vision::load_image(out / "golden_people.annotated.png", 3);
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), 1920);
  EXPECT_EQ(png->height(), 2560);
}

// No prompt and no file for the detector part: the error names the part, the
// file looked for and what to pass instead. A --point run needs no detector file.
TEST_F(CliTest, RunSegmentAnythingWithoutPromptOrDetectorFileNamesThePart) {
  AEGISRT_SKIP_WITHOUT_ORT();
  using aegisrt::testing::golden_dir;
  const std::string args = "run --model segment_anything --backend onnx --allow-unlisted-backend --threads 1 "
                           "--onnx '" + (golden_dir() / "sam-golden-encoder.onnx").string() +
                           "' --part-onnx 'prompt_decoder=" + (golden_dir() / "sam-golden-decoder.onnx").string() +
                           "' --input '" + (golden_dir() / "golden_street.png").string() + "' --output '" +
                           (work_ / "o").string() + "'";
  aegisrt::testing::CliOptions no_env;
  no_env.env_prefix = "env -u AEGISRT_MODEL_DATA ";
  auto r = run_cli("--models-dir " + shell_quote(source_models_dir().string()) + " " + args, tmp_, no_env);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("segment_anything part 'detector' (yolo variant v8n)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("yolov8n.onnx"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--part-onnx detector=FILE"), std::string::npos) << r.err;
  auto ok = run_cli("--models-dir " + shell_quote(source_models_dir().string()) + " " + args + " --point 200,300",
                    tmp_, no_env);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(CliTest, RunSegmentAnythingRefusesMalformedPrompts) {
  using aegisrt::testing::golden_dir;
  for (const char* bad : {"--point 1,x", "--point 1,2,5", "--box 5,5,1,1", "--box 1,2,3"}) {
    SCOPED_TRACE(bad);
    auto r = aegisrt("run --model segment_anything --backend onnx --allow-unlisted-backend --input '" +
                     (golden_dir() / "golden_street.png").string() + "' " + bad);
    EXPECT_NE(r.exit_code, 0);
    const std::string opt = std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_NE(r.err.find(opt), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace aegisrt::pipeline
