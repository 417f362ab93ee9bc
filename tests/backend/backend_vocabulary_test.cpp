// The backend vocabulary: one table, its mapping onto registry backends in this
// build, and its documentation in docs/MANIFEST.md staying in step.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "aegisrt/backend/registry.h"
#include "aegisrt/build_config.h"
#include "aegisrt/backend/backend_vocabulary.h"

namespace aegisrt::models {
namespace {

TEST(BackendVocabulary, HasTheSevenNamesInOrder) {
  EXPECT_EQ(backend_vocabulary_names(),
            (std::vector<std::string>{"tensorrt", "onnx", "cuda", "rocm", "openvino", "tvm", "cpu"}));
  EXPECT_EQ(find_backend_entry("TensorRT"), nullptr);  // case-sensitive
}

TEST(BackendVocabulary, RegistryNamesAreKnownBackends) {
  // Every non-empty registry name must be a backend the registry knows about.
  std::vector<std::string_view> known;
  for (const auto& k : known_backends()) known.push_back(k.name);
  for (const auto& e : backend_vocabulary()) {
    if (e.registry_name.empty()) continue;
    EXPECT_NE(std::find(known.begin(), known.end(), e.registry_name), known.end()) << e.name;
  }
}

TEST(BackendVocabulary, BindingFollowsThisBuild) {
  auto trt = bind_backend("tensorrt");
  EXPECT_EQ(trt.ok(), build::kHaveTensorRT);
  if (trt.ok()) {
    EXPECT_EQ(trt->registry_name, "tensorrt");
    EXPECT_EQ(trt->device, Device::cuda(0));
  } else {
    EXPECT_EQ(trt.error().code(), ErrorCode::Unsupported);
    EXPECT_NE(trt.error().message().find("AEGISRT_WITH_TENSORRT"), std::string::npos);
  }
  auto onnx = bind_backend("onnx");
  EXPECT_EQ(onnx.ok(), build::kHaveOnnxRuntime);
  if (onnx.ok()) {
    EXPECT_EQ(onnx->registry_name, "onnx");
    EXPECT_TRUE(onnx->backend_options.empty());
    EXPECT_EQ(onnx->device, Device::cpu());
  }
  auto cuda = bind_backend("cuda");
  if (build::kHaveOnnxRuntime) {
    ASSERT_TRUE(cuda.ok());
    EXPECT_EQ(cuda->registry_name, "onnx");
    EXPECT_EQ(cuda->backend_options.at("provider"), "cuda");
    EXPECT_EQ(cuda->device, Device::cuda(0));
    EXPECT_EQ(cuda->availability, BackendAvailability::NeedsProvider);
  } else if (build::kHaveTvm && build::kHaveCuda) {
    ASSERT_TRUE(cuda.ok());
    EXPECT_EQ(cuda->registry_name, "tvm");
  } else {
    EXPECT_FALSE(cuda.ok());
  }
  auto tvm = bind_backend("tvm");
  EXPECT_EQ(tvm.ok(), build::kHaveTvm);
}

TEST(BackendVocabulary, OpenVinoIsItsOwnBackend) {
  auto ov = bind_backend("openvino");
  EXPECT_EQ(ov.ok(), build::kHaveOpenVINO);
  if (ov.ok()) {
    EXPECT_EQ(ov->registry_name, "openvino");
    EXPECT_TRUE(ov->backend_options.empty());  // no ONNX Runtime provider involved
    EXPECT_EQ(ov->device, Device::cpu());
    EXPECT_EQ(ov->availability, BackendAvailability::Available);
  } else {
    EXPECT_EQ(ov.error().code(), ErrorCode::Unsupported);
    EXPECT_NE(ov.error().message().find("AEGISRT_WITH_OPENVINO"), std::string::npos) << ov.error();
  }
}

TEST(BackendVocabulary, PickTakesTheFirstRunnableInListOrder) {
  // A probe that refuses CUDA devices, as on a machine without a GPU.
  const RunnableProbe no_gpu = [](const BackendBinding& b) {
    return b.device.kind == DeviceKind::CUDA ? std::string("no CUDA device") : std::string();
  };
  const std::vector<std::string> seed_default = {"cuda", "rocm", "openvino"};
  auto pick = pick_backend(seed_default, no_gpu);
  if (build::kHaveOpenVINO) {
    ASSERT_TRUE(pick.ok()) << pick.error();
    EXPECT_EQ(pick->backend, "openvino");
    ASSERT_EQ(pick->skipped.size(), 2u);
    EXPECT_EQ(pick->skipped[0].rfind("cuda: ", 0), 0u) << pick->skipped[0];
    EXPECT_NE(pick->skipped[1].find("rocm: backend 'rocm' is not available in this build: needs"), std::string::npos)
        << pick->skipped[1];
  } else {
    ASSERT_FALSE(pick.ok());
    EXPECT_EQ(pick.error().code(), ErrorCode::Unsupported);
  }
  // With a probe that accepts everything the build serves, list order decides.
  const RunnableProbe any = [](const BackendBinding&) { return std::string(); };
  auto first = pick_backend({"rocm", "cpu", "tvm", "onnx"}, any);
  if (build::kHaveTvm) {
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->backend, "tvm");  // cpu is built-in code, passed over
    EXPECT_EQ(first->skipped.size(), 2u);
  }
  // Nothing runnable: Unsupported naming every candidate's reason.
  auto none = pick_backend({"rocm", "cpu"}, any);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(none.error().message().find("rocm: "), std::string::npos) << none.error();
  EXPECT_NE(none.error().message().find("cpu: built-in"), std::string::npos) << none.error();
}

TEST(BackendVocabulary, RocmIsNeverAvailableAndCpuAlwaysIs) {
  auto rocm = bind_backend("rocm");
  ASSERT_FALSE(rocm.ok());
  EXPECT_EQ(rocm.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(rocm.error().message().find("not available in this build: needs"), std::string::npos) << rocm.error();
  EXPECT_EQ(backend_status("rocm").availability, BackendAvailability::NotInThisBuild);
  auto cpu = bind_backend("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->registry_name.empty());  // built-in code, not a registry backend
  EXPECT_EQ(cpu->availability, BackendAvailability::Available);
}

TEST(BackendVocabulary, UnknownNameIsNotFoundWithSuggestion) {
  auto r = bind_backend("openvin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("did you mean 'openvino'?"), std::string::npos) << r.error().message();
}

TEST(BackendVocabulary, DocumentedInManifestMd) {
  std::ifstream in(std::string(AEGISRT_SOURCE_DIR) + "/docs/MANIFEST.md");
  ASSERT_TRUE(in.good()) << "docs/MANIFEST.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& e : backend_vocabulary()) {
    EXPECT_NE(doc.find("| `" + std::string(e.name) + "` |"), std::string::npos)
        << "backend '" << e.name << "' has no row in the docs/MANIFEST.md vocabulary table";
  }
}

}  // namespace
}  // namespace aegisrt::models
