// The backend conformance suite (see conformance.h). Every case checks a
// contract from docs/ARCHITECTURE.md "The backend boundary".
#include "conformance/conformance.h"

#include "aegisrt/io/compare.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace aegisrt::testing {
namespace {

double element_as_double(const void* data, DType t, std::int64_t i) {
  // Every DType's decoding lives in io::element_as_double (NaN for strings).
  return io::element_as_double(TensorView(data, Shape{i + 1}, t), i);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<NamedTensorView> views_of(const std::vector<Tensor>& ts) {
  std::vector<NamedTensorView> v;
  for (const auto& t : ts) v.push_back({t.name(), t.view()});
  return v;
}

// Runs `fn` and fails the test if anything is thrown.
template <typename F>
auto no_throw(F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception escaped the backend interface: " << e.what();
    throw;
  } catch (...) {
    ADD_FAILURE() << "unknown exception escaped the backend interface";
    throw;
  }
}

}  // namespace

std::string case_name(const ::testing::TestParamInfo<BackendUnderTest>& info) {
  return info.param.label;
}

std::string compare_tensors(const Tensor& actual, const Tensor& expected, double atol,
                            double rtol) {
  std::ostringstream msg;
  if (actual.shape() != expected.shape()) {
    msg << "shape " << shape_to_string(actual.shape()) << " != expected "
        << shape_to_string(expected.shape());
    return msg.str();
  }
  if (!actual.location().is_host() || !expected.location().is_host()) return "not host tensors";
  double worst = 0;
  std::int64_t worst_i = -1;
  for (std::int64_t i = 0; i < expected.element_count(); ++i) {
    const double a = element_as_double(actual.data(), actual.dtype(), i);
    const double e = element_as_double(expected.data(), expected.dtype(), i);
    const double err = std::abs(a - e);
    const double allowed = atol + rtol * std::abs(e);
    if (!(err <= allowed) && (worst_i < 0 || err - allowed > worst)) {
      worst = err - allowed;
      worst_i = i;
    }
  }
  if (worst_i < 0) return {};
  msg << "element " << worst_i << ": got " << element_as_double(actual.data(), actual.dtype(), worst_i)
      << ", expected " << element_as_double(expected.data(), expected.dtype(), worst_i)
      << " (atol " << atol << ", rtol " << rtol << ")";
  return msg.str();
}

void BackendConformance::SetUp() {
  const auto& p = GetParam();
  if (!p.skip_reason.empty()) GTEST_SKIP() << p.skip_reason;
  backend_ = p.make_backend();
  ASSERT_NE(backend_, nullptr);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string leaf = std::string(info->name());
  for (auto& c : leaf)
    if (c == '/') c = '_';
  temp_dir_ = std::filesystem::temp_directory_path() /
              ("aegisrt_conf_" + std::to_string(::getpid()) + "_" + leaf);
  std::filesystem::create_directories(temp_dir_);
}

void BackendConformance::TearDown() {
  if (backend_) backend_->unload();
  std::error_code ec;
  if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_, ec);
}

