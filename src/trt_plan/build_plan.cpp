// Precision path and optimisation profile selection for TensorRT builds.
#include "aegisrt/trt_plan/build_plan.h"

#include <algorithm>

namespace aegisrt::trt {

std::string GpuIdentity::compute_capability() const {
  if (!known()) return {};
  return std::to_string(cc_major) + "." + std::to_string(cc_minor);
}

std::string_view to_string(NetworkTyping t) noexcept {
  return t == NetworkTyping::Strong ? "strongly-typed" : "weakly-typed";
}

namespace {

std::string precision_list(const std::vector<Precision>& ps) {
  std::string s;
  for (auto p : ps) s += (s.empty() ? "" : ", ") + std::string(to_string(p));
  return s;
}

constexpr std::string_view kFp16Tool = "tools/onnx_convert/convert_fp16.py";
constexpr std::string_view kQdqTool = "tools/onnx_convert/insert_qdq.py";

std::string fp16_model_hint(const std::string& model) {
  return "convert it with `python " + std::string(kFp16Tool) + " " + model +
         " <out_fp16.onnx>` (float16 weights and activations, float32 I/O) and build from that file";
}

std::string qdq_model_hint(const std::string& model) {
  return "quantise it with `python " + std::string(kQdqTool) + " " + model +
         " <out_qdq.onnx> --calib <calibration .npy files>` (QuantizeLinear/DequantizeLinear "
         "inserted from a calibration run) and build from that file";
}

/// Unsupported when `p` is not in the manifest's list or the GPU (when known)
/// is too old for it.
Result<void> check_precision_allowed(const PrecisionRequest& r, Precision p, const std::string& pname) {
  if (!r.manifest_precisions.empty() &&
      std::find(r.manifest_precisions.begin(), r.manifest_precisions.end(), p) ==
          r.manifest_precisions.end()) {
    return Error(ErrorCode::Unsupported, "precision " + pname +
                                             " is not supported by this model; its manifest allows: " +
                                             precision_list(r.manifest_precisions));
  }
  if (r.gpu.known()) {
    const int cc = r.gpu.cc_major * 10 + r.gpu.cc_minor;
    if (p == Precision::FP16 && cc < 53) {
      return Error(ErrorCode::Unsupported, "fp16 needs compute capability 5.3 or newer; GPU '" +
                                               r.gpu.name + "' is " + r.gpu.compute_capability());
    }
    if (p == Precision::INT8 && cc < 61) {
      return Error(ErrorCode::Unsupported, "int8 needs compute capability 6.1 or newer; GPU '" +
                                               r.gpu.name + "' is " + r.gpu.compute_capability());
    }
  }
  return {};
}

/// A converted model already fixes its types: asking for another precision is a mix-up.
Result<void> check_model_kind(onnx::OnnxModelKind kind, Precision p, const std::string& pname,
                              const std::string& model) {
  const std::string kind_name(to_string(kind));
  const bool kind_matches = (kind == onnx::OnnxModelKind::Float32) ||
                            (kind == onnx::OnnxModelKind::Float16 && p == Precision::FP16) ||
                            (kind == onnx::OnnxModelKind::QDQ && p == Precision::INT8);
  if (!kind_matches) {
    return Error(ErrorCode::InvalidArgument,
                 model + " is a " + kind_name + " model, which builds " +
                     (kind == onnx::OnnxModelKind::Float16 ? "fp16" : "int8") + " engines only; asked for " +
                     pname + ": ask for " + (kind == onnx::OnnxModelKind::Float16 ? "fp16" : "int8") +
                     " or supply the float32 model");
  }
  return {};
}

/// TensorRT 11: the network's types are the model's types.
Result<PrecisionPlan> strongly_typed_plan(PrecisionPlan plan, onnx::OnnxModelKind kind, const std::string& trt,
                                          const std::string& model) {
  const Precision p = plan.precision;
  const std::string pname(to_string(p));
  const std::string kind_name(to_string(kind));
  if (p == Precision::FP16 && kind == onnx::OnnxModelKind::Float32) {
    return Error(ErrorCode::Unsupported,
                 trt + " builds strongly typed networks only, so an fp16 engine needs an fp16 "
                       "ONNX model; " + model + " is float32: " + fp16_model_hint(model));
  }
  if (p == Precision::INT8 && kind == onnx::OnnxModelKind::Float32) {
    return Error(ErrorCode::Unsupported,
                 trt + " builds strongly typed networks only, so an int8 engine needs a Q/DQ "
                       "ONNX model; " + model + " is float32: " + qdq_model_hint(model));
  }
  plan.typing = NetworkTyping::Strong;
  plan.summary = pname + " from the " + kind_name + " model (strongly typed, " + trt + ")";
  return plan;
}

/// TensorRT 8.6 / 10.x: builder flags, or strong typing where the model's
/// types carry the precision and the version has the flag.
Result<PrecisionPlan> flagged_plan(PrecisionPlan plan, const TrtFeatures& features, const PrecisionRequest& r,
                                   const std::string& trt, const std::string& model) {
  const auto kind = r.model_kind;
  switch (plan.precision) {
    case Precision::FP32:
      plan.typing = NetworkTyping::Weak;
      plan.summary = "fp32 (" + trt + ")";
      break;
    case Precision::FP16:
      if (kind == onnx::OnnxModelKind::Float16 && features.strongly_typed_flag) {
        plan.typing = NetworkTyping::Strong;
        plan.summary = "fp16 from the float16 model (strongly typed, " + trt + ")";
      } else {
        plan.typing = NetworkTyping::Weak;
        plan.fp16_flag = true;
        plan.summary = "fp16 via BuilderFlag::kFP16 (" + trt + ")";
      }
      break;
    case Precision::INT8:
      if (kind == onnx::OnnxModelKind::QDQ) {
        if (features.strongly_typed_flag) {
          plan.typing = NetworkTyping::Strong;
          plan.summary = "int8 from the Q/DQ model (strongly typed, " + trt + ")";
        } else {
          // 8.x: explicit quantisation still needs the int8 flag, no calibrator.
          plan.typing = NetworkTyping::Weak;
          plan.int8_flag = true;
          plan.fp16_flag = true;
          plan.summary = "int8 from the Q/DQ model via BuilderFlag::kINT8 (" + trt + ")";
        }
      } else {
        if (!r.have_calibration_data) {
          return Error(ErrorCode::InvalidArgument,
                       "int8 from the float32 model " + model + " on " + trt +
                           " needs calibration data (a folder of calibration images, or an "
                           "existing calibration cache), or a Q/DQ model: " + qdq_model_hint(model));
        }
        plan.typing = NetworkTyping::Weak;
        plan.int8_flag = true;
        plan.fp16_flag = true;  // layers without int8 kernels fall back to fp16, not fp32
        plan.needs_calibrator = true;
        plan.summary = "int8 via BuilderFlag::kINT8 + entropy calibration, fp16 fallback (" + trt + ")";
      }
      break;
  }
  return plan;
}

}  // namespace

Result<PrecisionPlan> select_precision(const PrecisionRequest& r) {
  const auto features = features_of(r.trt);
  const std::string trt = "TensorRT " + r.trt.to_string();
  const std::string model = r.model_path.empty() ? std::string("the model") : r.model_path;
  if (!features.supported) {
    return Error(ErrorCode::Unsupported, trt + " is older than the minimum AegisRT supports (" +
                                             kMinimumTrtVersion.to_string() + ")");
  }
  const Precision p = r.requested.value_or(kDefaultEnginePrecision);
  const std::string pname(to_string(p));
  AEGIS_TRY(check_precision_allowed(r, p, pname));
  AEGIS_TRY(check_model_kind(r.model_kind, p, pname, model));
  PrecisionPlan plan;
  plan.precision = p;
  if (features.always_strongly_typed) return strongly_typed_plan(std::move(plan), r.model_kind, trt, model);
  return flagged_plan(std::move(plan), features, r, trt, model);
}

namespace {

Error bad_profile(const std::string& msg) { return Error(ErrorCode::InvalidArgument, msg); }

}  // namespace

Result<std::vector<TensorProfile>> select_profiles(const std::vector<TensorDesc>& inputs,
                                                   const ProfileRequest& r) {
  if (r.min_batch < 1 || r.opt_batch < r.min_batch || r.max_batch < r.opt_batch) {
    return bad_profile("batch range must satisfy 1 <= min <= opt <= max; got min " +
                       std::to_string(r.min_batch) + ", opt " + std::to_string(r.opt_batch) +
                       ", max " + std::to_string(r.max_batch));
  }
  for (const auto& s : r.input_sizes) {
    if (s.height <= 0 || s.width <= 0) {
      return bad_profile("input size " + std::to_string(s.height) + "x" + std::to_string(s.width) +
                         " is not positive");
    }
  }
  std::vector<TensorProfile> out;
  for (const auto& in : inputs) {
    TensorProfile tp;
    tp.name = in.name;
    tp.min = tp.opt = tp.max = in.shape;
    const std::size_t rank = in.shape.size();
    const bool image = rank == 4;
    const std::size_t c_dim = r.layout == ImageLayout::NCHW ? 1 : 3;
    const std::size_t h_dim = r.layout == ImageLayout::NCHW ? 2 : 1;
    const std::size_t w_dim = h_dim + 1;
    for (std::size_t d = 0; d < rank; ++d) {
      const std::int64_t dim = in.shape[d];
      const std::string where = "input '" + in.name + "' dim " + std::to_string(d);
      if (d == 0) {
        if (dim == kDynamicDim) {
          tp.min[d] = r.min_batch;
          tp.opt[d] = r.opt_batch;
          tp.max[d] = r.max_batch;
        } else if (r.max_batch > dim || r.min_batch > dim) {
          return bad_profile(where + " (batch) is fixed at " + std::to_string(dim) +
                             " but the batch range asks for up to " + std::to_string(r.max_batch) +
                             "; export the model with a dynamic batch");
        }
        continue;
      }
      if (image && (d == h_dim || d == w_dim)) {
        const char* axis = d == h_dim ? "height" : "width";
        auto pick = [&](const ImageSize& s) { return d == h_dim ? s.height : s.width; };
        if (dim == kDynamicDim) {
          if (r.input_sizes.empty()) {
            return bad_profile(where + " (" + axis +
                               ") is dynamic; give the input sizes (manifest input sizes or "
                               "backend option input_sizes=HxW[,HxW...])");
          }
          std::int64_t lo = pick(r.input_sizes.front());
          std::int64_t hi = lo;
          for (const auto& s : r.input_sizes) {
            lo = std::min(lo, pick(s));
            hi = std::max(hi, pick(s));
          }
          tp.min[d] = lo;
          tp.opt[d] = pick(r.input_sizes.front());
          tp.max[d] = hi;
        } else {
          for (const auto& s : r.input_sizes) {
            if (pick(s) != dim) {
              return bad_profile(where + " (" + axis + ") is fixed at " + std::to_string(dim) +
                                 " but input size " + std::to_string(s.height) + "x" +
                                 std::to_string(s.width) + " was requested");
            }
          }
        }
        continue;
      }
      if (dim == kDynamicDim) {
        const std::string role = image && d == c_dim ? " (channels)" : "";
        return bad_profile(where + role +
                           " is dynamic and nothing in the manifest fixes it; export the model "
                           "with that dim static");
      }
    }
    out.push_back(std::move(tp));
  }
  return out;
}

std::string profiles_to_string(const std::vector<TensorProfile>& profiles) {
  std::string s;
  for (const auto& p : profiles) {
    if (!s.empty()) s += ";";
    s += p.name + ":" + shape_to_string(p.min) + "/" + shape_to_string(p.opt) + "/" +
         shape_to_string(p.max);
  }
  return s;
}

}  // namespace aegisrt::trt
