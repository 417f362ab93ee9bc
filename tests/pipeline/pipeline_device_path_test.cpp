// The device-resident pipeline (src/pipeline/device_path.*, issue 16 item 1).
//
// CPU (run everywhere): which variants/backends get the device path
// (device_path_refusal), the mode names, and what create() does with
// device_path off / auto / require on a CPU backend.
//
// GPU (skip, with the reason, without ONNX Runtime's CUDA provider or a CUDA
// device): on the demo detector and the golden YOLO segment / pose models,
// backend cuda with the device path gives the same results as backend cuda
// with the CPU path (same classes, box IoU >= 0.99, scores within 1e-3,
// keypoints within 0.1 px, mask IoU >= 0.99), and the model input the
// device path writes equals vision::preprocess within 1e-5.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "demo_fixture.h"
#include "golden_fixture.h"
#include "pipeline/device_path.h"

#if AEGISRT_TEST_HAVE_CUDA
#include "aegisrt/cuda/tensor_ops.h"
#endif

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using aegisrt::testing::demo_dir;
using aegisrt::testing::golden_dir;
using aegisrt::testing::source_models_dir;
using detail::DevicePathQuery;
using detail::device_path_refusal;

// ---------------------------------------------------------------- CPU: path selection

BackendCapabilities cuda_caps() {
  BackendCapabilities c;
  c.devices = {DeviceKind::CPU, DeviceKind::CUDA};
  c.device_inputs = true;
  c.device_outputs = true;
  return c;
}

/// A query the device path accepts: ORT's CUDA EP, float32 input, YOLO pre-processing.
DevicePathQuery accepted() {
  DevicePathQuery q;
  q.mode = DevicePathMode::Auto;
  q.kernel_compiled = true;
  q.input_dtype = DType::Float32;
  q.runtime_backend = "onnx";
  q.device = Device::cuda(0);
  q.capabilities = cuda_caps();
  return q;
}

TEST(DevicePathSelection, AcceptsBilinearFloat32OnABackendWithDeviceInputs) {
  EXPECT_EQ(device_path_refusal(accepted()), "");
  // Every layout / colour order / resize mode the kernel implements.
  for (auto layout : {vision::Layout::NCHW, vision::Layout::NHWC}) {
    for (auto order : {vision::ColorOrder::RGB, vision::ColorOrder::BGR}) {
      for (auto resize : {vision::ResizeMode::Letterbox, vision::ResizeMode::Stretch}) {
        DevicePathQuery q = accepted();
        q.preprocess.layout = layout;
        q.preprocess.color_order = order;
        q.preprocess.resize = resize;
        q.preprocess.mean = {0.485f, 0.456f, 0.406f};
        q.preprocess.std = {0.229f, 0.224f, 0.225f};
        EXPECT_EQ(device_path_refusal(q), "") << to_string(layout) << " " << to_string(order);
      }
    }
  }
  DevicePathQuery trt = accepted();
  trt.runtime_backend = "tensorrt";
  EXPECT_EQ(device_path_refusal(trt), "");
  DevicePathQuery tvm = accepted();
  tvm.runtime_backend = "tvm";
  EXPECT_EQ(device_path_refusal(tvm), "");
}

TEST(DevicePathSelection, RefusesWhatTheKernelOrBackendCannotDo) {
  const auto refusal = [](auto change) {
    DevicePathQuery q = accepted();
    change(q);
    return device_path_refusal(q);
  };
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.mode = DevicePathMode::Off; }).find("off"), std::string::npos);
  // A CPU backend (ORT CPU EP, TVM llvm, OpenVINO): no device inputs.
  const std::string cpu = refusal([](DevicePathQuery& q) {
    q.capabilities = BackendCapabilities{};
    q.device = Device::cpu();
  });
  EXPECT_NE(cpu.find("takes no device inputs"), std::string::npos) << cpu;
  EXPECT_NE(cpu.find("'onnx'"), std::string::npos) << cpu;
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.kernel_compiled = false; }).find("CUDA toolkit"),
            std::string::npos);
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.preprocess.interpolation = vision::Interpolation::Bicubic; })
                .find("bicubic"),
            std::string::npos);
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.preprocess.border = vision::BorderMode::Reflect; }).find("border"),
            std::string::npos);
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.preprocess.align_corners = true; }).find("align_corners"),
            std::string::npos);
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.input_dtype = DType::Float16; }).find("float16"), std::string::npos);
  EXPECT_NE(refusal([](DevicePathQuery& q) { q.top_down = true; }).find("top-down"), std::string::npos);
  // input.preprocessing.keep_aspect on a dynamic-size export: one input size per image.
  const std::string dynamic = refusal([](DevicePathQuery& q) { q.keep_aspect_multiple = 14; });
  EXPECT_NE(dynamic.find("dynamic input size"), std::string::npos) << dynamic;
  EXPECT_NE(dynamic.find("multiple of 14"), std::string::npos) << dynamic;
}

