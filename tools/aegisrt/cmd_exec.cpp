// aegisrt exec / aegisrt compare: run any model file on given (or seeded
// random) tensors through one backend, or through several and compare their
// outputs. A thin layer over aegisrt/io (inputs, model_runner, compare).
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/backend/registry.h"
#include "aegisrt/io/compare.h"
#include "aegisrt/io/inputs.h"
#include "aegisrt/io/model_runner.h"
#include "aegisrt/io/tensor_files.h"
#include "aegisrt/io/test_data.h"
#include "cli_common.h"

namespace aegisrt::cli {

namespace {

/// Flags shared by exec and compare.
struct CommonArgs {
  std::string model_file;
  std::string precision = "fp32";
  std::string device = "cpu";
  std::string cache_dir;
  std::vector<std::string> inputs;  // NAME=FILE or FILE
  std::string inputs_dir;
  std::vector<std::string> shapes;  // NAME=1x3x224x224
  std::vector<std::string> backend_options;  // KEY=VALUE
  std::uint64_t seed = 0;
  bool json = false;
};

struct ExecArgs {
  CommonArgs common;
  std::string backend = "onnx";
  int iterations = 1;
  int warmup = 0;
  std::string save_outputs;
  std::string save_inputs;
  // Expected outputs: --expected, else output_<k>.pb found in --inputs-dir.
  std::string expected;
  bool no_expected = false;
  double atol = io::Tolerance{}.atol;
  double rtol = io::Tolerance{}.rtol;
};

struct CompareArgs {
  CommonArgs common;
  std::string backends;
  double atol = io::Tolerance{}.atol;
  double rtol = io::Tolerance{}.rtol;
};

void add_common_options(CLI::App* cmd, CommonArgs& a) {
  cmd->add_option("--model-file,-m", a.model_file, "Model file (.onnx; a built artefact where the backend takes one)")
      ->required();
  cmd->add_option("--precision", a.precision, "fp32 | fp16 | int8 (how TVM/TensorRT build it)")
      ->capture_default_str();
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--cache-dir", a.cache_dir, "Artefact cache for backends that compile (TVM, TensorRT)");
  add_lock_timeout_option(cmd);
  cmd->add_option("--input,-i", a.inputs,
                  "NAME=FILE (.npy, .pb, or .npz entry NAME) or FILE.npz (all its entries); repeatable");
  cmd->add_option("--inputs-dir", a.inputs_dir,
                  "Folder of NAME.npy / NAME.pb / input_<k>.pb / *.npz files; ONNX test-data layout works "
                  "(output_<k>.pb there are expected outputs, not inputs)");
  cmd->add_option("--shape", a.shapes, "NAME=1x3x224x224: shape for a randomly filled input with dynamic dims; repeatable");
  cmd->add_option("--seed", a.seed, "Seed for random inputs")->capture_default_str();
  cmd->add_option("--backend-option", a.backend_options, "KEY=VALUE passed to the backend (LoadOptions); repeatable");
  cmd->add_flag("--json", a.json, "Machine-readable output");
}

Result<std::pair<std::string, std::string>> split_key_value(const std::string& s, std::string_view what) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Error(ErrorCode::InvalidArgument, "bad " + std::string(what) + " '" + s + "': expected KEY=VALUE");
  }
  return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
}

Result<LoadOptions> make_load_options(const CommonArgs& a, const std::string& model_file,
                                      const std::optional<std::string>& precision_override) {
  LoadOptions o;
  o.artifact_path = model_file;
  const std::string p = precision_override.value_or(a.precision);
  const auto precision = parse_precision(p);
  if (!precision) return Error(ErrorCode::InvalidArgument, "unknown precision '" + p + "' (fp32, fp16, int8)");
  o.precision = *precision;
  const auto device = parse_device(a.device);
  if (!device) return Error(ErrorCode::InvalidArgument, "unknown device '" + a.device + "' (cpu, cuda, cuda:N)");
  o.device = *device;
  o.cache_dir = a.cache_dir;
  for (const auto& kv : a.backend_options) {
    AEGIS_ASSIGN_OR_RETURN(auto pair, split_key_value(kv, "--backend-option"));
    o.backend_options[pair.first] = pair.second;
  }
  return o;
}

Result<std::unique_ptr<RuntimeBackend>> load_backend(const std::string& name, const LoadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(auto backend, BackendFactory::create(name));
  AEGIS_TRY(backend->load(options));
  return backend;
}

