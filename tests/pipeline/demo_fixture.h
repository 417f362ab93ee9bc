// Shared by the pipeline tests: where the generated demo detector lives, its
// ground truth (python/gen_demo.py) and the matching rule (same class,
// IoU > 0.8, nothing extra).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aegisrt/build_config.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/detection.h"

namespace aegisrt::testing {

inline std::filesystem::path demo_dir() { return AEGISRT_DEMO_DATA_DIR; }
inline std::filesystem::path source_models_dir() {
  return std::filesystem::path(AEGISRT_SOURCE_DIR) / "models";
}

/// The demo detector (model yolo, variant demo) on `backend`, one intra-op
/// thread, with the device path `mode`.
inline pipeline::PipelineOptions demo_options(const std::string& backend = "onnx",
                                              pipeline::DevicePathMode mode = pipeline::DevicePathMode::Auto) {
  pipeline::PipelineOptions o;
  o.model = "yolo";
  o.variant = "demo";
  o.backend = backend;
  o.model_data_dirs = {demo_dir()};
  o.backend_options["intra_op_threads"] = "1";
  o.device_path = mode;
  return o;
}

#define AEGISRT_SKIP_WITHOUT_ORT()                                                     \
  do {                                                                                 \
    if (!::aegisrt::build::kHaveOnnxRuntime) {                                         \
      GTEST_SKIP() << "ONNX Runtime is not compiled into this build "                  \
                      "(AEGISRT_WITH_ONNXRUNTIME; run scripts/setup.sh and reconfigure)"; \
    }                                                                                  \
  } while (0)

struct TruthObject {
  int class_id = 0;
  std::string class_name;
  vision::Box box;
};
struct TruthImage {
  std::string file;
  int width = 0;
  int height = 0;
  std::vector<TruthObject> objects;
};

inline std::vector<TruthImage> load_ground_truth() {
  std::ifstream in(demo_dir() / "demo_ground_truth.json");
  const auto j = nlohmann::json::parse(in);
  std::vector<TruthImage> out;
  for (const auto& im : j.at("images")) {
    TruthImage t{im.at("file").get<std::string>(), im.at("width").get<int>(),
                 im.at("height").get<int>(), {}};
    for (const auto& o : im.at("objects")) {
      const auto b = o.at("box");
      t.objects.push_back({o.at("class_id").get<int>(), o.at("class_name").get<std::string>(),
                           vision::Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(),
                                       b[3].get<float>()}});
    }
    out.push_back(std::move(t));
  }
  return out;
}

/// Every truth object has a detection of its class with IoU > 0.8 (each
/// detection used once) and no detection is left over. Returns what failed.
inline std::vector<std::string> match_ground_truth(const std::vector<vision::Detection>& dets,
                                                   const TruthImage& truth) {
  std::vector<std::string> problems;
  std::vector<bool> used(dets.size(), false);
  for (const auto& obj : truth.objects) {
    float best = 0.0f;
    int best_i = -1;
    for (std::size_t i = 0; i < dets.size(); ++i) {
      if (used[i] || dets[i].class_id != obj.class_id) continue;
      const float v = vision::iou(dets[i].box, obj.box);
      if (v > best) {
        best = v;
        best_i = static_cast<int>(i);
      }
    }
    if (best_i < 0 || best <= 0.8f) {
      problems.push_back(truth.file + ": " + obj.class_name + " at (" + std::to_string(obj.box.x1) +
                         ", " + std::to_string(obj.box.y1) + ") not found (best IoU " +
                         std::to_string(best) + ")");
    } else {
      used[static_cast<std::size_t>(best_i)] = true;
    }
  }
  for (std::size_t i = 0; i < dets.size(); ++i) {
    if (!used[i]) {
      problems.push_back(truth.file + ": extra detection class " + std::to_string(dets[i].class_id) +
                         " score " + std::to_string(dets[i].score));
    }
  }
  return problems;
}

}  // namespace aegisrt::testing
