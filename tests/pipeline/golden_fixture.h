// Shared by the golden tests (pipeline_golden_test.cpp: YOLO segment / pose,
// pipeline_golden_depth_test.cpp: depth): where the committed golden models,
// images and reference outputs live (tests/data/golden, made by
// python/gen_golden_models.py and python/gen_golden_depth.py), how to read
// the reference JSON and run a pipeline over its images, and a pipeline on ONNX Runtime CPU that runs a golden
// ONNX file in place of the variant's own.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "aegisrt/pipeline/pipeline.h"
#include "demo_fixture.h"

namespace aegisrt::testing {

inline std::filesystem::path golden_dir() {
  return std::filesystem::path(AEGISRT_SOURCE_DIR) / "tests" / "data" / "golden";
}

inline nlohmann::json load_golden_reference(const std::string& name) {
  std::ifstream in(golden_dir() / name);
  EXPECT_TRUE(in.good()) << "missing " << (golden_dir() / name);
  return nlohmann::json::parse(in);
}

/// Runs `p` on every image the reference document `doc` lists ("images",
/// which must not be empty), each under a SCOPED_TRACE of its file, and hands
/// check(image entry, result) what the pipeline returned. A fatal failure
/// (the pipeline failing on an image, or one in `check`) ends the loop.
template <typename Check>
void for_each_golden_image(pipeline::Pipeline& p, const nlohmann::json& doc, Check&& check) {
  ASSERT_FALSE(doc.at("images").empty());
  for (const auto& im : doc.at("images")) {
    const std::string file = im.at("file").get<std::string>();
    SCOPED_TRACE(file);
    auto r = p.run_file(golden_dir() / file);
    ASSERT_TRUE(r.ok()) << r.error();
    check(im, *r);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

#define AEGISRT_SKIP_WITHOUT_OPENVINO()                                                   \
  do {                                                                                   \
    if (!::aegisrt::build::kHaveOpenVINO) {                                              \
      GTEST_SKIP() << "OpenVINO is not compiled into this build "                        \
                      "(scripts/deps/35-openvino.sh, then -DAEGISRT_WITH_OPENVINO=ON)";  \
    }                                                                                    \
  } while (0)

/// model/variant of the source catalog on a CPU backend, fed `onnx` from
/// tests/data/golden; nullptr (with a test failure) when it cannot be
/// created. `onnx` is ONNX Runtime CPU with one thread; `openvino` is
/// OpenVINO CPU at fp32, which the backend pins with inference_precision f32
/// (no bf16 on AMX/AVX-512-BF16 machines), also one thread. Either way the
/// result does not depend on the machine's core count.
inline std::unique_ptr<pipeline::Pipeline> make_golden_pipeline(const std::string& model, const std::string& variant,
                                                                const std::string& onnx,
                                                                const std::string& backend = "onnx") {
  pipeline::PipelineOptions o;
  o.model = model;
  o.variant = variant;
  o.backend = backend;
  o.onnx = golden_dir() / onnx;
  o.precision = "fp32";
  o.backend_options[backend == "openvino" ? "num_threads" : "intra_op_threads"] = "1";
  auto p = pipeline::Pipeline::create(o, source_models_dir());
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? std::move(*p) : nullptr;
}

}  // namespace aegisrt::testing