TEST(DevicePathSelection, OnlyTensorRtFollowsTheKernelOnTheRequestStream) {
  EXPECT_TRUE(detail::backend_uses_request_stream("tensorrt"));
  EXPECT_FALSE(detail::backend_uses_request_stream("onnx"));  // ORT CUDA EP: its own stream
  EXPECT_FALSE(detail::backend_uses_request_stream("tvm"));
  EXPECT_FALSE(detail::backend_uses_request_stream("openvino"));
}

TEST(DevicePathSelection, CatalogVariants) {
  // The source catalog's pre-processing: YOLO letterbox (bilinear) goes to the
  // GPU; Depth Anything (Pillow bicubic) and ZoeDepth (reflect border +
  // align_corners) stay on the CPU.
  auto catalog = models::ModelCatalog::load_directory(source_models_dir());
  ASSERT_TRUE(catalog.ok()) << catalog.error();
  const auto query_for = [&](const std::string& model, const std::string& variant) {
    DevicePathQuery q = accepted();
    auto m = catalog->get(model);
    EXPECT_TRUE(m.ok()) << m.error();
    if (!m.ok()) return q;
    auto rv = (*m)->resolve(variant);
    EXPECT_TRUE(rv.ok()) << rv.error();
    if (!rv.ok()) return q;
    auto cfg = make_preprocess_config(rv->input, model);
    EXPECT_TRUE(cfg.ok()) << cfg.error();
    if (cfg.ok()) q.preprocess = *cfg;
    return q;
  };
  EXPECT_EQ(device_path_refusal(query_for("yolo", "demo")), "");
  EXPECT_EQ(device_path_refusal(query_for("yolo", "v8n-seg")), "");
  EXPECT_EQ(device_path_refusal(query_for("yolo", "v8n-pose")), "");
  EXPECT_NE(device_path_refusal(query_for("depth_anything", "")).find("bicubic"), std::string::npos);
  EXPECT_NE(device_path_refusal(query_for("zoedepth", "")).find("border"), std::string::npos);
}

TEST(DevicePathMode, NamesRoundTrip) {
  for (auto m : {DevicePathMode::Auto, DevicePathMode::Off, DevicePathMode::Require}) {
    auto parsed = parse_device_path_mode(to_string(m));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, m);
  }
  auto bad = parse_device_path_mode("gpu");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("auto, off, require"), std::string::npos);
}

// ---------------------------------------------------------------- CPU: create() on a CPU backend

PipelineOptions demo_options(const std::string& backend, DevicePathMode mode) {
  PipelineOptions o;
  o.model = "yolo";
  o.variant = "demo";
  o.backend = backend;
  o.model_data_dirs = {demo_dir()};
  o.backend_options["intra_op_threads"] = "1";
  o.device_path = mode;
  return o;
}