std::filesystem::path BackendConformance::write_temp_file(const std::string& name,
                                                          const std::string& bytes) {
  auto p = temp_dir_ / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

void BackendConformance::skip_if_unsupported(const std::string& feature) {
  const auto& u = GetParam().unsupported;
  if (auto it = u.find(feature); it != u.end()) GTEST_SKIP() << feature << ": " << it->second;
}

// Loads the valid artefact; asserts success.
#define AEGIS_LOAD_VALID()                                          \
  do {                                                              \
    auto r_ = no_throw([&] { return backend_->load(GetParam().valid_options()); }); \
    ASSERT_TRUE(r_.ok()) << r_.error();                             \
  } while (0)

TEST_P(BackendConformance, LoadSucceedsWithValidArtefact) {
  AEGIS_LOAD_VALID();
  EXPECT_TRUE(backend_->is_loaded());
  EXPECT_FALSE(backend_->input_specs().empty());
  EXPECT_FALSE(backend_->output_specs().empty());
  EXPECT_FALSE(backend_->name().empty());
}

TEST_P(BackendConformance, LoadMissingFileIsNotFound) {
  auto opts = GetParam().valid_options();
  opts.artifact_path = temp_dir_ / "does_not_exist.bin";
  auto r = no_throw([&] { return backend_->load(opts); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound) << r.error();
  EXPECT_NE(r.error().to_string().find("does_not_exist.bin"), std::string::npos) << r.error();
  EXPECT_FALSE(backend_->is_loaded());
}

TEST_P(BackendConformance, LoadEmptyFileIsCorrupt) {
  auto opts = GetParam().valid_options();
  opts.artifact_path = write_temp_file("empty" + opts.artifact_path.extension().string(), "");
  auto r = no_throw([&] { return backend_->load(opts); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
  EXPECT_FALSE(backend_->is_loaded());
}

TEST_P(BackendConformance, LoadTruncatedFileIsTypedError) {
  skip_if_unsupported("truncated_file");
  auto opts = GetParam().valid_options();
  const auto bytes = read_file(opts.artifact_path);
  ASSERT_GT(bytes.size(), 4u);
  opts.artifact_path =
      write_temp_file("truncated" + opts.artifact_path.extension().string(), bytes.substr(0, bytes.size() / 2));
  auto r = no_throw([&] { return backend_->load(opts); });
  ASSERT_FALSE(r.ok()) << "a truncated artefact was accepted";
  EXPECT_TRUE(r.error().code() == ErrorCode::Corrupt || r.error().code() == ErrorCode::BackendError)
      << r.error();
  EXPECT_FALSE(backend_->is_loaded());
}

TEST_P(BackendConformance, LoadForeignFileIsTypedError) {
  skip_if_unsupported("foreign_file");
  auto opts = GetParam().valid_options();
  // A PNG signature followed by noise: clearly not a model of any kind.
  std::string junk = "\x89PNG\r\n\x1a\n";
  std::mt19937 rng(7);
  for (int i = 0; i < 512; ++i) junk.push_back(static_cast<char>(rng() & 0xFF));
  opts.artifact_path = write_temp_file("foreign" + opts.artifact_path.extension().string(), junk);
  auto r = no_throw([&] { return backend_->load(opts); });
  ASSERT_FALSE(r.ok()) << "a foreign file was accepted as a model";
  EXPECT_TRUE(r.error().code() == ErrorCode::Corrupt || r.error().code() == ErrorCode::BackendError)
      << r.error();
  EXPECT_FALSE(backend_->is_loaded());
}

TEST_P(BackendConformance, ExecuteBeforeLoadIsFailedPrecondition) {
  auto inputs = GetParam().make_inputs(0);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition) << r.error();
  auto mem = backend_->estimate_memory();
  ASSERT_FALSE(mem.ok());
  EXPECT_EQ(mem.error().code(), ErrorCode::FailedPrecondition);
}

TEST_P(BackendConformance, ExecuteMatchesReference) {
  AEGIS_LOAD_VALID();
  const auto& p = GetParam();
  for (int seed = 0; seed < 3; ++seed) {
    auto inputs = p.make_inputs(seed);
    ExecutionRequest req;
    req.inputs = views_of(inputs);
    auto r = no_throw([&] { return backend_->execute(req); });
    ASSERT_TRUE(r.ok()) << r.error();
    auto expected = p.reference(inputs);
    ASSERT_EQ(r->outputs.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(compare_tensors(r->outputs[i], expected[i], p.atol, p.rtol), "")
          << "output " << i << " (" << r->outputs[i].name() << "), seed " << seed;
    }
    EXPECT_GE(r->latency.count(), 0);
  }
}

TEST_P(BackendConformance, OutputsMatchDeclaredSpecs) {
  AEGIS_LOAD_VALID();
  auto inputs = GetParam().make_inputs(1);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_TRUE(r.ok()) << r.error();
  const auto specs = backend_->output_specs();
  ASSERT_EQ(r->outputs.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(r->outputs[i].name(), specs[i].name);
    EXPECT_EQ(r->outputs[i].dtype(), specs[i].dtype) << specs[i].name;
    EXPECT_TRUE(specs[i].accepts_shape(r->outputs[i].shape()))
        << specs[i].to_string() << " vs " << shape_to_string(r->outputs[i].shape());
    EXPECT_TRUE(r->outputs[i].location().is_host());
  }
}

TEST_P(BackendConformance, UnloadIsIdempotent) {
  no_throw([&] { backend_->unload(); return 0; });  // nothing loaded yet
  AEGIS_LOAD_VALID();
  for (int i = 0; i < 5; ++i) no_throw([&] { backend_->unload(); return 0; });
  EXPECT_FALSE(backend_->is_loaded());
  EXPECT_TRUE(backend_->input_specs().empty());
  auto inputs = GetParam().make_inputs(0);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  auto r = backend_->execute(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition);
}

TEST_P(BackendConformance, ReloadGivesSameOutputs) {
  const auto& p = GetParam();
  auto inputs = p.make_inputs(5);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  AEGIS_LOAD_VALID();
  auto first = backend_->execute(req);
  ASSERT_TRUE(first.ok()) << first.error();
  backend_->unload();
  AEGIS_LOAD_VALID();
  AEGIS_LOAD_VALID();  // load over a loaded model replaces it
  auto second = backend_->execute(req);
  ASSERT_TRUE(second.ok()) << second.error();
  ASSERT_EQ(first->outputs.size(), second->outputs.size());
  for (std::size_t i = 0; i < first->outputs.size(); ++i) {
    EXPECT_EQ(compare_tensors(second->outputs[i], first->outputs[i], 0.0, 0.0), "");
  }
}

TEST_P(BackendConformance, WrongDtypeIsInvalidArgumentNamingTensor) {
  AEGIS_LOAD_VALID();
  const auto specs = backend_->input_specs();
  auto inputs = GetParam().make_inputs(0);
  const DType wrong = specs[0].dtype == DType::Int32 ? DType::Float32 : DType::Int32;
  auto bad = Tensor::allocate_host(inputs[0].shape(), wrong, specs[0].name);
  ASSERT_TRUE(bad.ok());
  auto views = views_of(inputs);
  views[0].view = bad->view();
  ExecutionRequest req;
  req.inputs = views;
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
  EXPECT_NE(r.error().message().find(specs[0].name), std::string::npos) << r.error();
}

TEST_P(BackendConformance, WrongShapeIsInvalidArgumentNamingTensor) {
  AEGIS_LOAD_VALID();
  const auto specs = backend_->input_specs();
  auto inputs = GetParam().make_inputs(0);
  // Wrong rank: one extra trailing dim.
  Shape rank_plus = inputs[0].shape();
  rank_plus.push_back(1);
  auto bad = Tensor::allocate_host(rank_plus, specs[0].dtype, specs[0].name);
  ASSERT_TRUE(bad.ok());
  auto views = views_of(inputs);
  views[0].view = bad->view();
  ExecutionRequest req;
  req.inputs = views;
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
  EXPECT_NE(r.error().message().find(specs[0].name), std::string::npos) << r.error();

  // Wrong static dim, if the spec has one.
  for (std::size_t d = 0; d < specs[0].shape.size(); ++d) {
    if (specs[0].shape[d] < 0) continue;
    Shape s = inputs[0].shape();
    s[d] += 1;
    auto bad2 = Tensor::allocate_host(s, specs[0].dtype, specs[0].name);
    ASSERT_TRUE(bad2.ok());
    views[0].view = bad2->view();
    req.inputs = views;
    auto r2 = no_throw([&] { return backend_->execute(req); });
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code(), ErrorCode::InvalidArgument) << r2.error();
    EXPECT_NE(r2.error().message().find(specs[0].name), std::string::npos) << r2.error();
    break;
  }
}

TEST_P(BackendConformance, WrongInputCountOrNameIsInvalidArgument) {
  AEGIS_LOAD_VALID();
  auto inputs = GetParam().make_inputs(0);
  ExecutionRequest req;
  auto views = views_of(inputs);
  views.push_back(views[0]);
  views.back().name = "no_such_input";
  req.inputs = views;
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();

  views = views_of(inputs);
  views[0].name = "no_such_input";
  req.inputs = views;
  auto r2 = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::InvalidArgument) << r2.error();
  EXPECT_NE(r2.error().message().find("no_such_input"), std::string::npos);
}

TEST_P(BackendConformance, InconsistentViewIsInvalidArgument) {
  AEGIS_LOAD_VALID();
  auto inputs = GetParam().make_inputs(0);
  auto views = views_of(inputs);
  const auto& t = inputs[0];
  Shape bad_strides(t.shape().size() + 1, 1);  // rank mismatch
  views[0].view = TensorView(t.data(), t.shape(), bad_strides, t.dtype());
  ExecutionRequest req;
  req.inputs = views;
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();

  views[0].view = TensorView(nullptr, t.shape(), t.dtype());  // null data
  req.inputs = views;
  auto r2 = no_throw([&] { return backend_->execute(req); });
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::InvalidArgument) << r2.error();
}

