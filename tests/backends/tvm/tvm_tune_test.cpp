// `TvmBuildOptions::tune_seconds` (aegisrt build --tune): a MetaSchedule search
// on the llvm target, its records kept in the sidecar, the tuned library
// computing the numpy reference, loads preferring it, and a re-tune with
// another budget starting from the kept records. Each tuned build takes
// 1-2 minutes on a small machine (MetaSchedule's imports, then the search).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "aegisrt/backend/registry.h"
#include "aegisrt/io/npy.h"
#include "backends/tvm/tvm_test_util.h"
#include "common/temp_dir.h"
#include "conformance/conformance.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

Tensor npy(const std::string& model, const char* kind) {
  auto t = io::read_npy(fs::path(AEGISRT_TEST_DATA_DIR) / "models" / (model + "." + kind + "_0.npy"));
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? std::move(*t) : Tensor();
}

/// Runs `library` (a built .so with its sidecar) on small_cnn's saved input
/// and compares with the numpy reference gen_onnx_models.py saved.
void expect_small_cnn_reference(const fs::path& library) {
  auto backend = make_tvm_backend();
  LoadOptions o;
  o.artifact_path = library;
  auto loaded = backend->load(o);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Tensor x = npy("small_cnn", "input");
  ExecutionRequest req;
  req.inputs.push_back({"x", x.view()});
  auto out = backend->execute(req);
  ASSERT_TRUE(out.ok()) << out.error();
  ASSERT_EQ(out->outputs.size(), 1u);
  EXPECT_EQ(compare_tensors(out->outputs[0], npy("small_cnn", "output"), 1e-4, 1e-4), "") << library;
}

TEST(TvmTune, TunedLibraryKeepsItsRecordsMatchesTheReferenceIsPreferredAndReTunesFromItsRecords) {
  TempDir temp("aegisrt_tvmtune_");
  TvmBuildOptions b;
  b.model = test_model("small_cnn");
  b.variant = "sc";
  b.cache_dir = temp.path() / "cache";
  b.tune_seconds = 3;
  std::vector<std::string> stages;
  auto tuned = build_tvm_library(b, [&](std::string_view s, double) { stages.emplace_back(s); });
  ASSERT_TRUE(tuned.ok()) << tuned.error();
  EXPECT_EQ(tuned->outcome, CacheOutcome::Built);
  EXPECT_EQ(tuned->artifact_path, b.cache_dir / "sc_fp32_cpu-tuned.so");
  EXPECT_EQ(tuned->metadata.build_options.at("tuning"), "metaschedule:3s");
  EXPECT_TRUE(std::any_of(stages.begin(), stages.end(), [](const std::string& s) { return s.starts_with("tune: "); }))
      << "no tuning progress reported";

  // The kept summary: budget, trials, and one best record per tuned function.
  auto summary = tvm_tuning_summary(tuned->metadata, "tuned");
  ASSERT_TRUE(summary.ok()) << summary.error();
  ASSERT_TRUE(summary->has_value());
  const TvmTuningSummary s = **summary;
  EXPECT_EQ(s.budget_seconds, 3);
  EXPECT_GE(s.tasks, 1);
  EXPECT_GE(s.records, 1);
  EXPECT_LE(s.records, s.tasks);
  EXPECT_GE(s.trials, s.records);
  EXPECT_EQ(s.seed_records, 0);
  const auto kept = nlohmann::json::parse(tuned->metadata.extra.at("tuning"));
  std::set<long long> workloads;
  for (const auto& line : kept["records"]) {
    const auto rec = nlohmann::json::parse(line.get<std::string>());
    EXPECT_TRUE(workloads.insert(rec[0].get<long long>()).second) << "two records for workload " << rec[0];
    const auto& run_secs = rec[1][1];  // [trace, run_secs, target, args_info]
    ASSERT_TRUE(run_secs.is_array() && !run_secs.empty()) << line;
    for (const auto& t : run_secs) EXPECT_GT(t.get<double>(), 0.0) << line;
  }
  // The I/O description says the library is tuned, with the same figures.
  const auto io = nlohmann::json::parse(tuned->metadata.extra.at("io"));
  EXPECT_EQ(io["tuning"]["records"].get<int>(), s.records);

  expect_small_cnn_reference(tuned->artifact_path);

  // Same budget again: a hit. An untuned request that prefers tuned libraries
  // gets it without building; one that does not builds the untuned library.
  auto again = build_tvm_library(b);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->outcome, CacheOutcome::Hit);
  TvmBuildOptions plain = b;
  plain.tune_seconds = 0;
  plain.prefer_tuned = true;
  auto preferred = build_tvm_library(plain);
  ASSERT_TRUE(preferred.ok()) << preferred.error();
  EXPECT_EQ(preferred->outcome, CacheOutcome::Hit);
  EXPECT_EQ(preferred->artifact_path, tuned->artifact_path);
  plain.prefer_tuned = false;
  auto untuned = build_tvm_library(plain);
  ASSERT_TRUE(untuned.ok()) << untuned.error();
  EXPECT_EQ(untuned->outcome, CacheOutcome::Built);
  EXPECT_EQ(untuned->artifact_path, b.cache_dir / "sc_fp32_cpu.so");
  EXPECT_TRUE(untuned->metadata.extra.count("tuning") == 0);
  EXPECT_TRUE(fs::exists(tuned->artifact_path)) << "the untuned build replaced the tuned library";

  // A damaged record list makes the entry unusable (lookup and verify alike),
  // and the tuned-library preference then falls back to the untuned library.
  ArtifactMetadata damaged = tuned->metadata;
  damaged.extra["tuning"] = R"({"workloads": [], "records": ["[0, [[], [1e-6]]]"], "budget_seconds": 3,
                                "search_seconds": 1, "trials": 1, "tasks": 1})";
  auto bad = tvm_tuning_summary(damaged, "damaged.so.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().message().find("damaged.so.json"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().message().find("does not name one of the 0 workloads"), std::string::npos) << bad.error();
  EXPECT_TRUE(tvm_validate_entry(damaged, "sc_fp32_cpu-tuned.so").has_value());
  damaged.extra.erase("tuning");
  EXPECT_TRUE(tvm_validate_entry(damaged, "sc_fp32_cpu-tuned.so").has_value());
  damaged = tuned->metadata;
  damaged.build_options["tuning"] = "metaschedule:4s";  // the key's budget is not the summary's
  EXPECT_FALSE(tvm_tuning_summary(damaged, "x").ok());
  EXPECT_FALSE(tvm_validate_entry(tuned->metadata, "sc_fp32_cpu-tuned.so").has_value());
  // ... and a tuned entry under an untuned file name is refused.
  EXPECT_TRUE(tvm_validate_entry(tuned->metadata, "sc_fp32_cpu.so").has_value());

  // Another budget: re-tuned (the key changed), starting from the kept records.
  b.tune_seconds = 4;
  auto retuned = build_tvm_library(b);
  ASSERT_TRUE(retuned.ok()) << retuned.error();
  EXPECT_EQ(retuned->outcome, CacheOutcome::Built);
  EXPECT_EQ(retuned->artifact_path, tuned->artifact_path);
  auto s2 = tvm_tuning_summary(retuned->metadata, "retuned");
  ASSERT_TRUE(s2.ok() && s2->has_value()) << (s2.ok() ? "untuned" : s2.error().message());
  EXPECT_EQ((*s2)->budget_seconds, 4);
  EXPECT_EQ((*s2)->seed_records, s.records);
  EXPECT_GE((*s2)->records, s.records) << "the re-tune lost records it started from";
  expect_small_cnn_reference(retuned->artifact_path);
}