TEST(DevicePathPipeline, CpuBackendRunsTheCpuPathAndSaysWhy) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(demo_options("onnx", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_FALSE((*p)->info().device_path);
  EXPECT_NE((*p)->info().device_path_reason.find("takes no device inputs"), std::string::npos)
      << (*p)->info().device_path_reason;
  auto off = Pipeline::create(demo_options("onnx", DevicePathMode::Off), source_models_dir());
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_FALSE((*off)->info().device_path);
  EXPECT_NE((*off)->info().device_path_reason.find("switched off"), std::string::npos);
}

TEST(DevicePathPipeline, RequireOnACpuBackendFailsWithTheReason) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(demo_options("onnx", DevicePathMode::Require), source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(p.error().message().find("takes no device inputs"), std::string::npos) << p.error();
}

// ---------------------------------------------------------------- GPU: device path == CPU path

/// Skips unless this build has the kernel, a CUDA device is usable and ONNX
/// Runtime's CUDA provider loads (a pipeline on backend cuda with the CPU
/// path can be created); hands back that CPU-path pipeline.
#define AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu_path_pipeline, options)                                 \
  AEGISRT_SKIP_WITHOUT_ORT();                                                                        \
  if (!vision::cuda_preprocess_compiled()) GTEST_SKIP() << "AegisRT was built without the CUDA toolkit"; \
  if (auto dev = vision::CudaPreprocessor::create(0); !dev.ok()) {                                   \
    GTEST_SKIP() << "no usable CUDA device: " << dev.error();                                         \
  }                                                                                                  \
  auto cpu_path_pipeline##_made = Pipeline::create(options, source_models_dir());                    \
  if (!cpu_path_pipeline##_made.ok()) {                                                              \
    GTEST_SKIP() << "backend cuda (ONNX Runtime CUDA provider) unavailable: "                         \
                 << cpu_path_pipeline##_made.error();                                                \
  }                                                                                                  \
  auto cpu_path_pipeline = std::move(cpu_path_pipeline##_made).value()

constexpr float kBoxIou = 0.99f;
constexpr float kScoreTol = 1e-3f;
constexpr float kKeypointPx = 0.1f;
constexpr double kMaskIou = 0.99;

double mask_iou(const InstanceMask& a, const InstanceMask& b, int w, int h) {
  std::size_t inter = 0, uni = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const bool u = a.at(x, y), v = b.at(x, y);
      inter += (u && v) ? 1 : 0;
      uni += (u || v) ? 1 : 0;
    }
  }
  return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

/// Device-path result `dev` against CPU-path result `cpu` of the same image:
/// every detection pairs one to one (same class, IoU >= 0.99, score within
/// 1e-3), except candidates right at the confidence threshold, which may
/// fall on either side of it.
void expect_same_results(const FrameResult& cpu, const FrameResult& dev, float conf) {
  ASSERT_EQ(cpu.output.index(), dev.output.index());
  EXPECT_EQ(cpu.transform.pad_x, dev.transform.pad_x);
  EXPECT_EQ(cpu.transform.pad_y, dev.transform.pad_y);
  EXPECT_EQ(cpu.transform.resized_width, dev.transform.resized_width);
  const auto& a = cpu.detections();
  const auto& b = dev.detections();
  std::vector<bool> used(b.size(), false);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int best = -1;
    float best_iou = 0.0f;
    for (std::size_t j = 0; j < b.size(); ++j) {
      if (used[j] || b[j].class_id != a[i].class_id) continue;
      const float v = vision::iou(a[i].box, b[j].box);
      if (v > best_iou) {
        best_iou = v;
        best = static_cast<int>(j);
      }
    }
    if (best < 0 || best_iou < kBoxIou) {
      EXPECT_LE(a[i].score, conf + kScoreTol) << "CPU-path detection " << i << " (class " << a[i].class_id
                                              << ", score " << a[i].score << ") has no device-path match";
      continue;
    }
    const auto j = static_cast<std::size_t>(best);
    used[j] = true;
    ++matched;
    EXPECT_NEAR(a[i].score, b[j].score, kScoreTol) << "detection " << i;
    if (const auto* pa = std::get_if<PoseResult>(&cpu.output)) {
      const auto& pb = std::get<PoseResult>(dev.output);
      ASSERT_EQ(pa->keypoints[i].size(), pb.keypoints[j].size());
      for (std::size_t k = 0; k < pa->keypoints[i].size(); ++k) {
        EXPECT_NEAR(pa->keypoints[i][k].x, pb.keypoints[j][k].x, kKeypointPx) << "detection " << i << " kp " << k;
        EXPECT_NEAR(pa->keypoints[i][k].y, pb.keypoints[j][k].y, kKeypointPx) << "detection " << i << " kp " << k;
      }
    }
    if (const auto* sa = std::get_if<InstanceSegmentationResult>(&cpu.output)) {
      const auto& sb = std::get<InstanceSegmentationResult>(dev.output);
      EXPECT_GE(mask_iou(sa->masks[i], sb.masks[j], cpu.width, cpu.height), kMaskIou) << "mask " << i;
    }
  }
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (!used[j]) {
      EXPECT_LE(b[j].score, conf + kScoreTol) << "device-path detection " << j << " (class " << b[j].class_id
                                              << ", score " << b[j].score << ") has no CPU-path match";
    }
  }
  EXPECT_GT(matched, 0u) << "nothing detected: the comparison would be vacuous";
}

