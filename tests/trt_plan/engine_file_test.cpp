// Engine file pre-checks and sidecar-versus-runtime checks (no TensorRT needed).
#include <gtest/gtest.h>
#include "aegisrt/core/file_util.h"

#include <filesystem>
#include <fstream>

#include "aegisrt/trt_plan/engine_file.h"

namespace aegisrt::trt {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string binary_blob(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  s[0] = 'f';  // arbitrary binary; not a recognised foreign format
  s[1] = '\x01';
  return s;
}

TEST(EngineFile, RecognisesForeignFormats) {
  EXPECT_EQ(sniff_artifact(bytes_of(std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(300, '\0'))),
            ArtifactFormat::Elf);
  EXPECT_EQ(sniff_artifact(bytes_of(std::string("PK\x03\x04", 4) + std::string(300, '\x01'))), ArtifactFormat::Zip);
  EXPECT_EQ(sniff_artifact(bytes_of("  {\"engine\": 1}")), ArtifactFormat::Json);
  EXPECT_EQ(sniff_artifact(bytes_of(std::string(400, 'x') + "\n")), ArtifactFormat::Text);
  EXPECT_EQ(sniff_artifact(bytes_of(binary_blob(4096))), ArtifactFormat::Unknown);
  std::string onnx =
      aegisrt::read_file(std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "tensorrt/conv.onnx", "model").value();
  EXPECT_EQ(sniff_artifact(bytes_of(onnx)), ArtifactFormat::Onnx);
}

TEST(EngineFile, PrecheckRejectsForeignAndTruncatedFiles) {
  EXPECT_TRUE(precheck_engine_bytes(bytes_of(binary_blob(4096)), "e.engine").ok());
  auto tiny = precheck_engine_bytes(bytes_of(binary_blob(kMinEngineBytes - 1)), "e.engine");
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(tiny.error().message().find("truncated"), std::string::npos);
  auto elf = precheck_engine_bytes(bytes_of(std::string("\x7f" "ELF", 4) + std::string(500, '\0')), "lib.engine");
  ASSERT_FALSE(elf.ok());
  EXPECT_EQ(elf.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(elf.error().message().find("lib.engine is an ELF"), std::string::npos);
  std::string onnx =
      aegisrt::read_file(std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "tensorrt/conv.onnx", "model").value();
  auto o = precheck_engine_bytes(bytes_of(onnx), "m.engine");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message().find("ONNX model"), std::string::npos);
}

ArtifactMetadata sidecar() {
  ArtifactMetadata md;
  md.backend = "tensorrt";
  md.backend_version = "10.16.0.72";
  md.gpu_uuid = "GPU-a";
  md.gpu_name = "Orin";
  md.compute_capability = "8.7";
  return md;
}

TEST(EngineFile, SidecarMismatchIsStaleWithTheReason) {
  const GpuIdentity orin{"GPU-a", "Orin", 8, 7};
  EXPECT_TRUE(check_engine_metadata(sidecar(), {10, 16, 0, 72}, orin, "e").ok());
  auto v = check_engine_metadata(sidecar(), {11, 1, 0, 106}, orin, "e.engine");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::Stale);
  EXPECT_NE(v.error().message().find("built by TensorRT 10.16.0.72, this is TensorRT 11.1.0.106"), std::string::npos);
  auto cc = check_engine_metadata(sidecar(), {10, 16, 0, 72}, {"GPU-b", "H100", 9, 0}, "e.engine");
  ASSERT_FALSE(cc.ok());
  EXPECT_EQ(cc.error().code(), ErrorCode::Stale);
  EXPECT_NE(cc.error().message().find("compute capability 8.7"), std::string::npos);
  auto uuid = check_engine_metadata(sidecar(), {10, 16, 0, 72}, {"GPU-c", "Orin", 8, 7}, "e.engine");
  ASSERT_FALSE(uuid.ok());
  EXPECT_NE(uuid.error().message().find("GPU-a"), std::string::npos);
  auto md = sidecar();
  md.backend = "tvm";
  EXPECT_EQ(check_engine_metadata(md, {10, 16, 0, 72}, orin, "e").error().code(), ErrorCode::Corrupt);
  md = sidecar();
  md.backend_version = "ten";
  EXPECT_EQ(check_engine_metadata(md, {10, 16, 0, 72}, orin, "e").error().code(), ErrorCode::Corrupt);
}

}  // namespace
}  // namespace aegisrt::trt
