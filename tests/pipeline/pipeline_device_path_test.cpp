// The device-resident pipeline (src/pipeline/device_path.*, issue 16 item 1).
//
// CPU (run everywhere): which variants/backends get the device path
// (device_path_refusal), the mode names, and what create() does with
// device_path off / auto / require on a CPU backend.
//
// GPU (skip, with the reason, without ONNX Runtime's CUDA provider or a CUDA
// device): with backend option cuda_graph=1 the replayed CUDA graph gives the
// results without it over 20 runs of changing images, also from two instances
// on two threads; on the demo detector and the golden YOLO segment / pose models,
// backend cuda with the device path gives the same results as backend cuda
// with the CPU path (same classes, box IoU >= 0.99, scores within 1e-3,
// keypoints within 0.1 px, mask IoU >= 0.99), and the model input the
// device path writes equals vision::preprocess within 1e-5.
//
// GPU JPEG decode (nvJPEG, PipelineOptions::decode; issue 16). CPU: mode
// names, gpu_decode_refusal, create() with decode auto/cpu/gpu on a CPU
// backend, run_encoded() on the CPU decoder, the JPEG marker checks. GPU
// (skip without nvJPEG in the build, a CUDA device or ORT's CUDA provider):
// nvJPEG's pixels vs libjpeg-turbo's on JPEG copies of the demo and golden
// images, pipeline results with GPU decode vs CPU decode (same classes, box
// IoU >= 0.99), and a corrupt / truncated JPEG is a typed error after which
// the next frame decodes normally. The JPEGs are encoded here with
// libjpeg-turbo (the test images are PNGs).
//
// GPU post-processing (yolo_v8 decode kernel; issue 16). CPU:
// gpu_postprocess_refusal, and a CPU backend's pipeline says why it decodes
// on the host. GPU (skip as above): the demo detector with the output left on
// the device and decoded by the kernel gives the CPU path's results (same
// classes, box IoU >= 0.99), also from an instance and over repeated runs; a
// pose head keeps the host decode and says so.
#include <gtest/gtest.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "demo_fixture.h"
#include "golden_fixture.h"
#include "cuda/nvjpeg_decoder.h"  // header-only marker checks; NvJpegDecoder with CUDA
#include "pipeline/device_path.h"

#if AEGISRT_TEST_HAVE_CUDA
#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/tensor_ops.h"
#endif

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using aegisrt::testing::demo_dir;
using aegisrt::testing::demo_options;
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

// ---------------------------------------------------------------- CPU: GPU post-processing selection

detail::GpuPostprocessQuery gpu_postprocess_accepted() {
  detail::GpuPostprocessQuery q;
  q.decoder_has_gpu_decode = true;
  q.output_layout = "yolo_v8";
  q.runtime_backend = "onnx";
  q.capabilities = cuda_caps();
  q.outputs_float32 = true;
  q.kernel_compiled = true;
  return q;
}

TEST(GpuPostprocessSelection, AcceptsYoloV8OnOnnxRuntimeAndTensorRt) {
  EXPECT_EQ(detail::gpu_postprocess_refusal(gpu_postprocess_accepted()), "");
  auto q = gpu_postprocess_accepted();
  q.runtime_backend = "tensorrt";
  EXPECT_EQ(detail::gpu_postprocess_refusal(q), "");
}

