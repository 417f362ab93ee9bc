#include "backend_config.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstring>
#include <algorithm>
#include <set>

namespace aegisrt::serving {
namespace {

using nlohmann::json;

Error bad(const std::string& what) { return Error(ErrorCode::InvalidArgument, "model config: " + what); }

Result<float> parse_unit_float(const std::string& key, const std::string& v) {
  float out = 0.0f;
  const auto* end = v.data() + v.size();
  const auto [ptr, ec] = std::from_chars(v.data(), end, out);
  if (ec != std::errc{} || ptr != end || !(out >= 0.0f && out <= 1.0f)) {
    return bad("parameter '" + key + "' = '" + v + "' is not a number in [0, 1]");
  }
  return out;
}

Result<int> parse_int(const std::string& key, const std::string& v, int lo) {
  int out = 0;
  const auto* end = v.data() + v.size();
  const auto [ptr, ec] = std::from_chars(v.data(), end, out);
  if (ec != std::errc{} || ptr != end || out < lo) {
    return bad("parameter '" + key + "' = '" + v + "' is not an integer >= " + std::to_string(lo));
  }
  return out;
}

}  // namespace

namespace {

/// The model config's `parameters` as key -> string_value.
Result<std::map<std::string, std::string>> read_parameters(const json& cfg) {
  std::map<std::string, std::string> params;
  if (auto it = cfg.find("parameters"); it != cfg.end()) {
    if (!it->is_object()) return bad("'parameters' is not an object");
    for (const auto& [key, val] : it->items()) {
      if (!val.is_object() || !val.contains("string_value") || !val["string_value"].is_string()) {
        return bad("parameter '" + key + "' has no string_value");
      }
      params[key] = val["string_value"].get<std::string>();
    }
  }
  return params;
}

/// "a:b::c" -> {a, b, c} (empty parts skipped).
std::vector<std::filesystem::path> split_path_list(const std::string& v) {
  std::vector<std::filesystem::path> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    const std::size_t colon = v.find(':', start);
    const std::string part = v.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!part.empty()) out.emplace_back(part);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

/// One known parameter (not backend_option.*) into `out`.
Result<void> apply_parameter(const std::string& key, const std::string& v, BackendConfig& out) {
  auto& o = out.options;
  if (key == "mode") {
    if (v == "pipeline") {
      out.mode = ServingMode::Pipeline;
    } else if (v == "tensor") {
      out.mode = ServingMode::Tensor;
    } else {
      return bad("parameter 'mode' = '" + v + "' (known: pipeline, tensor)");
    }
  } else if (key == "model") {
    o.model = v;
  } else if (key == "variant") {
    o.variant = v;
  } else if (key == "backend") {
    if (!v.empty()) o.backend = v;
  } else if (key == "precision") {
    o.precision = v;
  } else if (key == "device") {
    if (!v.empty() && v != "auto") {
      return Error(ErrorCode::Unsupported,
                   "model config: parameter 'device' = '" + v +
                       "': the device follows the AegisRT backend (onnx/openvino/tvm: cpu; cuda/tensorrt: "
                       "GPU 0); leave it empty or 'auto'");
    }
  } else if (key == "cache_dir") {
    o.cache_dir = v;
  } else if (key == "onnx") {
    o.onnx = v;
  } else if (key == "models_dir") {
    out.models_dir = v;
  } else if (key == "model_data") {
    for (auto& d : split_path_list(v)) o.model_data_dirs.push_back(std::move(d));
  } else if (key == "threads") {
    AEGIS_ASSIGN_OR_RETURN(int t, parse_int(key, v, 0));
    if (t > 0) o.backend_options["intra_op_threads"] = std::to_string(t);
  } else if (key == "conf") {
    AEGIS_ASSIGN_OR_RETURN(o.confidence_threshold, parse_unit_float(key, v));
  } else if (key == "iou") {
    AEGIS_ASSIGN_OR_RETURN(o.iou_threshold, parse_unit_float(key, v));
  } else if (key == "max_det") {
    AEGIS_ASSIGN_OR_RETURN(o.max_detections, parse_int(key, v, 1));
  }
  return {};
}

/// The mode's own rules, once every parameter is read.
Result<void> check_mode(const BackendConfig& out, const std::map<std::string, std::string>& params) {
  if (out.mode == ServingMode::Tensor) {
    for (const char* k : {"model", "variant", "models_dir", "model_data", "conf", "iou", "max_det"}) {
      if (params.contains(k)) {
        return bad(std::string("parameter '") + k +
                   "' applies to pipeline mode only (tensor mode serves the 'onnx' file's own tensors)");
      }
    }
    if (out.options.onnx.empty()) return bad("parameter 'onnx' (the model file) is required in tensor mode");
    if (out.max_batch_size < 0) return bad("max_batch_size " + std::to_string(out.max_batch_size) + " < 0");
    return {};
  }
  // Pipeline mode with max_batch_size > 0: whether the pipeline can batch
  // that many images is known only once the model is loaded (the backend
  // checks Pipeline::max_batch() at model load).
  if (out.max_batch_size < 0) return bad("max_batch_size " + std::to_string(out.max_batch_size) + " < 0");
  if (out.options.model.empty()) {
    return bad("parameter 'model' (the AegisRT catalog model, e.g. yolo) is required");
  }
  return {};
}

}  // namespace

Result<BackendConfig> parse_backend_config(std::string_view config_json) {
  json cfg;
  try {
    cfg = json::parse(config_json);
  } catch (const json::exception& e) {
    return bad(std::string("not JSON: ") + e.what());
  }
  if (!cfg.is_object()) return bad("not a JSON object");
  BackendConfig out;
  if (auto it = cfg.find("name"); it != cfg.end() && it->is_string()) out.triton_model_name = it->get<std::string>();
  if (auto it = cfg.find("max_batch_size"); it != cfg.end() && it->is_number_integer()) {
    out.max_batch_size = it->get<int>();
  }
  AEGIS_ASSIGN_OR_RETURN(const auto params, read_parameters(cfg));
  static const std::set<std::string> known = {"model",     "variant",    "backend", "precision",
                                              "device",    "cache_dir",  "models_dir", "model_data",
                                              "threads",   "conf",       "iou",     "max_det", "onnx", "mode"};
  for (const auto& [key, v] : params) {
    if (key.rfind("backend_option.", 0) == 0) {
      const std::string k = key.substr(std::strlen("backend_option."));
      if (k.empty()) return bad("parameter '" + key + "' names no backend option");
      out.options.backend_options[k] = v;
      continue;
    }
    if (!known.contains(key)) {
      return bad("unknown parameter '" + key +
                 "' (known: model, variant, backend, precision, device, cache_dir, models_dir, model_data, "
                 "threads, conf, iou, max_det, onnx, mode, backend_option.<KEY>)");
    }
    AEGIS_TRY(apply_parameter(key, v, out));
  }
  AEGIS_TRY(check_mode(out, params));
  return out;
}

Result<std::vector<std::span<const std::byte>>> split_bytes_tensor(std::span<const std::byte> data,
                                                                    std::size_t expected,
                                                                    std::string_view tensor) {
  std::vector<std::span<const std::byte>> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 4) {
      return Error(ErrorCode::InvalidArgument,
                   "tensor '" + std::string(tensor) + "': truncated BYTES element length at byte " +
                       std::to_string(pos));
    }
    std::uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = (len << 8) | std::to_integer<std::uint32_t>(data[pos + static_cast<std::size_t>(i)]);
    pos += 4;
    if (len > data.size() - pos) {
      return Error(ErrorCode::InvalidArgument,
                   "tensor '" + std::string(tensor) + "': BYTES element " + std::to_string(out.size()) +
                       " claims " + std::to_string(len) + " bytes but only " + std::to_string(data.size() - pos) +
                       " remain");
    }
    out.push_back(data.subspan(pos, len));
    pos += len;
  }
  if (out.size() != expected) {
    return Error(ErrorCode::InvalidArgument, "tensor '" + std::string(tensor) + "' holds " +
                                                 std::to_string(out.size()) + " BYTES elements, expected " +
                                                 std::to_string(expected));
  }
  return out;
}