/// Expected outputs: float64 files are narrowed to float32 (np.save of a
/// default float array gives float64, and the model's outputs are float32).
io::ReadOptions tensor_read_options() {
  io::ReadOptions ro;
  ro.float64_to_float32 = true;
  return ro;
}

/// Tensors from --input and --inputs-dir, with where each came from. The
/// folder's output_<k>.pb files (ONNX test-data layout) go to `expected`.
Result<std::vector<io::ProvidedTensor>> read_user_tensors(const CommonArgs& a,
                                                          std::vector<io::ExpectedTensor>& expected) {
  // float64 files stay float64 (float64 models take them); prepare_inputs_for
  // narrows one given for a float32 input.
  const io::ReadOptions ro;
  std::vector<io::ProvidedTensor> out;
  if (!a.inputs_dir.empty()) {
    AEGIS_ASSIGN_OR_RETURN(auto dir, io::read_inputs_dir(a.inputs_dir, ro));
    out = std::move(dir.inputs);
    expected = std::move(dir.expected);
  }
  for (const auto& arg : a.inputs) {
    std::error_code ec;
    const auto eq = arg.find('=');
    if (eq == std::string::npos || std::filesystem::exists(arg, ec)) {
      AEGIS_ASSIGN_OR_RETURN(auto tensors, io::read_tensor_file(arg, ro));
      for (auto& t : tensors) {
        const std::string origin = "'" + arg + "'" + (tensors.size() > 1 ? " entry '" + t.name() + "'" : "");
        out.push_back({std::move(t), origin});
      }
      continue;
    }
    const std::string name = arg.substr(0, eq);
    const std::string file = arg.substr(eq + 1);
    AEGIS_ASSIGN_OR_RETURN(auto tensors, io::read_tensor_file(file, ro));
    std::optional<Tensor> chosen;
    if (tensors.size() == 1) {
      chosen = std::move(tensors.front());
    } else {
      for (auto& t : tensors)
        if (t.name() == name) chosen = std::move(t);
    }
    if (!chosen) {
      return Error(ErrorCode::InvalidArgument,
                   "'" + file + "' holds " + std::to_string(tensors.size()) + " tensors and none is named '" + name + "'");
    }
    chosen->set_name(name);
    out.push_back({std::move(*chosen), "'" + file + "'"});
  }
  // Later sources override earlier ones: --input beats --inputs-dir.
  std::vector<io::ProvidedTensor> dedup;
  for (auto& p : out) {
    bool replaced = false;
    for (auto& d : dedup) {
      if (d.tensor.name() == p.tensor.name()) {
        spdlog::info("input '{}': {} overrides {}", p.tensor.name(), p.origin, d.origin);
        d = std::move(p);
        replaced = true;
        break;
      }
    }
    if (!replaced) dedup.push_back(std::move(p));
  }
  return dedup;
}

Result<io::PreparedInputs> gather_inputs(const CommonArgs& a, const std::vector<TensorDesc>& specs,
                                         std::vector<io::ExpectedTensor>& expected) {
  std::map<std::string, Shape, std::less<>> shapes;
  for (const auto& s : a.shapes) {
    AEGIS_ASSIGN_OR_RETURN(auto named, io::parse_named_shape(s));
    shapes[named.first] = std::move(named.second);
  }
  AEGIS_ASSIGN_OR_RETURN(auto provided, read_user_tensors(a, expected));
  auto prepared = io::prepare_inputs_for(specs, std::move(provided), shapes, a.seed);
  if (!prepared.ok() && prepared.error().message().find("dynamic dimension") != std::string::npos) {
    const auto& e = prepared.error();
    return Error(e.code(), e.message() + "; pass --shape NAME=DIMS or --input NAME=FILE", e.context());
  }
  return prepared;
}

nlohmann::json shape_json(const Shape& s) {
  auto j = nlohmann::json::array();
  for (auto d : s) j.push_back(d);
  return j;
}

/// JSON has no inf/nan: those become null.
nlohmann::json number_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string index_string(const Shape& idx) {
  std::string s = "[";
  for (std::size_t i = 0; i < idx.size(); ++i) s += (i ? ", " : "") + std::to_string(idx[i]);
  return s + "]";
}

struct ValueStats {
  double min = 0, max = 0, mean = 0;
};