TEST(TvmTune, BadBudgetsAndTuneOptionsAreRefused) {
  TempDir temp("aegisrt_tvmtune_");
  TvmBuildOptions b;
  b.model = test_model("small_cnn");
  b.cache_dir = temp.path() / "cache";
  b.tune_seconds = -1;
  auto r = build_tvm_library(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("-1 s is negative"), std::string::npos) << r.error();
  EXPECT_FALSE(fs::exists(b.cache_dir / "small_cnn_fp32_cpu-tuned.so"));

  // Backend option tune: auto | off | seconds; nothing else, and not for a built library.
  for (const char* bad : {"-3", "0", "fast", "1.5", "604801"}) {
    auto backend = make_tvm_backend();
    LoadOptions o;
    o.artifact_path = test_model("small_cnn");
    o.cache_dir = tvm_test_cache();
    o.backend_options["tune"] = bad;
    auto loaded = backend->load(o);
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.error().code(), ErrorCode::InvalidArgument) << bad;
    EXPECT_NE(loaded.error().message().find("tune"), std::string::npos) << loaded.error();
  }
  auto backend = make_tvm_backend();
  LoadOptions o;
  o.artifact_path = test_model("small_cnn");
  o.cache_dir = tvm_test_cache();
  o.backend_options["tune"] = "off";
  auto loaded = backend->load(o);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  backend->unload();

  TvmBuildOptions lib;
  lib.model = test_model("small_cnn");
  lib.cache_dir = tvm_test_cache();
  auto built = build_tvm_library(lib);
  ASSERT_TRUE(built.ok()) << built.error();
  auto on_library = make_tvm_backend();
  LoadOptions lo;
  lo.artifact_path = built->artifact_path;
  lo.backend_options["tune"] = "30";
  auto refused = on_library->load(lo);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(refused.error().message().find("not to a built library"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace aegisrt::testing
