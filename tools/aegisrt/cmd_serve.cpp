// aegisrt serve: run a catalog model (or a user's model repository) inside
// NVIDIA Triton Inference Server with the AegisRT backend (docs/SERVING.md).
//   * --model M: writes a model repository (M/config.pbtxt with backend
//     "aegisrt" and the selection as parameters, M/1/) into --repo DIR or a
//     temporary folder removed on exit;
//   * --repo DIR alone: serves the repository the user wrote;
// then starts tritonserver (installed by scripts/deps/50-triton.sh) with our
// backend directory, bound to 127.0.0.1 unless --address says otherwise,
// prints the endpoints, forwards SIGINT/SIGTERM to the server and waits for it.
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"
#include "cli_common.h"
#include "serving/pipeline_tensors.h"

extern char** environ;

namespace aegisrt::cli {
namespace {

namespace fs = std::filesystem;

/// max_queue_delay_microseconds when --max-batch-size is given without --batch-delay-us.
constexpr std::int64_t kDefaultBatchDelayUs = 1000;

#ifndef AEGISRT_CLI_TRITON_DIR
#define AEGISRT_CLI_TRITON_DIR ""
#endif
#ifndef AEGISRT_CLI_TRITON_BACKEND_DIR
#define AEGISRT_CLI_TRITON_BACKEND_DIR ""
#endif

struct ServeFlags {
  std::string model;
  std::string name;
  std::string variant;
  std::string backend = "onnx";
  std::string precision;
  std::string cache_dir;
  std::string onnx;
  std::vector<std::string> model_data;
  int threads = 0;
  int instances = 1;
  int max_batch_size = 0;     // > 0: Triton's dynamic batching, that many requests per execute at most
  std::int64_t batch_delay_us = -1;  // max_queue_delay_microseconds (-1: not given)
  std::string repo;
  std::string address = "127.0.0.1";
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  std::string tritonserver;
  std::string triton_lib_dir;
  std::string backend_dir;
  bool write_only = false;
  int log_verbose = 0;
};

std::atomic<pid_t> g_child{0};
volatile sig_atomic_t g_signal = 0;

extern "C" void forward_signal(int sig) {
  g_signal = sig;
  const pid_t child = g_child.load();
  if (child > 0) ::kill(child, sig);
}

fs::path self_exe_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

/// Same folders `aegisrt run` searches for generated model files.
std::vector<fs::path> default_model_data_dirs() {
  std::vector<fs::path> dirs;
  const fs::path bin = self_exe_dir();
  if (!bin.empty()) {
    dirs.push_back(bin.parent_path().parent_path() / "models");
    dirs.push_back(bin.parent_path() / "share" / "aegisrt" / "model_data");
  }
  return dirs;
}

Result<fs::path> find_tritonserver(const ServeFlags& f) {
  std::vector<fs::path> tried;
  if (!f.tritonserver.empty()) {
    tried.emplace_back(f.tritonserver);
  } else {
    if (const char* env = std::getenv("AEGISRT_TRITONSERVER"); env != nullptr && *env != '\0') tried.emplace_back(env);
    if (std::string(AEGISRT_CLI_TRITON_DIR).size() > 0) tried.push_back(fs::path(AEGISRT_CLI_TRITON_DIR) / "bin" / "tritonserver");
  }
  std::string list;
  for (const auto& p : tried) {
    if (::access(p.c_str(), X_OK) == 0) return p;
    list += (list.empty() ? "" : ", ") + p.string();
  }
  return Error(ErrorCode::NotFound,
               "tritonserver not found (tried: " + (list.empty() ? std::string("nothing") : list) +
                   "); run scripts/deps/50-triton.sh or pass --tritonserver / set $AEGISRT_TRITONSERVER");
}

Result<fs::path> find_backend_dir(const ServeFlags& f) {
  std::vector<fs::path> tried;
  if (!f.backend_dir.empty()) {
    tried.emplace_back(f.backend_dir);
  } else {
    if (const char* env = std::getenv("AEGISRT_TRITON_BACKEND_DIR"); env != nullptr && *env != '\0') tried.emplace_back(env);
    const fs::path bin = self_exe_dir();
    if (!bin.empty()) {
      tried.push_back(bin.parent_path().parent_path() / "triton_backends");  // <build>/tools/aegisrt/aegisrt
      tried.push_back(bin.parent_path() / "lib" / "aegisrt" / "triton_backends");  // <prefix>/bin/aegisrt
    }
    if (std::string(AEGISRT_CLI_TRITON_BACKEND_DIR).size() > 0) tried.emplace_back(AEGISRT_CLI_TRITON_BACKEND_DIR);
  }
  std::string list;
  for (const auto& p : tried) {
    std::error_code ec;
    if (fs::is_regular_file(p / "aegisrt" / "libtriton_aegisrt.so", ec)) return fs::absolute(p, ec);
    list += (list.empty() ? "" : ", ") + p.string();
  }
  return Error(ErrorCode::NotFound,
               "the AegisRT Triton backend (aegisrt/libtriton_aegisrt.so) is not in any of: " + list +
                   " (build with AEGISRT_WITH_TRITON, or pass --backend-directory)");
}

Result<std::string> pbtxt_string(std::string_view key, const std::string& v) {
  for (const char c : v) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return Error(ErrorCode::InvalidArgument, "--" + std::string(key) + " must not contain line breaks");
    }
  }
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// The input and output entries of a pipeline-mode model's config.pbtxt, from
/// the table the backend serves by (serving/pipeline_tensors.h).
Result<std::pair<std::string, std::string>> tensors_for_layout(models::OutputLayout layout) {
  const auto outs = serving::pipeline_outputs(layout);
  if (outs.empty()) {
    return Error(ErrorCode::Unsupported, "output layout '" + std::string(models::to_string(layout)) +
                                             "' is not served by the aegisrt Triton backend (" +
                                             std::string(serving::kServedLayouts) + " are)");
  }
  std::string inputs;
  for (std::size_t i = 0; i < serving::kPipelineInputs.size(); ++i) {
    inputs += "  " + serving::to_pbtxt_entry(serving::kPipelineInputs[i]) +
              (i + 1 < serving::kPipelineInputs.size() ? ",\n" : "\n");
  }
  std::string outputs;
  for (const auto& t : outs) outputs += "  " + serving::to_pbtxt_entry(t) + ",\n";
  outputs += "  " + serving::to_pbtxt_entry(serving::kResultJsonSpec) + "\n";
  return std::make_pair(std::move(inputs), std::move(outputs));
}

/// The config.pbtxt of a pipeline-mode model (docs/SERVING.md, "Model configuration").
Result<std::string> make_config(const ServeFlags& f, const std::string& name, const fs::path& models_dir,
                                models::OutputLayout layout) {
  AEGIS_ASSIGN_OR_RETURN(const auto tensors, tensors_for_layout(layout));
  std::vector<std::pair<std::string, std::string>> params = {{"model", f.model}};
  if (!f.variant.empty()) params.emplace_back("variant", f.variant);
  params.emplace_back("backend", f.backend);
  if (!f.precision.empty()) params.emplace_back("precision", f.precision);
  if (!f.cache_dir.empty()) {
    std::error_code ec;
    params.emplace_back("cache_dir", fs::absolute(f.cache_dir, ec).string());
  }
  if (!f.onnx.empty()) {
    std::error_code ec;
    params.emplace_back("onnx", fs::absolute(f.onnx, ec).string());
  }
  params.emplace_back("models_dir", models_dir.string());
  std::string data;
  std::vector<fs::path> dirs;
  for (const auto& d : f.model_data) {
    std::error_code ec;
    dirs.push_back(fs::absolute(d, ec));
  }
  for (auto& d : default_model_data_dirs()) dirs.push_back(std::move(d));
  for (const auto& d : dirs) {
    if (d.string().find(':') != std::string::npos) {
      return Error(ErrorCode::InvalidArgument, "--model-data '" + d.string() + "' contains ':'");
    }
    data += (data.empty() ? "" : ":") + d.string();
  }
  params.emplace_back("model_data", data);
  if (f.threads > 0) params.emplace_back("threads", std::to_string(f.threads));

  AEGIS_ASSIGN_OR_RETURN(std::string qname, pbtxt_string("name", name));
  std::string cfg = fmt::format(
      "# Written by `aegisrt serve` (docs/SERVING.md). Pipeline mode: one image in (IMAGE: encoded\n"
      "# PNG/JPEG, or FRAME: raw RGB uint8 HWC), the layout's tensors and the `aegisrt run` JSON out.\n"
      "name: {}\n"
      "backend: \"aegisrt\"\n"
      "max_batch_size: {}\n"
      "input [\n"
      "{}"
      "]\n"
      "output [\n"
      "{}"
      "]\n"
      "instance_group [ {{ count: {} kind: KIND_CPU }} ]\n",
      qname, f.max_batch_size, tensors.first, tensors.second, f.instances);
  if (f.max_batch_size > 0) {
    // Requests carry a batch dimension of 1 (one image each); Triton's batcher
    // hands the backend up to max_batch_size of them per execute, run as one
    // Pipeline::run_batch (docs/SERVING.md, "Dynamic batching in pipeline mode").
    cfg += fmt::format("dynamic_batching {{ max_queue_delay_microseconds: {} }}\n",
                       f.batch_delay_us < 0 ? kDefaultBatchDelayUs : f.batch_delay_us);
  }
  for (const auto& [k, v] : params) {
    AEGIS_ASSIGN_OR_RETURN(std::string qv, pbtxt_string(k, v));
    cfg += fmt::format("parameters {{ key: \"{}\" value: {{ string_value: {} }} }}\n", k, qv);
  }
  return cfg;
}

Result<void> write_repository(const ServeFlags& f, const fs::path& repo, const std::string& name,
                              const fs::path& models_dir, models::OutputLayout layout) {
  AEGIS_ASSIGN_OR_RETURN(std::string cfg, make_config(f, name, models_dir, layout));
  std::error_code ec;
  fs::create_directories(repo / name / "1", ec);
  if (ec) {
    return Error(ErrorCode::IoError, "cannot create model repository '" + (repo / name).string() + "': " + ec.message());
  }
  return write_file_atomic(repo / name / "config.pbtxt", cfg);
}

/// The model repository to serve: written from the catalog for --model (into
/// a temporary folder unless --repo names one; `temp` says so), or --repo as is.
Result<fs::path> prepare_repository(const ServeFlags& f, CliContext& ctx, bool& temp) {
  fs::path repo = f.repo;
  temp = false;
  if (f.model.empty()) {
    std::error_code ec;
    if (!fs::is_directory(repo, ec)) {
      return Error(ErrorCode::NotFound, "--repo '" + repo.string() + "' is not a folder");
    }
    return repo;
  }
  // Validate the selection now so mistakes show here, not in the server log.
  AEGIS_ASSIGN_OR_RETURN(auto dir, models::resolve_models_directory(ctx.models_dir));
  AEGIS_ASSIGN_OR_RETURN(auto catalog, models::ModelCatalog::load_directory(dir.path));
  AEGIS_ASSIGN_OR_RETURN(auto sel, models::validate_selection(catalog, f.model, f.backend, f.variant, f.precision));
  const models::ModelManifest* manifest = catalog.find(sel.model);
  if (manifest == nullptr) return Error(ErrorCode::NotFound, "model '" + sel.model + "' not found");
  AEGIS_ASSIGN_OR_RETURN(auto rv, manifest->resolve(sel.variant));
  if (repo.empty()) {
    std::error_code ec;
    const fs::path tmp = fs::temp_directory_path(ec);
    if (ec) {
      return Error(ErrorCode::IoError, "no temporary folder for the model repository (give --repo): " + ec.message());
    }
    repo = tmp / fmt::format("aegisrt_serve_{}", ::getpid());
    temp = true;
  }
  std::error_code ec;
  const fs::path models_abs = fs::absolute(dir.path, ec);
  AEGIS_TRY(write_repository(f, repo, f.name.empty() ? f.model : f.name, models_abs, rv.output.layout));
  return repo;
}

/// tritonserver's command line: explicit model control, every model loaded,
/// the addresses and ports of the flags.
std::vector<std::string> server_arguments(const ServeFlags& f, const fs::path& server, const fs::path& backends,
                                          const fs::path& repo) {
  return {
      server.string(),
      "--model-repository=" + repo.string(),
      "--backend-directory=" + backends.string(),
      "--model-control-mode=explicit",
      "--load-model=*",
      "--http-address=" + f.address,
      "--http-port=" + std::to_string(f.http_port),
      "--grpc-address=" + f.address,
      "--grpc-port=" + std::to_string(f.grpc_port),
      "--allow-metrics=true",
      "--allow-gpu-metrics=false",
      "--metrics-address=" + f.address,
      "--metrics-port=" + std::to_string(f.metrics_port),
      "--strict-readiness=true",
      "--exit-on-error=false",
      "--log-verbose=" + std::to_string(f.log_verbose),
  };
}

/// Our environment with the wheel's libraries first on LD_LIBRARY_PATH:
/// <triton>/lib next to <triton>/bin (50-triton.sh layout), or --triton-lib-dir.
std::vector<std::string> server_environment(const ServeFlags& f, const fs::path& server) {
  fs::path libdir = f.triton_lib_dir.empty() ? server.parent_path().parent_path() / "lib" : fs::path(f.triton_lib_dir);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LD_LIBRARY_PATH=", 16) != 0) env.emplace_back(*e);
  }
  std::string ld = libdir.string();
  if (const char* old = std::getenv("LD_LIBRARY_PATH"); old != nullptr && *old != '\0') ld += std::string(":") + old;
  env.push_back("LD_LIBRARY_PATH=" + ld);
  return env;
}