ValueStats value_stats(const Tensor& t) {
  ValueStats s;
  const auto n = t.element_count();
  if (n <= 0 || !t.location().is_host() || dtype_is_string(t.dtype())) return s;
  const auto v = t.view();
  s.min = s.max = io::element_as_double(v, 0);
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = io::element_as_double(v, i);
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    sum += x;
  }
  s.mean = sum / static_cast<double>(n);
  return s;
}

nlohmann::json comparison_json(const io::TensorComparison& c) {
  nlohmann::json oj = {{"name", c.name},
                       {"passed", c.passed},
                       {"elements", c.elements},
                       {"mismatches", c.mismatches},
                       {"max_abs_error", number_json(c.max_abs_error)},
                       {"max_rel_error", number_json(c.max_rel_error)},
                       {"reference_dtype", std::string(dtype_name(c.reference_dtype))},
                       {"actual_dtype", std::string(dtype_name(c.actual_dtype))},
                       {"reference_shape", shape_json(c.reference_shape)},
                       {"actual_shape", shape_json(c.actual_shape)}};
  if (!c.note.empty()) oj["note"] = c.note;
  if (c.worst) {
    oj["worst"] = {{"index", shape_json(c.worst->index)},
                   {"reference", number_json(c.worst->reference)},
                   {"actual", number_json(c.worst->actual)},
                   {"abs_error", number_json(c.worst->abs_error)},
                   {"rel_error", number_json(c.worst->rel_error)}};
  }
  return oj;
}

std::string comparison_line(const io::TensorComparison& c) {
  std::string line = fmt::format("  {:<16} {}  ", c.name, c.passed ? "pass" : "FAIL");
  if (!c.note.empty()) {
    line += c.note;
  } else {
    line += fmt::format("max abs {:.6g}, max rel {:.6g}, {}/{} outside tolerance", c.max_abs_error,
                        c.max_rel_error, c.mismatches, c.elements);
  }
  if (c.worst) {
    line += fmt::format("; worst at {}: reference {:.9g}, got {:.9g}", index_string(c.worst->index),
                        c.worst->reference, c.worst->actual);
  }
  return line + "\n";
}

/// Where exec's expected outputs come from: --expected, else output_<k>.pb in
/// --inputs-dir (unless --no-expected). Empty `source`: nothing to check.
struct ExpectedOutputs {
  std::string source;
  std::vector<io::ExpectedTensor> tensors;
};

Result<ExpectedOutputs> exec_expected(const ExecArgs& a, std::vector<io::ExpectedTensor> from_dir) {
  ExpectedOutputs e;
  if (!a.expected.empty()) {
    e.source = a.expected;
    AEGIS_ASSIGN_OR_RETURN(e.tensors, io::read_expected(a.expected, tensor_read_options()));
    if (!from_dir.empty()) {
      spdlog::info("--expected '{}' is used; the output_<k>.pb files in '{}' are not", a.expected,
                   a.common.inputs_dir);
    }
  } else if (!from_dir.empty() && !a.no_expected) {
    e.source = a.common.inputs_dir;
    e.tensors = std::move(from_dir);
  }
  return e;
}

/// The "inputs" and "outputs" arrays of exec's JSON: name, dtype, shape, and
/// where each input came from / each output's value range and saved file.
void add_tensors_json(nlohmann::json& out, const io::PreparedInputs& inputs, const std::vector<Tensor>& outputs,
                      const std::vector<std::filesystem::path>& saved) {
  out["inputs"] = nlohmann::json::array();
  for (std::size_t i = 0; i < inputs.tensors.size(); ++i) {
    const auto& t = inputs.tensors[i];
    out["inputs"].push_back({{"name", t.name()},
                             {"dtype", std::string(dtype_name(t.dtype()))},
                             {"shape", shape_json(t.shape())},
                             {"source", inputs.origins[i]}});
  }
  out["outputs"] = nlohmann::json::array();
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& t = outputs[i];
    const auto st = value_stats(t);
    nlohmann::json o = {{"name", t.name()},
                        {"dtype", std::string(dtype_name(t.dtype()))},
                        {"shape", shape_json(t.shape())}};
    if (!dtype_is_string(t.dtype())) {  // strings have no min/max/mean
      o["min"] = number_json(st.min);
      o["max"] = number_json(st.max);
      o["mean"] = number_json(st.mean);
    }
    if (i < saved.size()) o["file"] = saved[i].string();
    out["outputs"].push_back(o);
  }
}

