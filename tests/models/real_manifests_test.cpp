// The eight shipped manifests (models/<name>/manifest.yaml): they load, match
// the TensorRT support table of the catalog issue, and validate on their backends.
#include <gtest/gtest.h>

#include <map>

#include "aegisrt/build_config.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"

namespace aegisrt::models {
namespace {

const ModelCatalog& shipped() {
  static const ModelCatalog catalog = [] {
    auto c = ModelCatalog::load_directory(std::filesystem::path(AEGISRT_SOURCE_DIR) / "models");
    if (!c.ok()) {
      ADD_FAILURE() << c.error();
      return ModelCatalog{};
    }
    return std::move(*c);
  }();
  return catalog;
}

TEST(ShippedManifests, AllEightLoad) {
  EXPECT_EQ(shipped().names(), (std::vector<std::string>{"bytetrack", "depth_anything", "florence", "grounding_dino",
                                                         "rtmpose", "segment_anything", "yolo", "zoedepth"}));
}

TEST(ShippedManifests, TensorRTSupportTable) {
  // From the catalog issue: only yolo has a TensorRT path.
  const std::map<std::string, bool> table = {
      {"yolo", true},      {"depth_anything", false}, {"grounding_dino", false}, {"segment_anything", false},
      {"florence", false}, {"rtmpose", false},        {"zoedepth", false},       {"bytetrack", false}};
  for (const auto& [name, trt] : table) {
    auto r = shipped().validate_selection(name, "tensorrt");
    EXPECT_EQ(r.ok(), trt) << name;
    if (!trt && !r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << name;
    }
  }
}

TEST(ShippedManifests, DepthAnythingOnTensorRTMessage) {
  auto r = validate_selection(shipped(), "depth_anything", "tensorrt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "depth_anything does not support backend tensorrt; supported: cuda, rocm, openvino");
  ASSERT_NE(shipped().find("depth_anything"), nullptr);
  EXPECT_TRUE(shipped().find("depth_anything")->backends_defaulted);
}

TEST(ShippedManifests, BackendListsAsDecided) {
  auto backends = [](const char* m) { return shipped().find(m)->backends; };
  EXPECT_EQ(backends("yolo"), (std::vector<std::string>{"tensorrt", "onnx", "cuda", "tvm"}));
  EXPECT_EQ(backends("segment_anything"), (std::vector<std::string>{"cuda"}));  // CUDA only
  EXPECT_EQ(backends("bytetrack"), (std::vector<std::string>{"cpu"}));          // no network
  EXPECT_EQ(backends("zoedepth"), (std::vector<std::string>{"cuda", "rocm", "openvino"}));
  const auto rtm = backends("rtmpose");  // ONNX Runtime internally
  EXPECT_NE(std::find(rtm.begin(), rtm.end(), "onnx"), rtm.end());
}

TEST(ShippedManifests, VariantsAsTheFamiliesHaveThem) {
  EXPECT_EQ(shipped().find("yolo")->variant_names(),
            (std::vector<std::string>{"v8n",      "v8s",      "v8m",      "v8l",      "v8x",      "v11n",
                                      "v11s",     "v11m",     "v11l",     "v8n-seg",  "v8s-seg",  "v8m-seg",
                                      "v8l-seg",  "v8x-seg",  "v11n-seg", "v11s-seg", "v11m-seg", "v11l-seg",
                                      "v8n-pose", "v8s-pose", "v8m-pose", "v8l-pose", "v8x-pose", "v11n-pose",
                                      "v11s-pose", "v11m-pose", "v11l-pose", "demo"}));
  EXPECT_EQ(shipped().find("depth_anything")->variant_names(), (std::vector<std::string>{"vits", "vitb", "vitl"}));
  EXPECT_EQ(shipped().find("segment_anything")->variant_names(),
            (std::vector<std::string>{"vit_b", "vit_l", "vit_h"}));
  EXPECT_EQ(shipped().find("yolo")->precisions,
            (std::vector<Precision>{Precision::FP32, Precision::FP16, Precision::INT8}));
}

TEST(ShippedManifests, EverySelectionOfEveryModelValidates) {
  std::size_t checked = 0;
  for (const auto& m : shipped().models()) {
    for (const auto& b : m.backends) {
      for (const auto& v : m.variants) {
        for (auto p : m.precisions) {
          auto r = shipped().validate_selection(m.name, b, v.name, to_string(p));
          // ONNX Runtime (onnx, and cuda when ONNX Runtime serves it) runs the
          // .onnx as stored: fp16/int8 are refused, not run as fp32. `openvino`
          // is the native OpenVINO backend: fp16 is its inference-precision hint
          // (refused at load where the device lacks it), int8 needs a Q/DQ model.
          // (`cuda` is TVM's CUDA target only in a build with TVM + CUDA and no ONNX Runtime.)
          const bool cuda_is_tvm = !build::kHaveOnnxRuntime && build::kHaveTvm && build::kHaveCuda;
          const bool ort = b == "onnx" || (b == "cuda" && !cuda_is_tvm);
          if (ort && p != Precision::FP32) {
            ASSERT_FALSE(r.ok()) << m.name << "/" << b << "/" << v.name << "/" << to_string(p);
            EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
            EXPECT_NE(r.error().message().find("supports fp32 only"), std::string::npos) << r.error();
          } else {
            EXPECT_TRUE(r.ok()) << m.name << "/" << b << "/" << v.name << "/" << to_string(p) << ": " << r.error();
          }
          ++checked;
        }
      }
    }
    auto resolved = m.resolve();
    ASSERT_TRUE(resolved.ok()) << m.name;
    if (m.name != "bytetrack") {
      EXPECT_GT(resolved->device_memory_bytes, 0U) << m.name;
      ASSERT_TRUE(resolved->input.preprocessing.has_value()) << m.name;
    }
  }
  EXPECT_GT(checked, 100U);
}

TEST(ShippedManifests, YoloCarriesWhatThePipelineNeeds) {
  const ModelManifest& yolo = *shipped().find("yolo");
  auto v8n = yolo.resolve("v8n");
  ASSERT_TRUE(v8n.ok());
  const auto& pre = *v8n->input.preprocessing;
  EXPECT_EQ(pre.size, (ImageSize{640, 640}));
  EXPECT_EQ(pre.resize, ResizeMethod::Letterbox);
  EXPECT_EQ(pre.pad_value, 114);
  EXPECT_DOUBLE_EQ(pre.normalize.scale, 1.0 / 255.0);
  EXPECT_EQ(pre.layout, Layout::NCHW);
  EXPECT_EQ(v8n->input.color_format, ColorFormat::RGB);
  EXPECT_EQ(v8n->input.tensor_name, "images");
  EXPECT_EQ(v8n->output.layout, OutputLayout::YoloV8);
  EXPECT_EQ(v8n->output.class_names.size(), 80U);
  EXPECT_EQ(v8n->output.class_names.front(), "person");
  EXPECT_EQ(v8n->output.class_names.back(), "toothbrush");
  EXPECT_EQ(v8n->postprocessing.nms_iou_threshold, 0.45);
  EXPECT_EQ(v8n->postprocessing.confidence_threshold, 0.25);
  EXPECT_EQ(v8n->onnx, "yolov8n.onnx");

  auto demo = yolo.resolve("demo");
  ASSERT_TRUE(demo.ok());
  EXPECT_EQ(demo->input.preprocessing->size, (ImageSize{320, 320}));
  EXPECT_EQ(demo->output.class_names, (std::vector<std::string>{"red_square", "green_circle", "blue_triangle"}));
  EXPECT_EQ(demo->onnx, "demo.onnx");
  EXPECT_EQ(demo->output.fields.at(0).name, "output0");
  EXPECT_EQ(*yolo.device_memory_bytes("demo"), 32U << 20U);
}

TEST(ShippedManifests, OutputTypesPerModel) {
  const std::map<std::string, OutputType> want = {
      {"yolo", OutputType::Detections},         {"grounding_dino", OutputType::Detections},
      {"depth_anything", OutputType::DepthMap}, {"zoedepth", OutputType::DepthMap},
      {"rtmpose", OutputType::Keypoints},       {"segment_anything", OutputType::Segmentation},
      {"florence", OutputType::MultiTask},      {"bytetrack", OutputType::TrackedObjects}};
  for (const auto& [name, type] : want) EXPECT_EQ(shipped().find(name)->output.type, type) << name;
  EXPECT_EQ(shipped().find("rtmpose")->output.keypoint_names.size(), 17U);
}


// Florence-2's output.generation: the published generation_config
// (microsoft/Florence-2-base generation_config.json), and the typed errors
// naming the key for bad values.
TEST(ShippedManifests, FlorenceGenerationIsThePublishedOne) {
  const ModelManifest* m = shipped().find("florence");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->output.generation.has_value());
  const GenerationSpec& g = *m->output.generation;
  EXPECT_EQ(g.num_beams, 3);
  EXPECT_EQ(g.no_repeat_ngram_size, 3);
  EXPECT_EQ(g.forced_bos_token_id, std::optional<std::int64_t>(0));
  EXPECT_EQ(g.forced_eos_token_id, std::optional<std::int64_t>(2));
  EXPECT_EQ(g.early_stopping, "true");
  EXPECT_EQ(g.length_penalty, 1.0);
  EXPECT_EQ(g.max_new_tokens, 1024);
  EXPECT_EQ(g.min_length, 0);
  // Every variant resolves with it.
  auto rv = m->resolve("large");
  ASSERT_TRUE(rv.ok()) << rv.error();
  ASSERT_TRUE(rv->output.generation.has_value());
  EXPECT_EQ(rv->output.generation->num_beams, 3);
}

std::string florence_with_generation(const std::string& generation_block) {
  auto text = read_file(std::filesystem::path(AEGISRT_SOURCE_DIR) / "models/florence/manifest.yaml", "manifest");
  EXPECT_TRUE(text.ok());
  if (!text.ok()) return {};
  std::string s = *text;
  const std::size_t at = s.find("  generation:\n");
  const std::size_t end = s.find("\nresources:");
  EXPECT_NE(at, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  if (at == std::string::npos || end == std::string::npos) return {};
  return s.substr(0, at) + generation_block + "\n" + s.substr(end);
}

TEST(ShippedManifests, FlorenceGenerationBadValuesNameTheKey) {
  struct Case {
    const char* block;
    const char* key;
  };
  for (const Case& c : {Case{"  generation: {num_beams: 0}\n", "output.generation.num_beams"},
                        Case{"  generation: {num_beams: 17}\n", "output.generation.num_beams"},
                        Case{"  generation: {no_repeat_ngram_size: -1}\n", "output.generation.no_repeat_ngram_size"},
                        Case{"  generation: {min_length: -2}\n", "output.generation.min_length"},
                        Case{"  generation: {early_stopping: sometimes}\n", "output.generation.early_stopping"},
                        Case{"  generation: {forced_bos_token_id: -1}\n", "output.generation.forced_bos_token_id"},
                        Case{"  generation: {length_penalty: .inf}\n", "output.generation.length_penalty"},
                        Case{"  generation: {num_beam: 3}\n", "num_beam"}}) {
    SCOPED_TRACE(c.block);
    auto m = parse_manifest(florence_with_generation(c.block), "florence/manifest.yaml");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(m.error().message().find(c.key), std::string::npos) << m.error().message();
  }
  // Valid: "never" and false; absent keys keep transformers' defaults.
  auto ok = parse_manifest(florence_with_generation("  generation: {early_stopping: never, num_beams: 5}\n"),
                           "florence/manifest.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->output.generation->early_stopping, "never");
  EXPECT_EQ(ok->output.generation->num_beams, 5);
  EXPECT_EQ(ok->output.generation->no_repeat_ngram_size, 0);
  EXPECT_FALSE(ok->output.generation->forced_bos_token_id.has_value());
  EXPECT_EQ(ok->output.generation->length_penalty, 1.0);
}

TEST(ShippedManifests, GenerationOnlyForSeq2SeqTokens) {
  auto text = read_file(std::filesystem::path(AEGISRT_SOURCE_DIR) / "models/yolo/manifest.yaml", "manifest");
  ASSERT_TRUE(text.ok());
  std::string s = *text;
  const std::size_t at = s.find("\noutput:\n");
  ASSERT_NE(at, std::string::npos);
  s.insert(at + 9, "  generation: {num_beams: 3}\n");
  auto m = parse_manifest(s, "yolo/manifest.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("output.generation"), std::string::npos) << m.error().message();
}
}  // namespace
}  // namespace aegisrt::models
