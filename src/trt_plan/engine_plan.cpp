// Pure planning of TensorRT engine builds: precision path, profiles, the
// artefact-cache key/environment, timing and calibration cache paths, and the
// backend's LoadOptions parsing.
#include <algorithm>
#include <charconv>
#include <system_error>

#include "aegisrt/backend/backend_options.h"
#include "aegisrt/trt_plan/engine_builder.h"

namespace aegisrt::trt {

namespace {

bool plain_component(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\\') == std::string_view::npos && s.find('\0') == std::string_view::npos;
}

// The shared reader (aegisrt/backend/backend_options.h): one message shape.
const BackendOptionReader& reader() {
  static const BackendOptionReader r(
      "tensorrt", "workspace_mb, min_batch, opt_batch, max_batch, input_sizes, layout, calibration_cache");
  return r;
}

Result<int> parse_int_option(const std::string& key, const std::string& value, int lo, int hi) {
  return reader().integer(key, value, lo, hi,
                          "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

Result<std::vector<ImageSize>> parse_sizes(const std::string& value) {
  std::vector<ImageSize> out;
  std::string_view rest = value;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    const auto x = item.find('x');
    auto bad = [&] {
      return reader().bad_value("input_sizes", value,
                                "HxW[,HxW...] with positive integers, e.g. 640x640,320x320");
    };
    if (x == std::string_view::npos) return bad();
    ImageSize s;
    const auto h = item.substr(0, x);
    const auto w = item.substr(x + 1);
    auto r1 = std::from_chars(h.data(), h.data() + h.size(), s.height);
    auto r2 = std::from_chars(w.data(), w.data() + w.size(), s.width);
    if (h.empty() || w.empty() || r1.ec != std::errc() || r1.ptr != h.data() + h.size() ||
        r2.ec != std::errc() || r2.ptr != w.data() + w.size() || s.height <= 0 || s.width <= 0) {
      return bad();
    }
    out.push_back(s);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) return bad();
  }
  return out;
}

}  // namespace

std::filesystem::path timing_cache_path(const std::filesystem::path& cache_dir, const TrtVersion& trt,
                                        const GpuIdentity& gpu) {
  std::string cc = gpu.known() ? std::to_string(gpu.cc_major) + std::to_string(gpu.cc_minor)
                               : std::string("unknown");
  return cache_dir / ("timing_trt" + trt.to_string() + "_sm" + cc + ".cache");
}

namespace {

/// The cache key of an engine: everything that changes what the builder makes.
ArtifactKey engine_key(const EngineBuildOptions& o, const onnx::OnnxSummary& model, const PrecisionPlan& plan,
                       const std::vector<TensorProfile>& profiles, const std::string& variant, Precision precision,
                       const std::filesystem::path& calib_cache) {
  ArtifactKey key;
  key.backend = "tensorrt";
  key.variant = variant;
  key.precision = std::string(to_string(precision));
  key.extension = ".engine";
  key.source_model = o.onnx_model;
  std::string flags;
  if (plan.fp16_flag) flags += "fp16";
  if (plan.int8_flag) flags += flags.empty() ? "int8" : ",int8";
  key.build_options["typing"] = std::string(to_string(plan.typing));
  key.build_options["builder_flags"] = flags.empty() ? "none" : flags;
  key.build_options["model_kind"] = std::string(to_string(model.kind()));
  key.build_options["profiles"] = profiles_to_string(profiles);
  key.build_options["workspace_bytes"] = std::to_string(o.workspace_bytes);
  if (plan.needs_calibrator) {
    key.build_options["calibration"] =
        o.calibration.dataset_id.empty() ? calib_cache.filename().string() : o.calibration.dataset_id;
  }
  return key;
}

}  // namespace

Result<EngineBuildSpec> plan_engine_build(const EngineBuildOptions& o, const onnx::OnnxSummary& model,
                                          const TrtVersion& trt, const GpuIdentity& gpu) {
  if (o.onnx_model.empty()) {
    return Error(ErrorCode::InvalidArgument, "no ONNX model given to build a TensorRT engine from");
  }
  if (!gpu.known() || gpu.uuid.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 "a TensorRT engine build needs the target GPU's UUID and compute capability");
  }
  if (o.workspace_bytes == 0) {
    return Error(ErrorCode::InvalidArgument, "TensorRT workspace limit must be positive");
  }
  EngineBuildSpec spec;
  const std::string variant = o.variant.empty() ? o.onnx_model.stem().string() : o.variant;
  if (!plain_component(variant)) {
    return Error(ErrorCode::InvalidArgument,
                 "engine variant name '" + variant + "' must be a plain file-name component");
  }
  // The seed's /tmp/trt_engines, or a per-user folder when that one is shared
  // or another user's (default_cache_dir; the cache refuses untrusted folders).
  spec.cache_dir = o.cache_dir.empty() ? default_cache_dir("tensorrt") : o.cache_dir;