/// Compares the outputs with the expected ones (when given): the "expected"
/// and "passed" entries of `out`, the text report in `check_text`; whether
/// they passed.
Result<bool> check_expected(const ExecArgs& a, const ExpectedOutputs& expected,
                            const std::vector<Tensor>& expected_outputs, const std::vector<Tensor>& outputs,
                            nlohmann::json& out, std::string& check_text) {
  if (expected.source.empty()) return true;
  io::Tolerance tol;
  tol.atol = a.atol;
  tol.rtol = a.rtol;
  AEGIS_ASSIGN_OR_RETURN(const auto cmps, io::compare_outputs(expected_outputs, outputs, tol));
  const bool passed = io::all_passed(cmps);
  nlohmann::json ej = {{"source", expected.source}, {"atol", tol.atol}, {"rtol", tol.rtol}, {"passed", passed}};
  ej["outputs"] = nlohmann::json::array();
  check_text = fmt::format("expected {} (|got - expected| <= {:g} + {:g} * |expected|): {}\n", expected.source,
                           tol.atol, tol.rtol, passed ? "PASS" : "FAIL");
  for (const auto& c : cmps) {
    ej["outputs"].push_back(comparison_json(c));
    check_text += comparison_line(c);
  }
  out["expected"] = ej;
  out["passed"] = passed;
  return passed;
}

/// exec's text report: the model, its inputs (from `out`), outputs, latency.
void print_exec_text(const ExecArgs& a, std::string_view backend, const LoadOptions& options,
                     const nlohmann::json& out, const io::RunReport& report,
                     const std::vector<std::filesystem::path>& saved) {
  std::cout << fmt::format("model    {}\nbackend  {} (device {}, precision {})\ninputs\n", a.common.model_file,
                           backend, to_string(options.device), to_string(options.precision));
  for (const auto& i : out["inputs"]) {
    std::cout << fmt::format("  {:<16} {:<8} {:<16} {}\n", i["name"].get<std::string>(),
                             i["dtype"].get<std::string>(), shape_to_string(i["shape"].get<Shape>()),
                             i["source"].get<std::string>());
  }
  std::cout << "outputs\n";
  for (std::size_t k = 0; k < report.outputs.size(); ++k) {
    const auto& t = report.outputs[k];
    const auto st = value_stats(t);
    const std::string stats = dtype_is_string(t.dtype())
                                  ? std::string()
                                  : fmt::format("min {:.6g} max {:.6g} mean {:.6g}", st.min, st.max, st.mean);
    std::cout << fmt::format("  {:<16} {:<8} {:<16} {}{}\n", t.name(), dtype_name(t.dtype()),
                             shape_to_string(t.shape()), stats,
                             k < saved.size() ? "  -> " + saved[k].string() : std::string());
  }
  const auto& s = report.stats;
  if (s.count == 1) {
    std::cout << fmt::format("latency  {:.3f} ms (1 run{})\n", s.mean_ms,
                             a.warmup ? fmt::format(", {} warm-up", a.warmup) : "");
  } else {
    std::cout << fmt::format("latency  p50 {:.3f} ms, mean {:.3f} ms, min {:.3f} ms, max {:.3f} ms over {} runs{}\n",
                             s.p50_ms, s.mean_ms, s.min_ms, s.max_ms, s.count,
                             a.warmup ? fmt::format(" ({} warm-up)", a.warmup) : "");
  }
}