TEST_P(BackendConformance, NonContiguousInputMatchesContiguous) {
  AEGIS_LOAD_VALID();
  auto inputs = GetParam().make_inputs(3);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  auto contiguous = backend_->execute(req);
  ASSERT_TRUE(contiguous.ok()) << contiguous.error();

  // Place every input in a buffer twice as wide in the last dim and view
  // every other element: same logical tensor, non-contiguous strides.
  std::vector<Tensor> wide;
  auto views = views_of(inputs);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const auto& t = inputs[k];
    if (t.shape().empty()) continue;
    Shape ws = t.shape();
    ws.back() *= 2;
    auto w = Tensor::allocate_host(ws, t.dtype(), t.name());
    ASSERT_TRUE(w.ok());
    const auto es = dtype_size(t.dtype());
    const auto* src = static_cast<const std::byte*>(t.data());
    auto* dst = static_cast<std::byte*>(w->data());
    for (std::int64_t i = 0; i < t.element_count(); ++i) {
      std::memcpy(dst + static_cast<std::size_t>(2 * i) * es, src + static_cast<std::size_t>(i) * es, es);
    }
    Shape strides = contiguous_strides(ws);
    strides.back() = 2;  // element i of the logical tensor sits at 2*i
    views[k].view = TensorView(w->data(), t.shape(), strides, t.dtype());
    if (t.shape().back() > 1) {
      ASSERT_FALSE(views[k].view.is_contiguous());
    }
    wide.push_back(std::move(*w));
  }
  req.inputs = views;
  auto strided = no_throw([&] { return backend_->execute(req); });
  ASSERT_TRUE(strided.ok()) << strided.error();
  ASSERT_EQ(strided->outputs.size(), contiguous->outputs.size());
  for (std::size_t i = 0; i < contiguous->outputs.size(); ++i) {
    EXPECT_EQ(compare_tensors(strided->outputs[i], contiguous->outputs[i], 0.0, 0.0), "");
  }
}

