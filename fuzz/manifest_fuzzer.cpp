// libFuzzer entry point for the manifest parser. Any bytes must give either a
// manifest that satisfies the catalog's invariants or typed issues; an
// exception, crash, hang or broken invariant is a finding (abort()).
// Built with clang -fsanitize=fuzzer (fuzz/CMakeLists.txt) and, as a plain
// program with fuzz_driver_main.cpp, by g++ for the CTest smoke run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "manifest_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

void check(bool cond, const char* what) {
  if (!cond) finding(what);
}

void check_accepted(const aegisrt::models::ModelManifest& m) {
  using namespace aegisrt;
  using namespace aegisrt::models;
  check(!m.name.empty(), "accepted manifest without a name");
  check(!m.variants.empty(), "accepted manifest without variants");
  check(m.find_variant(m.default_variant) != nullptr, "default variant not among the variants");
  check(!m.backends.empty(), "accepted manifest without backends");
  for (const auto& b : m.backends) check(find_backend_entry(b) != nullptr, "backend outside the vocabulary");
  check(!m.precisions.empty(), "accepted manifest without precisions");
  check(m.device_memory_mb.size() == m.variants.size(), "memory entries do not match variants");
  for (const auto& [v, mb] : m.device_memory_mb) check(mb >= 0, "negative memory accepted");
  check(!m.output.fields.empty(), "accepted manifest without output fields");
  check(output_type_of(m.output.layout) == m.output.type, "layout of another output type accepted");
  if (m.input.preprocessing) {
    const auto& p = *m.input.preprocessing;
    check(p.size.height > 0 && p.size.width > 0, "non-positive input size accepted");
    check(static_cast<int>(p.normalize.mean.size()) == m.input.channels(), "mean length != channels");
    for (double s : p.normalize.stddev) check(s > 0.0, "non-positive std accepted");
  }
  for (const auto& v : m.variants) {
    auto r = m.resolve(v.name);
    check(r.ok(), "declared variant does not resolve");
    auto bytes = m.device_memory_bytes(v.name);
    check(bytes.ok(), "declared variant has no memory");
  }

  ModelCatalog catalog;
  check(catalog.add(m).ok(), "accepted manifest rejected by the catalog");
  // The first declared backend validates at the default precision, except
  // where that backend cannot run any declared precision in this build (ONNX
  // Runtime runs fp32 only, so `cuda` meaning ORT-CUDA refuses a manifest that
  // lists no fp32): then the refusal is Unsupported, never another code.
  auto sel = catalog.validate_selection(m.name, m.backends.front());
  const bool lists_fp32 = std::find(m.precisions.begin(), m.precisions.end(), Precision::FP32) != m.precisions.end();
  // A part that refers to another model cannot resolve in a catalog of this
  // manifest alone: then the refusal is NotFound (naming the part).
  bool refers_to_models = false;
  for (const auto& v : m.variants) {
    for (const auto& part : m.parts_of(v.name)) {
      check(!part.name.empty() && part.name != kMainPart, "accepted a part without a name, or named 'main'");
      check((part.kind == PartKind::File) == !part.onnx.empty(), "a file part without a file, or a model part with one");
      check((part.kind == PartKind::Model) == !part.model.empty(), "a model part without a model");
      check(part.model != m.name, "a part refers to its own model");
      refers_to_models = refers_to_models || part.kind == PartKind::Model;
    }
  }
  check(sel.ok() || (!lists_fp32 && sel.error().code() == ErrorCode::Unsupported) ||
            (refers_to_models && sel.error().code() == ErrorCode::NotFound),
        "a declared backend does not validate");
  if (sel.ok()) check(sel->variant == m.default_variant, "selection did not default the variant");
  // Rejections must be typed, never crash.
  auto trt = catalog.validate_selection(m.name, "tensorrt", "no/such variant", "fp64");
  check(trt.ok() || trt.error().code() == ErrorCode::Unsupported || trt.error().code() == ErrorCode::NotFound ||
            trt.error().code() == ErrorCode::InvalidArgument,
        "selection error of an unexpected code");
  check(!trt.ok(), "impossible selection accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aegisrt::models;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ManifestReport report = analyze_manifest(text, "fuzz/manifest.yaml");
  check(report.ok() == report.issues.empty(), "ok() disagrees with the issue list");
  check(report.manifest.has_value() == report.issues.empty(), "manifest present together with issues");
  for (const auto& i : report.issues) {
    check(!i.message.empty(), "issue without a message");
    check(i.where.line >= 0 && i.where.column >= 0, "negative issue location");
    check(i.where.file == "fuzz/manifest.yaml", "issue names another file");
  }
  if (report.manifest) check_accepted(*report.manifest);

  auto parsed = parse_manifest(text, "fuzz/manifest.yaml");
  check(parsed.ok() == report.ok(), "parse_manifest disagrees with analyze_manifest");
  if (!parsed.ok()) {
    check(parsed.error().code() == aegisrt::ErrorCode::InvalidArgument, "manifest rejection is not InvalidArgument");
  }
  return 0;
}