TEST(GpuPostprocessSelection, RefusalNamesTheReason) {
  const auto refusal = [](auto&& edit) {
    auto q = gpu_postprocess_accepted();
    edit(q);
    return detail::gpu_postprocess_refusal(q);
  };
  using Q = detail::GpuPostprocessQuery;
  const std::string off = refusal([](Q& q) { q.device_path_reason = "device path switched off"; });
  EXPECT_NE(off.find("needs the device path, which is off: device path switched off"), std::string::npos) << off;
  const std::string layout = refusal([](Q& q) {
    q.decoder_has_gpu_decode = false;
    q.output_layout = "yolo_v8_pose";
  });
  EXPECT_NE(layout.find("'yolo_v8_pose' decodes on the host"), std::string::npos) << layout;
  const std::string outputs = refusal([](Q& q) { q.capabilities.device_outputs = false; });
  EXPECT_NE(outputs.find("returns no device outputs"), std::string::npos) << outputs;
  // TVM returns device outputs with its stream's work possibly still queued.
  const std::string tvm = refusal([](Q& q) { q.runtime_backend = "tvm"; });
  EXPECT_NE(tvm.find("backend 'tvm' may return device outputs before"), std::string::npos) << tvm;
  EXPECT_NE(refusal([](Q& q) { q.outputs_float32 = false; }).find("not all float32"), std::string::npos);
  EXPECT_NE(refusal([](Q& q) { q.kernel_compiled = false; }).find("without the CUDA toolkit"), std::string::npos);
  EXPECT_TRUE(detail::backend_device_outputs_complete("onnx"));
  EXPECT_TRUE(detail::backend_device_outputs_complete("tensorrt"));
  EXPECT_FALSE(detail::backend_device_outputs_complete("tvm"));
  EXPECT_FALSE(detail::backend_device_outputs_complete("openvino"));
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

TEST(DevicePathPipeline, CpuBackendPostProcessesOnTheHostAndSaysWhy) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(demo_options("onnx", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_FALSE((*p)->info().gpu_postprocess);
  EXPECT_NE((*p)->info().gpu_postprocess_reason.find("needs the device path, which is off"), std::string::npos)
      << (*p)->info().gpu_postprocess_reason;
}

TEST(DevicePathPipeline, RequireOnACpuBackendFailsWithTheReason) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(demo_options("onnx", DevicePathMode::Require), source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(p.error().message().find("takes no device inputs"), std::string::npos) << p.error();
}

// cuda_graph=1 on the CPU provider (backend onnx): refused at create(), by name.
TEST(DevicePathPipeline, CudaGraphOnACpuBackendIsRefusedByName) {
  AEGISRT_SKIP_WITHOUT_ORT();
  PipelineOptions o = demo_options("onnx", DevicePathMode::Auto);
  o.backend_options["cuda_graph"] = "1";
  auto p = Pipeline::create(o, source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(p.error().message().find("'cuda_graph' applies to provider cuda only"), std::string::npos)
      << p.error();
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
void expect_same_results(const FrameResult& cpu, const FrameResult& dev, float conf,
                         float score_tol = kScoreTol, bool boxes_only = false) {
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
      EXPECT_LE(a[i].score, conf + score_tol) << "CPU-path detection " << i << " (class " << a[i].class_id
                                              << ", score " << a[i].score << ") has no device-path match";
      continue;
    }
    const auto j = static_cast<std::size_t>(best);
    used[j] = true;
    ++matched;
    EXPECT_NEAR(a[i].score, b[j].score, score_tol) << "detection " << i;
    if (boxes_only) continue;
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
      EXPECT_LE(b[j].score, conf + score_tol) << "device-path detection " << j << " (class " << b[j].class_id
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

// GPU post-processing (yolo_v8 on the device path, ORT CUDA): the output
// stays on the device, the decode kernel + one small download + host NMS give
// the CPU path's detections; also from an instance (its own device path) and
// over repeated runs (the decoder's buffers are reused per frame).
TEST(DevicePathGpu, DemoDetectorGpuPostprocessMatchesTheCpuPath) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, demo_options("cuda", DevicePathMode::Off));
  EXPECT_FALSE(cpu->info().gpu_postprocess);
  auto dev = Pipeline::create(demo_options("cuda", DevicePathMode::Require), source_models_dir());
  ASSERT_TRUE(dev.ok()) << dev.error();
  ASSERT_TRUE((*dev)->info().gpu_postprocess) << (*dev)->info().gpu_postprocess_reason;
  EXPECT_EQ((*dev)->info().gpu_postprocess_reason, "");
  auto inst = (*dev)->create_instance();
  ASSERT_TRUE(inst.ok()) << inst.error();
  EXPECT_TRUE((*inst)->info().gpu_postprocess) << (*inst)->info().gpu_postprocess_reason;
  const auto truth = aegisrt::testing::load_ground_truth();
  ASSERT_FALSE(truth.empty());
  for (int round = 0; round < 2; ++round) {
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
      const auto problems = aegisrt::testing::match_ground_truth(b->detections(), t);
      EXPECT_TRUE(problems.empty()) << problems.front();
    }
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

// Pose / segment heads keep the host decode on the device path, and say so.
TEST(DevicePathGpu, GoldenPoseKeepsTheHostDecode) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(dev, golden_options("v8n-pose", "yolov8-pose-golden.onnx", DevicePathMode::Require));
  EXPECT_TRUE(dev->info().device_path);
  EXPECT_FALSE(dev->info().gpu_postprocess);
  EXPECT_NE(dev->info().gpu_postprocess_reason.find("decodes on the host"), std::string::npos)
      << dev->info().gpu_postprocess_reason;
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

// ---------------------------------------------------------------- GPU: CUDA graph (cuda_graph=1)

/// The images a graph test cycles through: the demo PNGs (consecutive runs
/// differ, so a replay that read the captured input instead of the new one
/// would give the previous image's detections).
std::vector<fs::path> demo_images() {
  std::vector<fs::path> files;
  for (const auto& t : aegisrt::testing::load_ground_truth()) files.push_back(demo_dir() / t.file);
  return files;
}

PipelineOptions graph_options(DevicePathMode mode) {
  PipelineOptions o = demo_options("cuda", mode);
  o.backend_options["cuda_graph"] = "1";
  return o;
}

// 20 runs over changing images: the replayed graph gives what the device path
// without a graph gives (same classes, IoU >= 0.99, scores within 1e-3).
TEST(DevicePathGpu, CudaGraphMatchesNoGraphOver20Runs) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(plain, demo_options("cuda", DevicePathMode::Require));
  EXPECT_FALSE(plain->info().cuda_graph);
  auto graph = Pipeline::create(graph_options(DevicePathMode::Require), source_models_dir());
  ASSERT_TRUE(graph.ok()) << graph.error();
  EXPECT_TRUE((*graph)->info().device_path);
  EXPECT_TRUE((*graph)->info().cuda_graph);
  const auto images = demo_images();
  ASSERT_GE(images.size(), 2u);
  for (std::size_t k = 0; k < 20; ++k) {
    const fs::path& image = images[k % images.size()];
    SCOPED_TRACE("run " + std::to_string(k) + " " + image.filename().string());
    auto a = plain->run_file(image);
    auto b = (*graph)->run_file(image);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    expect_same_results(*a, *b, 0.25f);
  }
}

// Two instances with graphs of their own (each binds its own device input
// tensor), on two threads, give the sequential results without a graph.
TEST(DevicePathGpu, CudaGraphInstancesGiveTheSequentialResults) {
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(plain, demo_options("cuda", DevicePathMode::Require));
  const auto images = demo_images();
  ASSERT_GE(images.size(), 2u);
  std::vector<FrameResult> alone;
  for (const auto& image : images) {
    auto r = plain->run_file(image);
    ASSERT_TRUE(r.ok()) << r.error();
    alone.push_back(std::move(*r));
  }
  auto base = Pipeline::create(graph_options(DevicePathMode::Require), source_models_dir());
  ASSERT_TRUE(base.ok()) << base.error();
  auto second = (*base)->create_instance();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_TRUE((*second)->info().cuda_graph);
  EXPECT_TRUE((*second)->info().device_path);
  // Graph replay decodes on the GPU too: its per-call output copies allocate
  // device memory while the other instance's ORT Run may be capturing, which
  // the cuda layer's relaxed capture mode makes safe (cuda::detail::
  // RelaxedCaptureMode; CudaCapture.* in cuda_test checks the mode itself).
  EXPECT_TRUE((*second)->info().gpu_postprocess) << (*second)->info().gpu_postprocess_reason;
  Pipeline* pipes[2] = {base->get(), second->get()};
  constexpr int kRuns = 20;
  std::vector<std::vector<FrameResult>> got(2);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        // The two threads walk the images in opposite orders.
        const std::size_t n = images.size();
        const std::size_t idx = t == 0 ? static_cast<std::size_t>(i) % n : n - 1 - static_cast<std::size_t>(i) % n;
        auto r = pipes[t]->run_file(images[idx]);
        if (!r.ok()) {
          ++failed;
          return;
        }
        got[t].push_back(std::move(*r));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failed.load(), 0);
  for (std::size_t t = 0; t < 2; ++t) {
    ASSERT_EQ(got[t].size(), static_cast<std::size_t>(kRuns));
    for (int i = 0; i < kRuns; ++i) {
      SCOPED_TRACE("instance " + std::to_string(t) + " run " + std::to_string(i));
      const std::size_t n = images.size();
      const std::size_t idx = t == 0 ? static_cast<std::size_t>(i) % n : n - 1 - static_cast<std::size_t>(i) % n;
      expect_same_results(alone[idx], got[t][static_cast<std::size_t>(i)], 0.25f);
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


// ================================================================ GPU JPEG decode (nvJPEG)

// ---------------------------------------------------------------- helpers

/// `image` (1 or 3 channels) as a JPEG encoded by libjpeg-turbo
/// (`subsamp`: TJSAMP_444 / TJSAMP_420 / TJSAMP_GRAY).
std::vector<std::byte> encode_jpeg(const vision::Image& image, int subsamp, int quality = 95) {
  tjhandle h = tjInitCompress();
  EXPECT_NE(h, nullptr);
  if (h == nullptr) return {};
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int pf = image.channels() == 1 ? TJPF_GRAY : TJPF_RGB;
  const int rc = tjCompress2(h, image.pixels().data(), image.width(), 0, image.height(), pf, &buf, &size,
                             subsamp, quality, TJFLAG_ACCURATEDCT);
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(h);
  std::vector<std::byte> out;
  if (rc == 0) {
    const auto* p = reinterpret_cast<const std::byte*>(buf);
    out.assign(p, p + size);
  }
  tjFree(buf);
  tjDestroy(h);
  return out;
}

/// A PNG of the demo/golden sets as a JPEG (4:4:4, quality 95).
std::vector<std::byte> jpeg_of(const fs::path& png, int subsamp = TJSAMP_444) {
  auto image = vision::load_image(png, vision::DecodeOptions{});
  EXPECT_TRUE(image.ok()) << image.error();
  if (!image.ok()) return {};
  return encode_jpeg(*image, subsamp);
}

/// A fresh folder for the test's JPEG files.
fs::path temp_folder(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("aegisrt_gpu_decode_" + name + "_" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(d, ec);
  fs::create_directories(d);
  return d;
}

fs::path write_bytes(const fs::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << path;
  return path;
}

PipelineOptions with_decode(PipelineOptions o, DecodeMode mode) {
  o.decode = mode;
  return o;
}

// ---------------------------------------------------------------- CPU: selection and names

TEST(DecodeMode, NamesRoundTrip) {
  for (auto m : {DecodeMode::Auto, DecodeMode::Cpu, DecodeMode::Gpu, DecodeMode::GpuHardware}) {
    auto parsed = parse_decode_mode(to_string(m));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_EQ(to_string(DecodeMode::Gpu), "gpu");
  EXPECT_EQ(to_string(DecodeMode::GpuHardware), "gpu-hw");
  auto bad = parse_decode_mode("nvjpeg");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("auto, cpu, gpu, gpu-hw"), std::string::npos) << bad.error();
  EXPECT_EQ(PipelineOptions{}.decode, DecodeMode::Auto);
}

TEST(GpuDecodeSelection, RefusalNamesTheReason) {
  using detail::gpu_decode_refusal;
  EXPECT_EQ(gpu_decode_refusal(DecodeMode::Auto, "", true), "");
  EXPECT_EQ(gpu_decode_refusal(DecodeMode::Gpu, "", true), "");
  EXPECT_NE(gpu_decode_refusal(DecodeMode::Cpu, "", true).find("decode = cpu"), std::string::npos);
  const std::string off = gpu_decode_refusal(DecodeMode::Auto, "backend 'onnx' as loaded takes no device inputs", true);
  EXPECT_NE(off.find("needs the device path"), std::string::npos) << off;
  EXPECT_NE(off.find("takes no device inputs"), std::string::npos) << off;
  EXPECT_NE(gpu_decode_refusal(DecodeMode::Gpu, "", false).find("without nvJPEG"), std::string::npos);
  // cpu wins over everything else; the device path is checked before the build.
  EXPECT_NE(gpu_decode_refusal(DecodeMode::Cpu, "x", false).find("decode = cpu"), std::string::npos);
  EXPECT_NE(gpu_decode_refusal(DecodeMode::Gpu, "x", false).find("device path"), std::string::npos);
}

TEST(GpuDecodeSelection, JpegMarkerChecks) {
  const std::vector<unsigned char> raw = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0xFF, 0xD9};
  std::vector<std::byte> b(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) b[i] = std::byte{raw[i]};
  EXPECT_TRUE(cuda::looks_like_jpeg(b));
  EXPECT_TRUE(cuda::jpeg_ends_with_eoi(b));
  auto padded = b;
  padded.push_back(std::byte{0});
  padded.push_back(std::byte{0});
  EXPECT_TRUE(cuda::jpeg_ends_with_eoi(padded));  // NUL padding after EOI
  const std::span<const std::byte> cut(b.data(), b.size() - 1);
  EXPECT_FALSE(cuda::jpeg_ends_with_eoi(cut));  // truncated
  auto garbage = b;
  garbage.push_back(std::byte{0x42});
  EXPECT_FALSE(cuda::jpeg_ends_with_eoi(garbage));
  const std::vector<std::byte> png = {std::byte{0x89}, std::byte{'P'}, std::byte{'N'}, std::byte{'G'}};
  EXPECT_FALSE(cuda::looks_like_jpeg(png));
  EXPECT_FALSE(cuda::looks_like_jpeg(std::span<const std::byte>(b.data(), 2)));
  // A real encoded JPEG passes both; its truncation fails the EOI check.
  const auto jpeg = jpeg_of(demo_dir() / "demo_shapes.png");
  ASSERT_GT(jpeg.size(), 100u);
  EXPECT_TRUE(cuda::looks_like_jpeg(jpeg));
  EXPECT_TRUE(cuda::jpeg_ends_with_eoi(jpeg));
  EXPECT_FALSE(cuda::jpeg_ends_with_eoi(std::span<const std::byte>(jpeg.data(), jpeg.size() / 2)));
}

// ---------------------------------------------------------------- CPU: create() and run_encoded() on a CPU backend

TEST(GpuDecodePipeline, CpuBackendDecodesOnTheCpuAndSaysWhy) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(demo_options("onnx", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ((*p)->info().decoder, "cpu");
  EXPECT_NE((*p)->info().decoder_reason.find("needs the device path"), std::string::npos)
      << (*p)->info().decoder_reason;
  EXPECT_NE((*p)->info().decoder_reason.find("takes no device inputs"), std::string::npos);
  auto cpu = Pipeline::create(with_decode(demo_options("onnx", DevicePathMode::Auto), DecodeMode::Cpu),
                              source_models_dir());
  ASSERT_TRUE(cpu.ok()) << cpu.error();
  EXPECT_EQ((*cpu)->info().decoder, "cpu");
  EXPECT_NE((*cpu)->info().decoder_reason.find("decode = cpu"), std::string::npos);
}

TEST(GpuDecodePipeline, GpuDecodeOnACpuBackendFailsWithTheReason) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto p = Pipeline::create(with_decode(demo_options("onnx", DevicePathMode::Auto), DecodeMode::Gpu),
                            source_models_dir());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(p.error().message().find("decode = gpu"), std::string::npos) << p.error();
  EXPECT_NE(p.error().message().find("takes no device inputs"), std::string::npos) << p.error();
  // The device path switched off is named as the reason too.
  auto off = Pipeline::create(with_decode(demo_options("onnx", DevicePathMode::Off), DecodeMode::Gpu),
                              source_models_dir());
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(off.error().message().find("switched off"), std::string::npos) << off.error();
}

// run_encoded() on the CPU decoder gives what run() gives on the decoded
// image (PNG and JPEG bytes); corrupt bytes are a typed error naming the
// source and the pipeline goes on.
TEST(GpuDecodePipeline, RunEncodedOnTheCpuEqualsDecodeThenRun) {
  AEGISRT_SKIP_WITHOUT_ORT();
  auto made = Pipeline::create(demo_options("onnx", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(made.ok()) << made.error();
  auto& p = **made;
  const fs::path png = demo_dir() / "demo_shapes_wide.png";
  auto read = aegisrt::read_file(png, "demo PNG");
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  const std::string file = std::move(*read);
  ASSERT_FALSE(file.empty());
  const auto png_bytes = std::as_bytes(std::span<const char>(file));
  const auto jpeg = jpeg_of(png);
  for (const auto& [bytes, name] : {std::pair{png_bytes, std::string("wide.png")},
                                    std::pair{std::span<const std::byte>(jpeg), std::string("wide.jpg")}}) {
    SCOPED_TRACE(name);
    auto image = vision::decode_image(bytes, name);
    ASSERT_TRUE(image.ok()) << image.error();
    auto want = p.run(*image, name);
    auto got = p.run_encoded(bytes, name);
    ASSERT_TRUE(want.ok()) << want.error();
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_FALSE(got->decoded_on_gpu);
    EXPECT_EQ(got->source, name);
    EXPECT_EQ(got->width, image->width());
    EXPECT_EQ(got->height, image->height());
    ASSERT_EQ(got->detections().size(), want->detections().size());
    ASSERT_FALSE(got->detections().empty());
    for (std::size_t i = 0; i < got->detections().size(); ++i) {
      EXPECT_EQ(got->detections()[i].class_id, want->detections()[i].class_id);
      EXPECT_FLOAT_EQ(got->detections()[i].score, want->detections()[i].score);
      EXPECT_FLOAT_EQ(got->detections()[i].box.x1, want->detections()[i].box.x1);
    }
    EXPECT_GT(got->timings.decode.count(), 0);
  }
  const std::span<const std::byte> truncated(jpeg.data(), jpeg.size() / 2);
  auto bad = p.run_encoded(truncated, "cut.jpg");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().to_string().find("cut.jpg"), std::string::npos) << bad.error();
  auto next = p.run_encoded(jpeg, "wide.jpg");
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_FALSE(next->detections().empty());
}

// ---------------------------------------------------------------- GPU: nvJPEG pixels vs libjpeg-turbo

#define AEGISRT_SKIP_WITHOUT_NVJPEG()                                                              \
  do {                                                                                             \
    if (!detail::DevicePath::jpeg_decode_compiled()) {                                             \
      GTEST_SKIP() << "AegisRT was built without nvJPEG (scripts/deps/45-nvjpeg.sh, AEGISRT_WITH_NVJPEG)"; \
    }                                                                                              \
  } while (0)

// nvJPEG and libjpeg-turbo implement the IDCT (and, for 4:2:0, chroma
// upsampling) differently: exact equality is not expected. Bounds: 4:4:4 and
// grey, >= 99% of samples within 4 grey levels and mean |diff| <= 1; 4:2:0,
// >= 95% within 8 levels and mean <= 2. The figures are printed.
#if AEGISRT_TEST_HAVE_CUDA
void nvjpeg_matches_libjpeg_turbo(cuda::JpegBackend backend) {
  auto stream = cuda::CudaStream::create(0);
  if (!stream.ok()) GTEST_SKIP() << "no usable CUDA device: " << stream.error();
  auto dec = cuda::NvJpegDecoder::create(0, vision::kMaxImagePixels, backend);
  if (backend == cuda::JpegBackend::Hardware && !dec.ok() && dec.error().code() == ErrorCode::Unsupported) {
    GTEST_SKIP() << dec.error();  // a GPU without the hardware JPEG engine
  }
  ASSERT_TRUE(dec.ok()) << dec.error();
  std::vector<fs::path> pngs;
  for (const char* f : {"demo_shapes.png", "demo_shapes_square.png", "demo_shapes_wide.png"}) pngs.push_back(demo_dir() / f);
  for (const char* f : {"golden_street.png", "golden_portrait.png", "golden_people.png"}) pngs.push_back(golden_dir() / f);
  struct Case {
    int subsamp;
    const char* name;
    int level;
    double fraction;
    double mean;
  };
  const Case cases[] = {{TJSAMP_444, "4:4:4", 4, 0.99, 1.0},
                        {TJSAMP_420, "4:2:0", 8, 0.95, 2.0},
                        {TJSAMP_GRAY, "grey", 4, 0.99, 1.0}};
  int compared = 0;
  for (const auto& png : pngs) {
    auto image = vision::load_image(png, vision::DecodeOptions{});
    ASSERT_TRUE(image.ok()) << image.error();
    for (const Case& c : cases) {
      SCOPED_TRACE(png.filename().string() + " " + c.name);
      vision::Image src = *image;
      if (c.subsamp == TJSAMP_GRAY) {
        auto grey = image->convert(1);
        ASSERT_TRUE(grey.ok()) << grey.error();
        src = std::move(*grey);
      }
      const auto jpeg = encode_jpeg(src, c.subsamp);
      ASSERT_FALSE(jpeg.empty());
      vision::DecodeOptions keep;
      keep.channels = 0;  // the file's own: grey stays 1 channel, as nvJPEG's Y output
      auto want = vision::decode_image(jpeg, png.filename().string(), keep);
      ASSERT_TRUE(want.ok()) << want.error();
      auto got = dec->decode(jpeg, *stream, png.filename().string());
      ASSERT_TRUE(got.ok()) << got.error();
      ASSERT_TRUE(stream->synchronize().ok());
      ASSERT_EQ(got->width, want->width());
      ASSERT_EQ(got->height, want->height());
      ASSERT_EQ(got->channels, want->channels());
      auto host = cuda::copy_to_host(got->view);
      ASSERT_TRUE(host.ok()) << host.error();
      const auto a = want->pixels();
      const auto b = host->span<const std::uint8_t>();
      ASSERT_EQ(a.size(), b.size());
      int worst = 0;
      std::size_t within = 0;
      double sum = 0.0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        const int d = std::abs(int{a[i]} - int{b[i]});
        worst = std::max(worst, d);
        within += d <= c.level ? 1 : 0;
        sum += d;
      }
      const double frac = static_cast<double>(within) / static_cast<double>(a.size());
      const double mean = sum / static_cast<double>(a.size());
      std::printf("nvJPEG vs libjpeg-turbo %s %s: max abs %d, %.4f%% within %d levels, mean %.3f\n",
                  png.filename().string().c_str(), c.name, worst, 100.0 * frac, c.level, mean);
      EXPECT_GE(frac, c.fraction);
      EXPECT_LE(mean, c.mean);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 18);
  // The buffer was reused and grown to the largest image (720x1280x3).
  EXPECT_GE(dec->buffer_bytes(), std::size_t{720} * 1280 * 3);
  if (backend == cuda::JpegBackend::Hardware) {
    // The 12 colour (4:4:4, 4:2:0) baseline JPEGs went to the engine; the 6
    // greyscale ones to the default path.
    EXPECT_EQ(dec->hardware_images(), 12u);
  } else {
    EXPECT_EQ(dec->hardware_images(), 0u);
  }
}
#endif

TEST(GpuDecode, NvJpegMatchesLibjpegTurbo) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
#if !AEGISRT_TEST_HAVE_CUDA
  GTEST_SKIP() << "test built without the CUDA toolkit";
#else
  nvjpeg_matches_libjpeg_turbo(cuda::JpegBackend::Default);
#endif
}

// The same images through the GPU's hardware JPEG engine (decode = gpu-hw),
// same bounds; skipped on a GPU without the engine.
TEST(GpuDecode, NvJpegHardwareMatchesLibjpegTurbo) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
#if !AEGISRT_TEST_HAVE_CUDA
  GTEST_SKIP() << "test built without the CUDA toolkit";
#else
  nvjpeg_matches_libjpeg_turbo(cuda::JpegBackend::Hardware);
#endif
}

// ---------------------------------------------------------------- GPU: pipeline, GPU decode vs CPU decode

/// Decode scores may differ a little more than the pre-processing alone (a
/// few grey levels per pixel after the IDCT): 0.02; the boxes must still pair
/// one to one with IoU >= 0.99 and the same class.
constexpr float kDecodeScoreTol = 0.02f;

TEST(GpuDecode, DemoDetectorGpuDecodeMatchesCpuDecode) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
  // Both on the device path: only the decoder differs.
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, with_decode(demo_options("cuda", DevicePathMode::Require), DecodeMode::Cpu));
  EXPECT_EQ(cpu->info().decoder, "cpu");
  auto gpu = Pipeline::create(with_decode(demo_options("cuda", DevicePathMode::Require), DecodeMode::Gpu),
                              source_models_dir());
  ASSERT_TRUE(gpu.ok()) << gpu.error();
  EXPECT_EQ((*gpu)->info().decoder, "nvjpeg");
  EXPECT_EQ((*gpu)->info().decoder_reason, "");
  auto autop = Pipeline::create(demo_options("cuda", DevicePathMode::Auto), source_models_dir());
  ASSERT_TRUE(autop.ok()) << autop.error();
  EXPECT_EQ((*autop)->info().decoder, "nvjpeg") << (*autop)->info().decoder_reason;
  auto inst = (*gpu)->create_instance();  // its own nvJPEG state
  ASSERT_TRUE(inst.ok()) << inst.error();
  EXPECT_EQ((*inst)->info().decoder, "nvjpeg");

  const fs::path dir = temp_folder("demo");
  const auto truth = aegisrt::testing::load_ground_truth();
  ASSERT_FALSE(truth.empty());
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    const auto jpeg = jpeg_of(demo_dir() / t.file);
    const fs::path file = write_bytes(dir / (fs::path(t.file).stem().string() + ".jpg"), jpeg);
    auto a = cpu->run_file(file);
    auto b = (*gpu)->run_file(file);
    auto c = (*inst)->run_encoded(jpeg, file.string());
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_FALSE(a->decoded_on_gpu);
    EXPECT_TRUE(b->decoded_on_gpu);
    EXPECT_TRUE(c->decoded_on_gpu);
    EXPECT_EQ(b->width, a->width);  // the original size drives the letterbox inverse
    EXPECT_EQ(b->height, a->height);
    EXPECT_EQ(b->source, file.string());
    EXPECT_GT(b->timings.decode.count(), 0);
    expect_same_results(*a, *b, 0.25f, kDecodeScoreTol, /*boxes_only=*/true);
    expect_same_results(*a, *c, 0.25f, kDecodeScoreTol, /*boxes_only=*/true);
    const auto problems = aegisrt::testing::match_ground_truth(b->detections(), t);
    EXPECT_TRUE(problems.empty()) << problems.front();
    // A PNG keeps the CPU decode (+ upload) on the same pipeline.
    auto png = (*gpu)->run_file(demo_dir() / t.file);
    ASSERT_TRUE(png.ok()) << png.error();
    EXPECT_FALSE(png->decoded_on_gpu);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// decode = gpu-hw: the demo JPEGs through the hardware JPEG engine give the
// CPU decode's detections (same bounds as above); the pipeline says it uses
// the engine. Skipped on a GPU without one (create() refuses gpu-hw there
// with Unsupported naming it).
TEST(GpuDecode, DemoDetectorHardwareDecodeMatchesCpuDecode) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(cpu, with_decode(demo_options("cuda", DevicePathMode::Require), DecodeMode::Cpu));
  auto hw = Pipeline::create(with_decode(demo_options("cuda", DevicePathMode::Require), DecodeMode::GpuHardware),
                             source_models_dir());
  if (!hw.ok() && hw.error().code() == ErrorCode::Unsupported &&
      hw.error().message().find("hardware JPEG") != std::string::npos) {
    GTEST_SKIP() << hw.error();
  }
  ASSERT_TRUE(hw.ok()) << hw.error();
  EXPECT_EQ((*hw)->info().decoder, "nvjpeg");
  EXPECT_TRUE((*hw)->info().decoder_hardware);
  const fs::path dir = temp_folder("demo_hw");
  const auto truth = aegisrt::testing::load_ground_truth();
  ASSERT_FALSE(truth.empty());
  for (const auto& t : truth) {
    SCOPED_TRACE(t.file);
    const fs::path file = write_bytes(dir / (fs::path(t.file).stem().string() + ".jpg"), jpeg_of(demo_dir() / t.file));
    auto a = cpu->run_file(file);
    auto b = (*hw)->run_file(file);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_TRUE(b->decoded_on_gpu);
    expect_same_results(*a, *b, 0.25f, kDecodeScoreTol, /*boxes_only=*/true);
    const auto problems = aegisrt::testing::match_ground_truth(b->detections(), t);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

void golden_gpu_decode_matches_cpu_decode(const std::string& variant, const std::string& onnx,
                                          const std::string& reference) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(
      cpu, with_decode(golden_options(variant, onnx, DevicePathMode::Require), DecodeMode::Cpu));
  auto gpu = Pipeline::create(with_decode(golden_options(variant, onnx, DevicePathMode::Require), DecodeMode::Gpu),
                              source_models_dir());
  ASSERT_TRUE(gpu.ok()) << gpu.error();
  const auto doc = aegisrt::testing::load_golden_reference(reference);
  ASSERT_FALSE(doc.at("images").empty());
  for (const auto& im : doc.at("images")) {
    const std::string image = im.at("file").get<std::string>();
    SCOPED_TRACE(image);
    const auto jpeg = jpeg_of(golden_dir() / image);
    auto a = cpu->run_encoded(jpeg, image);
    auto b = (*gpu)->run_encoded(jpeg, image);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_FALSE(a->decoded_on_gpu);
    EXPECT_TRUE(b->decoded_on_gpu);
    EXPECT_EQ(b->width, im.at("width").get<int>());
    EXPECT_EQ(b->height, im.at("height").get<int>());
    expect_same_results(*a, *b, 0.25f, kDecodeScoreTol, /*boxes_only=*/true);
  }
}

TEST(GpuDecode, GoldenYoloSegmentGpuDecodeMatchesCpuDecode) {
  golden_gpu_decode_matches_cpu_decode("v8n-seg", "yolov8-seg-golden.onnx", "yolov8_seg_reference.json");
}
TEST(GpuDecode, GoldenYoloPoseGpuDecodeMatchesCpuDecode) {
  golden_gpu_decode_matches_cpu_decode("v8n-pose", "yolov8-pose-golden.onnx", "yolov8_pose_reference.json");
}

// A truncated JPEG and one whose frame header says 0x0 pixels are typed
// errors (Corrupt) naming the image; the next frame decodes on the GPU as usual.
TEST(GpuDecode, CorruptJpegIsATypedErrorAndTheNextFrameWorks) {
  AEGISRT_SKIP_WITHOUT_NVJPEG();
  AEGISRT_SKIP_WITHOUT_GPU_PIPELINE(
      gpu, with_decode(demo_options("cuda", DevicePathMode::Require), DecodeMode::Gpu));
  ASSERT_EQ(gpu->info().decoder, "nvjpeg");
  const auto truth = aegisrt::testing::load_ground_truth();
  ASSERT_FALSE(truth.empty());
  const auto good = jpeg_of(demo_dir() / truth.front().file);
  ASSERT_GT(good.size(), 1000u);
  // Frame header SOF0 (FF C0): length(2) precision(1) height(2) width(2).
  auto zero = good;
  std::size_t sof = 0;
  for (std::size_t i = 2; i + 9 < zero.size(); ++i) {
    if (zero[i] == std::byte{0xFF} && zero[i + 1] == std::byte{0xC0}) {
      sof = i;
      break;
    }
  }
  ASSERT_GT(sof, 0u) << "no SOF0 marker in the encoded JPEG";
  for (std::size_t k = 5; k <= 8; ++k) zero[sof + k] = std::byte{0};
  const std::span<const std::byte> truncated(good.data(), good.size() * 3 / 5);
  const std::pair<std::span<const std::byte>, std::string> bad_inputs[] = {{truncated, "truncated.jpg"},
                                                                           {zero, "zero_size.jpg"}};
  for (int round = 0; round < 2; ++round) {
    for (const auto& [bytes, name] : bad_inputs) {
      SCOPED_TRACE(name);
      auto bad = gpu->run_encoded(bytes, name);
      ASSERT_FALSE(bad.ok());
      EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt) << bad.error();
      EXPECT_NE(bad.error().to_string().find(name), std::string::npos) << bad.error();
      auto next = gpu->run_encoded(good, "good.jpg");
      ASSERT_TRUE(next.ok()) << next.error();
      EXPECT_TRUE(next->decoded_on_gpu);
      const auto problems = aegisrt::testing::match_ground_truth(next->detections(), truth.front());
      EXPECT_TRUE(problems.empty()) << problems.front();
    }
  }
}

}  // namespace
}  // namespace aegisrt::pipeline