/// Waits for tritonserver; our exit code: ok when it stopped on the signal we
/// forwarded, its own status otherwise.
int wait_for_server(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return report_error(Error(ErrorCode::IoError, std::string("waiting for tritonserver: ") + std::strerror(errno)));
    }
  }
  g_child.store(0);
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code != 0 && g_signal == 0) {
      std::cerr << "error: tritonserver exited with status " << code << "\n";
      return kExitRuntime;
    }
    return g_signal != 0 ? kExitOk : code;
  }
  if (WIFSIGNALED(status)) {
    if (g_signal != 0 && WTERMSIG(status) == g_signal) return kExitOk;
    std::cerr << "error: tritonserver killed by signal " << WTERMSIG(status) << "\n";
    return kExitRuntime;
  }
  return kExitRuntime;
}

int do_serve(const ServeFlags& f, CliContext& ctx) {
  if (f.model.empty() && f.repo.empty()) {
    return report_error(Error(ErrorCode::InvalidArgument, "give --model (a catalog model) or --repo (a repository)"));
  }
  bool temp_repo = false;
  auto prepared = prepare_repository(f, ctx, temp_repo);
  if (!prepared.ok()) return report_error(prepared.error());
  fs::path repo = std::move(prepared).value();
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } cleanup{temp_repo ? repo : fs::path()};
  std::error_code ec;
  repo = fs::absolute(repo, ec);
  if (f.write_only) {
    std::cout << "model repository: " << repo.string() << "\n";
    cleanup.dir.clear();
    return kExitOk;
  }

  auto server = find_tritonserver(f);
  if (!server.ok()) return report_error(server.error());
  auto backends = find_backend_dir(f);
  if (!backends.ok()) return report_error(backends.error());
  std::vector<std::string> args = server_arguments(f, *server, *backends, repo);
  std::vector<std::string> env = server_environment(f, *server);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    return report_error(Error(ErrorCode::IoError, "cannot start '" + server->string() + "': " + std::strerror(rc)));
  }
  g_child.store(pid);
  if (g_signal != 0) ::kill(pid, g_signal);  // a signal that came before the store
  std::cout << fmt::format(
                   "aegisrt serve: tritonserver pid {}\n"
                   "  model repository: {}\n"
                   "  HTTP/REST (KServe v2): http://{}:{}/v2  (ready: /v2/health/ready)\n"
                   "  gRPC (KServe v2):      {}:{}\n"
                   "  metrics (Prometheus):  http://{}:{}/metrics\n"
                   "  stop with Ctrl-C (SIGINT) or SIGTERM\n",
                   pid, repo.string(), f.address, f.http_port, f.address, f.grpc_port, f.address,
                   f.metrics_port)
            << std::flush;
  return wait_for_server(pid);
}

}  // namespace