  const Precision precision = o.precision.value_or(kDefaultEnginePrecision);
  std::filesystem::path calib_cache = o.calibration.cache_file;
  if (calib_cache.empty()) calib_cache = spec.cache_dir / (variant + "_int8.calib");
  std::error_code ec;
  const bool have_calib = static_cast<bool>(o.calibration.next_batch) ||
                          std::filesystem::is_regular_file(calib_cache, ec);

  PrecisionRequest pr;
  pr.requested = precision;
  pr.manifest_precisions = o.manifest_precisions;
  pr.trt = trt;
  pr.model_kind = model.kind();
  pr.model_path = o.onnx_model.string();
  pr.gpu = gpu;
  pr.have_calibration_data = have_calib;
  AEGIS_ASSIGN_OR_RETURN(spec.plan, select_precision(pr));
  auto profiles = select_profiles(model.inputs, o.profile);
  if (!profiles.ok()) return profiles.error().with_context("model " + o.onnx_model.string());
  spec.profiles = std::move(profiles).value();

  if (spec.plan.needs_calibrator) {
    spec.calibration_cache_path = calib_cache;
    spec.calibration_input = o.calibration.input_name.empty() && !model.inputs.empty()
                                 ? model.inputs.front().name
                                 : o.calibration.input_name;
    bool found = false;
    for (const auto& in : model.inputs) found = found || in.name == spec.calibration_input;
    if (!found) {
      return Error(ErrorCode::InvalidArgument, "calibration input '" + spec.calibration_input +
                                                   "' is not an input of " + o.onnx_model.string());
    }
  }

  spec.key = engine_key(o, model, spec.plan, spec.profiles, variant, precision, calib_cache);
  const ArtifactKey& key = spec.key;

  BuildEnvironment& env = spec.env;
  env.backend_display_name = "TensorRT";
  env.backend_version = trt.to_string();
  env.gpu_uuid = gpu.uuid;
  env.compute_capability = gpu.compute_capability();
  env.gpu_name = gpu.name;

  spec.engine_path = spec.cache_dir / key.file_name();
  spec.timing_cache_path = timing_cache_path(spec.cache_dir, trt, gpu);
  return spec;
}

Result<EngineBuildOptions> engine_build_options_from(const LoadOptions& options) {
  if (options.device.kind != DeviceKind::CUDA) {
    return Error(ErrorCode::InvalidArgument,
                 "TensorRT runs on CUDA devices only; got device '" + to_string(options.device) +
                     "' (use cuda or cuda:N)");
  }
  EngineBuildOptions o;
  o.onnx_model = options.artifact_path;
  o.variant = options.variant;
  o.precision = options.precision;
  o.cache_dir = options.cache_dir;
  o.device = options.device.index;
  for (const auto& [k, v] : options.backend_options) {
    if (k == "workspace_mb") {
      AEGIS_ASSIGN_OR_RETURN(auto mb, parse_int_option(k, v, 1, 1 << 20));
      o.workspace_bytes = static_cast<std::size_t>(mb) << 20;
    } else if (k == "min_batch") {
      AEGIS_ASSIGN_OR_RETURN(o.profile.min_batch, parse_int_option(k, v, 1, 1 << 16));
    } else if (k == "opt_batch") {
      AEGIS_ASSIGN_OR_RETURN(o.profile.opt_batch, parse_int_option(k, v, 1, 1 << 16));
    } else if (k == "max_batch") {
      AEGIS_ASSIGN_OR_RETURN(o.profile.max_batch, parse_int_option(k, v, 1, 1 << 16));
    } else if (k == "input_sizes") {
      AEGIS_ASSIGN_OR_RETURN(o.profile.input_sizes, parse_sizes(v));
    } else if (k == "layout") {
      if (v == "nchw" || v == "NCHW") {
        o.profile.layout = ImageLayout::NCHW;
      } else if (v == "nhwc" || v == "NHWC") {
        o.profile.layout = ImageLayout::NHWC;
      } else {
        return reader().bad_value(k, v, "nchw, nhwc (or NCHW, NHWC)");
      }
    } else if (k == "calibration_cache") {
      o.calibration.cache_file = v;
    } else {
      return reader().unknown(k);
    }
  }
  // Only max_batch given: optimise for it too; only min/opt: keep the range valid.
  if (options.backend_options.contains("max_batch") && !options.backend_options.contains("opt_batch")) {
    o.profile.opt_batch = std::max(o.profile.min_batch, std::min(o.profile.opt_batch, o.profile.max_batch));
  }
  return o;
}

}  // namespace aegisrt::trt