/// Exit status of exec: true unless expected outputs were given and differ.
Result<bool> run_exec(const ExecArgs& a) {
  AEGIS_ASSIGN_OR_RETURN(const LoadOptions options, make_load_options(a.common, a.common.model_file, std::nullopt));
  AEGIS_ASSIGN_OR_RETURN(auto backend, load_backend(a.backend, options));
  std::vector<io::ExpectedTensor> dir_expected;
  AEGIS_ASSIGN_OR_RETURN(const auto inputs, gather_inputs(a.common, backend->input_specs(), dir_expected));
  AEGIS_ASSIGN_OR_RETURN(auto expected, exec_expected(a, std::move(dir_expected)));
  std::vector<Tensor> expected_outputs;
  if (!expected.source.empty()) {
    std::vector<std::string> names;
    for (const auto& d : backend->output_specs()) names.push_back(d.name);
    AEGIS_ASSIGN_OR_RETURN(expected_outputs, io::bind_expected_outputs(std::move(expected.tensors), names));
  }
  if (!a.save_inputs.empty()) {
    AEGIS_TRY(io::write_tensors_npy(a.save_inputs, inputs.tensors));
  }
  AEGIS_ASSIGN_OR_RETURN(auto report, io::run_model(*backend, inputs.views(), {a.iterations, a.warmup}));
  std::vector<std::filesystem::path> saved;
  if (!a.save_outputs.empty()) {
    AEGIS_ASSIGN_OR_RETURN(saved, io::write_tensors_npy(a.save_outputs, report.outputs));
  }

  nlohmann::json out;
  out["model"] = a.common.model_file;
  out["backend"] = std::string(backend->name());
  out["device"] = to_string(options.device);
  out["precision"] = std::string(to_string(options.precision));
  add_tensors_json(out, inputs, report.outputs, saved);
  const auto& s = report.stats;
  out["latency_ms"] = {{"iterations", s.count}, {"warmup", a.warmup}, {"min", s.min_ms}, {"p50", s.p50_ms},
                       {"p90", s.p90_ms},       {"p99", s.p99_ms},      {"mean", s.mean_ms}, {"max", s.max_ms}};
  std::string check_text;
  AEGIS_ASSIGN_OR_RETURN(const bool passed,
                         check_expected(a, expected, expected_outputs, report.outputs, out, check_text));
  if (a.common.json) {
    std::cout << out.dump(2) << "\n";
    return passed;
  }
  print_exec_text(a, backend->name(), options, out, report, saved);
  std::cout << check_text;
  return passed;
}

/// One --backends entry: NAME[:PRECISION][@MODEL_FILE].
struct BackendEntry {
  std::string label;
  std::string name;
  std::optional<std::string> precision;
  std::string model_file;
};

Result<std::vector<BackendEntry>> parse_backends(const std::string& list, const std::string& default_model) {
  std::vector<BackendEntry> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = list.find(',', pos);
    std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    BackendEntry e;
    e.label = item;
    e.model_file = default_model;
    if (const auto at = item.find('@'); at != std::string::npos) {
      e.model_file = item.substr(at + 1);
      item = item.substr(0, at);
    }
    if (const auto colon = item.find(':'); colon != std::string::npos) {
      e.precision = item.substr(colon + 1);
      item = item.substr(0, colon);
    }
    e.name = item;
    if (e.name.empty() || e.model_file.empty()) {
      return Error(ErrorCode::InvalidArgument, "bad --backends entry '" + e.label +
                                                   "': expected NAME[:PRECISION][@MODEL_FILE]");
    }
    out.push_back(std::move(e));
  }
  if (out.size() < 2) {
    return Error(ErrorCode::InvalidArgument,
                 "--backends needs at least two entries (the first is the reference), got '" + list + "'");
  }
  return out;
}

