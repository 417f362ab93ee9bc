// `aegisrt models` and `aegisrt validate` end to end: runs the built binary
// (AEGISRT_CLI_PATH) and checks stdout, stderr and exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "cli/cli_test_util.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

using aegisrt::testing::CliRun;

std::string quote(const std::string& s) { return aegisrt::testing::shell_quote(s); }

/// Runs `aegisrt <args>` with `env_prefix` (e.g. "AEGISRT_MODELS_DIR=x ").
CliRun run_cli(const std::string& args, const std::string& env_prefix = "env -u AEGISRT_MODELS_DIR ") {
  testing::ScratchDir tmp;
  aegisrt::testing::CliOptions options;
  options.env_prefix = env_prefix;
  return aegisrt::testing::run_cli(args, tmp.path(), options);
}

const std::string kModels = std::string("--models-dir ") + AEGISRT_SOURCE_DIR + "/models ";

TEST(Cli, ModelsListsTheEightModels) {
  const CliRun r = run_cli(kModels + "models");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* m : {"yolo", "depth_anything", "grounding_dino", "segment_anything", "florence", "rtmpose",
                        "zoedepth", "bytetrack"}) {
    EXPECT_NE(r.out.find(m), std::string::npos) << m << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("cuda, rocm, openvino (default)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tracked_objects"), std::string::npos);
}