TEST(DevicePathGpu, DemoDetectorMatchesTheCpuPath) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, demo_options("cuda", DevicePathMode::Off));
  EXPECT_FALSE(cpu->info().device_path);
  auto dev = Pipeline::create(demo_options("cuda", DevicePathMode::Require), source_models_dir());
  ASSERT_TRUE(dev.ok()) << dev.error();
  ASSERT_TRUE((*dev)->info().device_path);
  EXPECT_EQ((*dev)->info().device_path_reason, "");
  // Auto picks the device path too on this backend.
  auto autop = Pipeline::create(demo_options("cuda", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(autop.ok()) << autop.error();
  EXPECT_TRUE((*autop)->info().device_path) << (*autop)->info().device_path_reason;
  // An instance over the same loaded model gets its own device path.
  auto inst = (*dev)->create_instance();
  ASSERT_TRUE(inst.ok()) << inst.error();
  EXPECT_TRUE((*inst)->info().device_path);

  const auto truth = aegisrt::testing::load_ground_truth();
  ASSERT_FALSE(truth.empty());
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    auto a = cpu->run_file(demo_dir() / t.file);
    auto b = (*dev)->run_file(demo_dir() / t.file);
    auto c = (*inst)->run_file(demo_dir() / t.file);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    ASSERT_TRUE(c.ok()) << c.error();
    expect_same_results(*a, *b, 0.25f);
    expect_same_results(*a, *c, 0.25f);
    // And the device path still finds the generated objects.
    const auto problems = aegisrt::testing::match_ground_truth(b->detections(), t);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
}

PipelineOptions golden_options(const std::string& variant, const std::string& onnx, DevicePathMode mode) {
  PipelineOptions o;
  o.model = "yolo";
  o.variant = variant;
  o.backend = "cuda";
  o.onnx = golden_dir() / onnx;
  o.precision = "fp32";
  o.device_path = mode;
  return o;
}

/// The images of the golden test's reference document (each has detections there).
void golden_matches_cpu_path(const std::string& variant, const std::string& onnx, const std::string& reference) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, golden_options(variant, onnx, DevicePathMode::Off));
  auto dev = Pipeline::create(golden_options(variant, onnx, DevicePathMode::Require), source_models_dir());
  ASSERT_TRUE(dev.ok()) << dev.error();
  const auto doc = aegisrt::testing::load_golden_reference(reference);
  ASSERT_FALSE(doc.at("images").empty());
  for (const auto& im : doc.at("images")) {
    const std::string image = im.at("file").get<std::string>();
    SCOPED_TRACE(image);
    auto a = cpu->run_file(golden_dir() / image);
    auto b = (*dev)->run_file(golden_dir() / image);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    expect_same_results(*a, *b, 0.25f);
  }
}

TEST(DevicePathGpu, GoldenYoloSegmentMatchesTheCpuPath) {
  golden_matches_cpu_path("v8n-seg", "yolov8-seg-golden.onnx", "yolov8_seg_reference.json");
}
TEST(DevicePathGpu, GoldenYoloPoseMatchesTheCpuPath) {
  golden_matches_cpu_path("v8n-pose", "yolov8-pose-golden.onnx", "yolov8_pose_reference.json");
}