Result<bool> run_compare(const CompareArgs& a) {
  AEGIS_ASSIGN_OR_RETURN(const auto entries, parse_backends(a.backends, a.common.model_file));
  io::Tolerance tol;
  tol.atol = a.atol;
  tol.rtol = a.rtol;

  std::vector<std::unique_ptr<RuntimeBackend>> backends;
  for (const auto& e : entries) {
    AEGIS_ASSIGN_OR_RETURN(const LoadOptions options, make_load_options(a.common, e.model_file, e.precision));
    auto b = load_backend(e.name, options);
    if (!b.ok()) return std::move(b).error().with_context("backend '" + e.label + "'");
    backends.push_back(std::move(b).value());
  }
  // The reference's declared inputs decide names, dtypes and random shapes.
  std::vector<io::ExpectedTensor> dir_expected;
  AEGIS_ASSIGN_OR_RETURN(const auto inputs,
                         gather_inputs(a.common, backends.front()->input_specs(), dir_expected));
  if (!dir_expected.empty()) {
    spdlog::info("compare: the output_<k>.pb files in '{}' are not used (compare checks backends "
                 "against the first; `aegisrt exec` checks expected outputs)",
                 a.common.inputs_dir);
  }
  std::vector<io::RunReport> reports;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    auto r = io::run_model(*backends[i], inputs.views());
    if (!r.ok()) return std::move(r).error().with_context("backend '" + entries[i].label + "'");
    reports.push_back(std::move(r).value());
  }

  nlohmann::json out;
  out["model"] = a.common.model_file;
  out["reference"] = entries.front().label;
  out["atol"] = tol.atol;
  out["rtol"] = tol.rtol;
  out["inputs"] = nlohmann::json::array();
  for (std::size_t i = 0; i < inputs.tensors.size(); ++i) {
    out["inputs"].push_back({{"name", inputs.tensors[i].name()},
                             {"dtype", std::string(dtype_name(inputs.tensors[i].dtype()))},
                             {"shape", shape_json(inputs.tensors[i].shape())},
                             {"source", inputs.origins[i]}});
  }
  out["comparisons"] = nlohmann::json::array();
  bool all_ok = true;
  std::string text;
  for (std::size_t i = 1; i < backends.size(); ++i) {
    AEGIS_ASSIGN_OR_RETURN(const auto cmps, io::compare_outputs(reports.front().outputs, reports[i].outputs, tol));
    const bool ok = io::all_passed(cmps);
    all_ok = all_ok && ok;
    nlohmann::json cj = {{"backend", entries[i].label}, {"model", entries[i].model_file}, {"passed", ok}};
    cj["outputs"] = nlohmann::json::array();
    text += fmt::format("{} vs {} (reference): {}\n", entries[i].label, entries.front().label, ok ? "PASS" : "FAIL");
    for (const auto& c : cmps) {
      text += comparison_line(c);
      cj["outputs"].push_back(comparison_json(c));
    }
    out["comparisons"].push_back(cj);
  }
  out["passed"] = all_ok;
  if (a.common.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << fmt::format("model      {}\nreference  {}\ntolerance  |actual - reference| <= {:g} + {:g} * |reference|\n",
                             a.common.model_file, entries.front().label, tol.atol, tol.rtol);
    std::cout << text;
    std::cout << (all_ok ? "result: PASS\n" : "result: FAIL\n");
  }
  return all_ok;
}

}  // namespace

void add_exec_commands(CLI::App& app, CliContext& ctx) {
  auto exec_args = std::make_shared<ExecArgs>();
  auto* exec = app.add_subcommand("exec", "Run a model file on given or random inputs through one backend");
  add_common_options(exec, exec_args->common);
  exec->add_option("--backend,-b", exec_args->backend, "Backend name (see `aegisrt info`)")->capture_default_str();
  exec->add_option("--iterations,-n", exec_args->iterations, "Timed runs")->capture_default_str()->check(CLI::PositiveNumber);
  exec->add_option("--warmup", exec_args->warmup, "Untimed runs first")->capture_default_str()->check(CLI::NonNegativeNumber);
  exec->add_option("--save-outputs", exec_args->save_outputs, "Write every output as DIR/<name>.npy");
  exec->add_option("--save-inputs", exec_args->save_inputs, "Write the inputs used (random ones too) as DIR/<name>.npy");
  exec->add_option("--expected", exec_args->expected,
                   "Expected outputs: a folder (output_<k>.pb, NAME.npy, *.npz) or a file; exit 1 when an "
                   "output differs. Default: the output_<k>.pb files of --inputs-dir, if any");
  exec->add_flag("--no-expected", exec_args->no_expected,
                 "Do not check the output_<k>.pb files found in --inputs-dir");
  exec->add_option("--atol", exec_args->atol, "Absolute tolerance for expected outputs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  exec->add_option("--rtol", exec_args->rtol, "Relative tolerance for expected outputs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  exec->callback([&ctx, exec_args] {
    auto r = run_exec(*exec_args);
    if (!r.ok()) {
      ctx.exit_code = report_error(r.error());
      return;
    }
    ctx.exit_code = *r ? kExitOk : kExitFailure;
  });

  auto cmp_args = std::make_shared<CompareArgs>();
  auto* cmp = app.add_subcommand("compare", "Run the same inputs through several backends and compare outputs");
  add_common_options(cmp, cmp_args->common);
  cmp->add_option("--backends,-b", cmp_args->backends,
                  "Comma-separated NAME[:PRECISION][@MODEL_FILE]; the first is the reference, e.g. onnx,tvm")
      ->required();
  cmp->add_option("--atol", cmp_args->atol, "Absolute tolerance")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmp->add_option("--rtol", cmp_args->rtol, "Relative tolerance")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmp->callback([&ctx, cmp_args] {
    auto r = run_compare(*cmp_args);
    if (!r.ok()) {
      ctx.exit_code = report_error(r.error());
      return;
    }
    ctx.exit_code = *r ? kExitOk : kExitFailure;
  });
}

}  // namespace aegisrt::cli