std::vector<std::byte> encode_bytes_element(std::string_view text) {
  std::vector<std::byte> out(4 + text.size());
  const auto len = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((len >> (8 * i)) & 0xffu);
  if (!text.empty()) std::memcpy(out.data() + 4, text.data(), text.size());
  return out;
}

std::vector<float> detections_to_rows(const std::vector<vision::Detection>& detections) {
  std::vector<float> rows;
  rows.reserve(detections.size() * 6);
  for (const auto& d : detections) {
    rows.insert(rows.end(), {d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.score, static_cast<float>(d.class_id)});
  }
  return rows;
}

std::optional<DType> dtype_from_triton(int code) noexcept {
  switch (code) {
    case 1: return DType::Bool;
    case 2: return DType::UInt8;
    case 3: return DType::UInt16;
    case 4: return DType::UInt32;
    case 5: return DType::UInt64;
    case 6: return DType::Int8;
    case 7: return DType::Int16;
    case 8: return DType::Int32;
    case 9: return DType::Int64;
    case 10: return DType::Float16;
    case 11: return DType::Float32;
    case 12: return DType::Float64;
    case 14: return DType::BFloat16;
    default: return std::nullopt;
  }
}

int triton_from_dtype(DType t) noexcept {
  for (int code = 1; code <= 14; ++code) {
    if (dtype_from_triton(code) == t) return code;
  }
  return 0;
}