// Several pipelines over one loaded model on backend cuda, each on its own
// thread, give what one pipeline gives alone (regression: concurrent Run()s
// on one ORT CUDA session corrupted results on the H200; now they take turns).
TEST(DevicePathGpu, ConcurrentInstancesGiveTheSequentialResults) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(base, golden_options("v8n-seg", "yolov8-seg-golden.onnx", DevicePathMode::Auto));
  const auto doc = aegisrt::testing::load_golden_reference("yolov8_seg_reference.json");
  std::vector<std::string> images;
  for (const auto& im : doc.at("images")) images.push_back(im.at("file").get<std::string>());
  ASSERT_FALSE(images.empty());
  std::vector<FrameResult> alone;
  for (const auto& image : images) {
    auto r = base->run_file(golden_dir() / image);
    ASSERT_TRUE(r.ok()) << r.error();
    alone.push_back(std::move(*r));
  }
  constexpr int kThreads = 4;
  constexpr int kRuns = 40;
  std::vector<std::unique_ptr<Pipeline>> pipes;
  for (int t = 0; t < kThreads; ++t) {
    auto inst = base->create_instance();
    ASSERT_TRUE(inst.ok()) << inst.error();
    pipes.push_back(std::move(*inst));
  }
  std::vector<std::vector<FrameResult>> got(kThreads);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        auto r = pipes[static_cast<std::size_t>(t)]->run_file(golden_dir() / images[static_cast<std::size_t>(i) % images.size()]);
        if (!r.ok()) {
          ++failed;
          return;
        }
        got[static_cast<std::size_t>(t)].push_back(std::move(*r));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failed.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kRuns; ++i) {
      SCOPED_TRACE("thread " + std::to_string(t) + " run " + std::to_string(i));
      const auto& want = alone[static_cast<std::size_t>(i) % images.size()];
      const auto& have = got[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
      ASSERT_EQ(want.detections().size(), have.detections().size());
      expect_same_results(want, have, 0.25f);
    }
  }
}

// The model input the device path writes (pinned upload + kernel, as the
// pipeline runs it) against vision::preprocess on the CPU. Both compute the
// taps in double and interpolate in float with the same formula; nvcc's FMA
// contraction leaves a few ulp of values <= 255, i.e. ~1e-6 after
// normalisation: 1e-5 holds with margin.
TEST(DevicePathGpu, InputTensorEqualsCpuPreprocessing) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, demo_options("cuda", DevicePathMode::Off));
#if !AEGISRT_TEST_HAVE_CUDA
  GTEST_SKIP() << "test built without the CUDA toolkit";
#else
  std::vector<vision::PreprocessConfig> configs;
  configs.push_back(cpu->info().preprocess);  // the demo's letterbox
  vision::PreprocessConfig imagenet;           // ImageNet-style stretch, BGR, NHWC
  imagenet.width = 224;
  imagenet.height = 224;
  imagenet.resize = vision::ResizeMode::Stretch;
  imagenet.color_order = vision::ColorOrder::BGR;
  imagenet.layout = vision::Layout::NHWC;
  imagenet.mean = {0.485f, 0.456f, 0.406f};
  imagenet.std = {0.229f, 0.224f, 0.225f};
  configs.push_back(imagenet);
  for (const auto& cfg : configs) {
    auto path = detail::DevicePath::create(cfg, 0, /*stream_ordered_execute=*/false);
    ASSERT_TRUE(path.ok()) << path.error();
    for (const char* file : {"golden_street.png", "golden_portrait.png"}) {
      SCOPED_TRACE(file);
      auto image = vision::load_image(golden_dir() / file, vision::DecodeOptions{});
      ASSERT_TRUE(image.ok()) << image.error();
      auto want = vision::preprocess(*image, cfg);
      ASSERT_TRUE(want.ok()) << want.error();
      auto t = (*path)->preprocess(*image);
      ASSERT_TRUE(t.ok()) << t.error();
      EXPECT_EQ(t->pad_x, want->transforms[0].pad_x);
      EXPECT_EQ(t->resized_height, want->transforms[0].resized_height);
      auto got = cuda::copy_to_host((*path)->input());
      ASSERT_TRUE(got.ok()) << got.error();
      const auto a = want->tensor.span<const float>();
      const auto b = got->span<const float>();
      ASSERT_EQ(a.size(), b.size());
      float worst = 0.0f;
      for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
      std::printf("device path input vs CPU pre-processing (%dx%d): max abs %.3g\n", cfg.width, cfg.height,
                  static_cast<double>(worst));
      EXPECT_LE(worst, 1e-5f);
    }
  }
#endif
}

}  // namespace
}  // namespace aegisrt::pipeline