TEST(Cli, ModelsJson) {
  const CliRun r = run_cli(kModels + "models --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 8U);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& m : j) by_name[m["name"].get<std::string>()] = m;
  EXPECT_EQ(by_name.at("depth_anything")["backends"], nlohmann::json({"cuda", "rocm", "openvino"}));
  EXPECT_TRUE(by_name.at("depth_anything")["backends_defaulted"].get<bool>());
  EXPECT_EQ(by_name.at("yolo")["output_type"], "detections");
  EXPECT_EQ(by_name.at("yolo")["default_variant"], "v8n");
}

TEST(Cli, ModelDetails) {
  const CliRun r = run_cli(kModels + "models yolo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("letterbox to 640x640"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("80 classes (coco80)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demo"), std::string::npos);
  const CliRun j = run_cli(kModels + "models rtmpose --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto d = nlohmann::json::parse(j.out);
  EXPECT_EQ(d["input"]["preprocessing"]["size"], nlohmann::json({256, 192}));
  EXPECT_EQ(d["output"]["keypoint_names"].size(), 17U);
  const CliRun unknown = run_cli(kModels + "models yolov8");
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("did you mean 'yolo'?"), std::string::npos) << unknown.err;
}

TEST(Cli, ValidateAcceptsYoloOnTensorRT) {
  const CliRun r = run_cli(kModels + "validate --model yolo --backend tensorrt");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("valid: yolo variant v8n at fp32 on backend tensorrt"), std::string::npos) << r.out;
}

TEST(Cli, ValidateRejectsDepthAnythingOnTensorRT) {
  const CliRun r = run_cli(kModels + "validate --model depth_anything --backend tensorrt");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("depth_anything does not support backend tensorrt; supported: cuda, rocm, openvino"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Cli, ValidateRejectionsAndJson) {
  const CliRun variant = run_cli(kModels + "validate -m yolo -b onnx --variant v9n");
  EXPECT_EQ(variant.exit_code, 3);
  EXPECT_NE(variant.err.find("yolo has no variant 'v9n'"), std::string::npos) << variant.err;
  const CliRun precision = run_cli(kModels + "validate -m depth_anything -b cuda -p int8");
  EXPECT_EQ(precision.exit_code, 3);
  EXPECT_NE(precision.err.find("depth_anything does not support precision int8; supported: fp32, fp16"),
            std::string::npos)
      << precision.err;
  const CliRun ok = run_cli(kModels + "validate -m rtmpose -b onnx --variant l -p fp32 --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["precision"], "fp32");
  EXPECT_EQ(j["device_memory_bytes"].get<std::size_t>(), 192U * 1024U * 1024U);
  const CliRun usage = run_cli(kModels + "validate --backend onnx");  // --model missing
  EXPECT_EQ(usage.exit_code, 2);
  // Without --backend, validate picks as `aegisrt run` does (the first of the
  // manifest's list this build and machine can run) and says so.
  const CliRun picked = run_cli(kModels + "validate --model yolo");
  EXPECT_EQ(picked.exit_code, 0) << picked.err;
  EXPECT_NE(picked.out.find("backend picked: "), std::string::npos) << picked.out;
  EXPECT_NE(picked.out.find("(the first of tensorrt, onnx, cuda, tvm that can run here"), std::string::npos)
      << picked.out;
}

TEST(Cli, EnvironmentVariableSelectsTheFolderAndBrokenManifestsFail) {
  testing::ScratchDir dir;
  dir.write_manifest("tiny", testing::kTinyManifest);
  const auto broken = dir.write_manifest("broken", testing::tiny_with_line(2, "  name: broken\n  bogus: 1"));
  const CliRun r = run_cli("models", "AEGISRT_MODELS_DIR=" + quote(dir.path().string()) + " ");
  EXPECT_EQ(r.exit_code, 3);  // a broken manifest makes `models` fail (lint)
  EXPECT_NE(r.out.find("tiny"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(broken.string() + ":3:3: model.bogus: unknown field 'bogus'"), std::string::npos) << r.err;
  // validate only fails on the asked model's own manifest
  const CliRun v = run_cli("validate -m tiny -b onnx", "AEGISRT_MODELS_DIR=" + quote(dir.path().string()) + " ");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  const CliRun vb = run_cli("validate -m broken -b onnx", "AEGISRT_MODELS_DIR=" + quote(dir.path().string()) + " ");
  EXPECT_EQ(vb.exit_code, 3);
  EXPECT_NE(vb.err.find("manifest of 'broken' is broken"), std::string::npos) << vb.err;
}

// Multi-part models (docs/MANIFEST.md "Multi-part models"): validate and
// models show every part, and a broken reference fails the model's validate.
TEST(Cli, ValidateSeesEveryPart) {
  const CliRun r = run_cli(kModels + "validate --model rtmpose --backend onnx");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("parts (2):\n  main: rtmpose-m_simcc-body7_256x192.onnx, cache key m\n"
                       "  detector: model yolo variant v8n (yolov8n.onnx), classes person, cache key m+detector\n"),
            std::string::npos)
      << r.out;
  const CliRun j = run_cli(kModels + "validate --model segment_anything --backend cuda --variant vit_l --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto d = nlohmann::json::parse(j.out);
  // main, the model-level detector (the prompts without --point/--box), the variant's prompt decoder.
  ASSERT_EQ(d["parts"].size(), 3U) << j.out;
  EXPECT_EQ(d["parts"][0]["name"], "main");
  EXPECT_EQ(d["parts"][0]["onnx"], "sam_vit_l_encoder.onnx");
  EXPECT_EQ(d["parts"][0]["cache_name"], "vit_l");
  EXPECT_EQ(d["parts"][1]["name"], "detector");
  EXPECT_EQ(d["parts"][1]["kind"], "model");
  EXPECT_EQ(d["parts"][1]["model"], "yolo");
  EXPECT_EQ(d["parts"][1]["variant"], "v8n");
  EXPECT_EQ(d["parts"][1]["onnx"], "yolov8n.onnx");
  EXPECT_TRUE(d["parts"][1]["classes"].empty()) << "every class's box is a prompt";
  EXPECT_EQ(d["parts"][1]["cache_name"], "vit_l+detector");
  EXPECT_EQ(d["parts"][2]["name"], "prompt_decoder");
  EXPECT_EQ(d["parts"][2]["kind"], "file");
  EXPECT_EQ(d["parts"][2]["onnx"], "sam_vit_l_decoder.onnx");
  EXPECT_EQ(d["parts"][2]["cache_name"], "vit_l+prompt_decoder");
  // A single-file model: one part, no parts block in the text.
  const CliRun y = run_cli(kModels + "validate --model yolo --backend onnx --json");
  ASSERT_EQ(y.exit_code, 0) << y.err;
  EXPECT_EQ(nlohmann::json::parse(y.out)["parts"].size(), 1U);
  const CliRun yt = run_cli(kModels + "validate --model yolo --backend onnx");
  EXPECT_EQ(yt.out.find("parts ("), std::string::npos) << yt.out;

  const CliRun details = run_cli(kModels + "models rtmpose");
  ASSERT_EQ(details.exit_code, 0) << details.err;
  EXPECT_NE(details.out.find("+ part detector: model yolo variant v8n, classes person"), std::string::npos)
      << details.out;
  const CliRun details_json = run_cli(kModels + "models segment_anything --json");
  ASSERT_EQ(details_json.exit_code, 0) << details_json.err;
  const auto sd = nlohmann::json::parse(details_json.out);
  EXPECT_EQ(sd["variant_details"][2]["parts"][0]["model"], "yolo") << details_json.out;
  EXPECT_EQ(sd["variant_details"][2]["parts"][1]["onnx"], "sam_vit_h_decoder.onnx") << details_json.out;
}

// Florence-2 declares its five files as the main part + four parts, and its
// tokenizer file; `models` shows both, with each part's export.
TEST(Cli, FlorencePartsTokenizerAndExports) {
  const CliRun v = run_cli(kModels + "validate --model florence --backend onnx --variant large");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("parts (5):\n  main: florence2_large_vision_encoder.onnx, cache key large\n"
                       "  embed_tokens: florence2_large_embed_tokens.onnx, cache key large+embed_tokens\n"
                       "  encoder_model: florence2_large_encoder_model.onnx, cache key large+encoder_model\n"
                       "  decoder_model: florence2_large_decoder_model.onnx, cache key large+decoder_model\n"
                       "  decoder_with_past: florence2_large_decoder_with_past_model.onnx, cache key "
                       "large+decoder_with_past\n"),
            std::string::npos)
      << v.out;
  const CliRun t = run_cli(kModels + "models florence");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("tokenizer_file tokenizer.json"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("+ part decoder_with_past: florence2_base_decoder_with_past_model.onnx"), std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("export: with the variant's file (source.export below)"), std::string::npos) << t.out;
  const CliRun j = run_cli(kModels + "models florence --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto d = nlohmann::json::parse(j.out);
  EXPECT_EQ(d["input"]["prompt"]["tokenizer_file"], "tokenizer.json");
  const auto& parts = d["variant_details"][0]["parts"];
  ASSERT_EQ(parts.size(), 4U) << j.out;
  for (const auto& p : parts) EXPECT_EQ(p["export"], d["source"]["export"]) << p.dump();
  // A catalog-model part's export is the referenced model's (rtmpose's detector: yolo's).
  const CliRun r = run_cli(kModels + "models rtmpose --json");
  const CliRun y = run_cli(kModels + "models yolo --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(y.exit_code, 0) << y.err;
  const auto rd = nlohmann::json::parse(r.out);
  const auto yd = nlohmann::json::parse(y.out);
  ASSERT_FALSE(yd["source"]["export"].get<std::string>().empty());
  EXPECT_EQ(rd["variant_details"][0]["parts"][0]["export"], yd["source"]["export"]) << r.out;
  const CliRun rt = run_cli(kModels + "models rtmpose");
  EXPECT_NE(rt.out.find("export: " + yd["source"]["export"].get<std::string>()), std::string::npos) << rt.out;
}

TEST(Cli, ValidateNamesABrokenPartReference) {
  testing::ScratchDir dir;
  dir.write_manifest("det", testing::tiny_named("det"));
  auto pose = testing::split_lines(testing::tiny_named("pose"));
  pose[6] += "\n  parts:\n    detector: {model: dett, classes: [cat]}";
  const auto file = dir.write_manifest("pose", testing::join_lines(pose));
  const std::string env = "AEGISRT_MODELS_DIR=" + quote(dir.path().string()) + " ";
  const CliRun r = run_cli("validate -m pose -b onnx", env);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(file.string() + ":9:5: model.parts.detector.model: part 'detector' refers to model 'dett', "
                                       "which is not in the catalog (did you mean 'det'?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("manifest of 'pose' is broken"), std::string::npos) << r.err;
  // The referenced model itself stays valid.
  EXPECT_EQ(run_cli("validate -m det -b onnx", env).exit_code, 0);
}

TEST(Cli, MissingModelsFolderIsNamedByItsSource) {
  const CliRun env = run_cli("models", "AEGISRT_MODELS_DIR=/nonexistent/aegisrt/models ");
  EXPECT_EQ(env.exit_code, 3);
  EXPECT_NE(env.err.find("AEGISRT_MODELS_DIR='/nonexistent/aegisrt/models' is not a folder"), std::string::npos)
      << env.err;
  const CliRun flag = run_cli("--models-dir /nonexistent/aegisrt/models models");
  EXPECT_EQ(flag.exit_code, 3);
  EXPECT_NE(flag.err.find("--models-dir '/nonexistent/aegisrt/models' is not a folder"), std::string::npos)
      << flag.err;
}

}  // namespace
}  // namespace aegisrt::models