void add_serve_command(CLI::App& app, CliContext& ctx) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve a catalog model (or a model repository) with NVIDIA Triton Inference Server and the "
               "AegisRT backend: KServe v2 over HTTP and gRPC, Prometheus metrics");
  cmd->add_option("-m,--model", f->model, "Catalog model to serve (writes a model repository for it)");
  cmd->add_option("--name", f->name, "Model name in Triton (default: the catalog name)");
  cmd->add_option("--variant", f->variant, "Model variant (default: the manifest's default_variant)");
  cmd->add_option("-b,--backend", f->backend, "AegisRT backend: onnx, openvino, tvm, cuda, tensorrt, ...")
      ->capture_default_str();
  cmd->add_option("-p,--precision", f->precision, "fp32, fp16 or int8 (default: fp32 if allowed)");
  cmd->add_option("--cache-dir", f->cache_dir, "Compiled-artefact cache (TensorRT engines, TVM libraries)");
  cmd->add_option("--onnx", f->onnx, "ONNX file to use instead of the variant's own (as aegisrt run --onnx)");
  cmd->add_option("--model-data", f->model_data, "Extra folder searched for the variant's ONNX file (repeatable)");
  cmd->add_option("--threads", f->threads, "ONNX Runtime intra-op threads per instance (0 = its default)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--instances", f->instances, "Model instances (each runs requests on its own pipeline; the model is loaded once and shared)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-batch-size", f->max_batch_size,
                  "Triton dynamic batching (pipeline mode): up to N requests (one image each) per execute, run as "
                  "one batch; the model's export needs a dynamic batch dimension (or a fixed one >= N). "
                  "0 = one request per execute")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--batch-delay-us", f->batch_delay_us,
                  "With --max-batch-size: how long Triton's batcher waits for more requests "
                  "(max_queue_delay_microseconds; default " + std::to_string(kDefaultBatchDelayUs) + ")")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{60'000'000}));
  cmd->add_option("--repo", f->repo,
                  "Model repository: with --model, where to write it (default: a temporary folder removed on "
                  "exit); alone, a repository to serve as it is");
  cmd->add_option("--address", f->address, "Address the HTTP, gRPC and metrics endpoints bind")->capture_default_str();
  cmd->add_option("--http-port", f->http_port, "HTTP port")->capture_default_str()->check(CLI::Range(1, 65535));
  cmd->add_option("--grpc-port", f->grpc_port, "gRPC port")->capture_default_str()->check(CLI::Range(1, 65535));
  cmd->add_option("--metrics-port", f->metrics_port, "Prometheus metrics port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--tritonserver", f->tritonserver,
                  "tritonserver binary (default: $AEGISRT_TRITONSERVER, then the one 50-triton.sh installed)");
  cmd->add_option("--triton-lib-dir", f->triton_lib_dir,
                  "tritonserver's libraries, put on LD_LIBRARY_PATH (default: <tritonserver>/../../lib)");
  cmd->add_option("--backend-directory", f->backend_dir,
                  "Folder holding aegisrt/libtriton_aegisrt.so (default: $AEGISRT_TRITON_BACKEND_DIR, then "
                  "next to this binary)");
  cmd->add_flag("--write-repo-only", f->write_only, "Write the model repository (needs --repo) and exit");
  cmd->add_option("--log-verbose", f->log_verbose, "tritonserver --log-verbose level")->capture_default_str();
  cmd->footer(
      "Exit codes: 0 stopped by SIGINT/SIGTERM or clean exit; 2 bad flags; 3 invalid selection; 4 the server "
      "failed.\nExample: aegisrt serve --model yolo --variant demo --http-port 8000 --grpc-port 8001");
  cmd->callback([f, &ctx] {
    if (f->batch_delay_us >= 0 && f->max_batch_size == 0) {
      ctx.exit_code = report_error(Error(ErrorCode::InvalidArgument, "--batch-delay-us needs --max-batch-size N > 0"));
      return;
    }
    if (f->model.empty() && f->max_batch_size > 0) {
      ctx.exit_code = report_error(Error(ErrorCode::InvalidArgument,
                                         "--max-batch-size applies to the repository written for --model; a "
                                         "repository given with --repo alone keeps its own config.pbtxt"));
      return;
    }
    if (f->write_only && f->repo.empty()) {
      ctx.exit_code = report_error(Error(ErrorCode::InvalidArgument, "--write-repo-only needs --repo"));
      return;
    }
    ctx.exit_code = do_serve(*f, ctx);
  });
}

}  // namespace aegisrt::cli