TEST_P(BackendConformance, ConcurrentExecuteIsCorrect) {
  skip_if_unsupported("concurrency");
  AEGIS_LOAD_VALID();
  const auto& p = GetParam();
  constexpr int kThreads = 8;
  constexpr int kIters = 10;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        auto inputs = p.make_inputs(100 + t * kIters + i);
        ExecutionRequest req;
        req.inputs = views_of(inputs);
        auto r = backend_->execute(req);
        if (!r.ok()) {
          failures[t] = r.error().to_string();
          return;
        }
        auto expected = p.reference(inputs);
        for (std::size_t o = 0; o < expected.size(); ++o) {
          auto diff = compare_tensors(r->outputs[o], expected[o], p.atol, p.rtol);
          if (!diff.empty()) {
            failures[t] = "thread " + std::to_string(t) + ": " + diff;
            return;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
}

TEST_P(BackendConformance, EstimateMemoryAfterLoad) {
  AEGIS_LOAD_VALID();
  auto mem = backend_->estimate_memory();
  ASSERT_TRUE(mem.ok()) << mem.error();
  EXPECT_GT(*mem, 0u);
}

TEST_P(BackendConformance, DeadlineMissIsReportedNotLost) {
  AEGIS_LOAD_VALID();
  auto inputs = GetParam().make_inputs(0);
  ExecutionRequest req;
  req.inputs = views_of(inputs);
  req.deadline = Clock::now() - std::chrono::seconds(1);  // already past
  auto r = no_throw([&] { return backend_->execute(req); });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->deadline_missed);
  EXPECT_EQ(r->outputs.size(), backend_->output_specs().size());
}

}  // namespace aegisrt::testing