Result<std::pair<int, int>> check_frame_shape(std::span<const std::int64_t> shape, std::uint64_t byte_size,
                                              std::string_view tensor) {
  std::string text;
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  const auto bad_shape = [&](const std::string& why) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(tensor) + "' has shape [" + text +
                                                 "]: " + why + " (expected [H, W, 3], RGB uint8, HWC)");
  };
  if (shape.size() != 3) return bad_shape("not 3 dimensions");
  if (shape[2] != 3) return bad_shape("the last dimension must be 3 (RGB)");
  const std::int64_t h = shape[0];
  const std::int64_t w = shape[1];
  if (h < 1 || w < 1 || h > kMaxFrameSide || w > kMaxFrameSide) {
    return bad_shape("height and width must be 1.." + std::to_string(kMaxFrameSide));
  }
  if (static_cast<std::uint64_t>(h) * static_cast<std::uint64_t>(w) > vision::kMaxImagePixels) {
    return bad_shape("more than " + std::to_string(vision::kMaxImagePixels) + " pixels");
  }
  const std::uint64_t want = static_cast<std::uint64_t>(h) * static_cast<std::uint64_t>(w) * 3u;
  if (byte_size != want) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(tensor) + "' holds " +
                                                 std::to_string(byte_size) + " bytes, its shape [" + text +
                                                 "] needs " + std::to_string(want));
  }
  return std::pair<int, int>{static_cast<int>(w), static_cast<int>(h)};
}

std::vector<std::uint8_t> masks_to_dense(const std::vector<pipeline::InstanceMask>& masks, int width, int height) {
  const std::size_t plane = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  std::vector<std::uint8_t> out(plane * masks.size(), 0);
  for (std::size_t i = 0; i < masks.size(); ++i) {
    const pipeline::InstanceMask& m = masks[i];
    std::uint8_t* dst = out.data() + i * plane;
    for (int y = std::max(0, m.y0); y < std::min(height, m.y0 + m.height); ++y) {
      for (int x = std::max(0, m.x0); x < std::min(width, m.x0 + m.width); ++x) {
        dst[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] =
            m.at(x, y) ? 1 : 0;
      }
    }
  }
  return out;
}

Result<std::vector<float>> keypoints_to_rows(const std::vector<std::vector<vision::Keypoint>>& instances,
                                             std::size_t& keypoints_per_instance) {
  keypoints_per_instance = instances.empty() ? 0 : instances.front().size();
  std::vector<float> rows;
  rows.reserve(instances.size() * keypoints_per_instance * 3);
  for (const auto& kps : instances) {
    if (kps.size() != keypoints_per_instance) {
      return Error(ErrorCode::Internal, "keypoints: instances with " + std::to_string(keypoints_per_instance) +
                                            " and " + std::to_string(kps.size()) + " keypoints");
    }
    for (const auto& k : kps) rows.insert(rows.end(), {k.x, k.y, k.score});
  }
  return rows;
}

}  // namespace aegisrt::serving
