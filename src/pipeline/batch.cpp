// Pipeline::run_batch: N decoded images -> one [N, C, H, W] input -> one
// execute -> per-image slices of every output -> the layout's decoder, per
// image, in order. Kept apart from pipeline.cpp (the per-image path) so the
// two evolve independently; the decoders are the same as run()'s.
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "aegisrt/pipeline/pipeline.h"
#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline {
namespace {

Duration since(TimePoint t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }

/// Image `index`'s slice of a batched output: a host copy whose first dim is 1.
Result<Tensor> slice_output(const Tensor& t, std::size_t batch, std::size_t index) {
  if (!t.location().is_host()) {
    return Error(ErrorCode::BackendError,
                 "output '" + t.name() + "' is in device memory; run_batch slices host outputs");
  }
  if (t.shape().empty() || t.shape().front() != static_cast<std::int64_t>(batch)) {
    return Error(ErrorCode::BackendError, "output '" + t.name() + "' has shape " + shape_to_string(t.shape()) +
                                              ", which does not carry the batch of " + std::to_string(batch) +
                                              " images as its first dimension");
  }
  Shape one = t.shape();
  one.front() = 1;
  const std::size_t bytes = t.byte_size() / batch;
  const auto* base = static_cast<const std::byte*>(t.data());
  return Tensor::from_bytes(std::move(one), t.dtype(), std::span<const std::byte>(base + index * bytes, bytes),
                            t.name());
}

}  // namespace

std::int64_t Pipeline::max_batch() const {
  if (top_down_ || florence_) return 0;
  for (const TensorDesc& d : context_->backend().input_specs()) {
    if (d.name != info_.input_name) continue;
    if (d.shape.empty() || d.shape.front() == kDynamicDim) return 0;
    return d.shape.front();
  }
  return 1;
}

Result<std::vector<FrameResult>> Pipeline::run_batch(std::span<const vision::Image> images,
                                                     std::span<const std::string> sources) {
  const std::size_t n = images.size();
  if (n == 0) return Error(ErrorCode::InvalidArgument, "run_batch needs at least one image");
  if (!sources.empty() && sources.size() != n) {
    return Error(ErrorCode::InvalidArgument, "run_batch got " + std::to_string(n) + " images but " +
                                                 std::to_string(sources.size()) + " source names");
  }
  const auto source_of = [&](std::size_t i) { return sources.empty() ? std::string() : sources[i]; };
  std::vector<FrameResult> results;
  results.reserve(n);
  if (top_down_ || florence_) {
    // Two models per image (detector, then pose per person) / Florence-2's
    // generation loop per image: no one batch.
    for (std::size_t i = 0; i < n; ++i) {
      AEGIS_ASSIGN_OR_RETURN(FrameResult r, run(images[i], source_of(i)));
      results.push_back(std::move(r));
    }
    return results;
  }
  const std::int64_t fixed = max_batch();
  if (fixed != 0 && fixed != static_cast<std::int64_t>(n)) {
    return Error(ErrorCode::InvalidArgument,
                 "model '" + info_.onnx_path.string() + "' input '" + info_.input_name + "' has a fixed batch of " +
                     std::to_string(fixed) + "; a batch of " + std::to_string(n) +
                     " images needs an export with a dynamic batch dimension (or run the images one by one)");
  }

  // One input size for the whole batch: the fixed size, or with keep_aspect
  // (dynamic H/W) the first image's, which every image must share.
  TimePoint t = Clock::now();
  auto config_r = input_config(images[0]);
  if (!config_r.ok()) return std::move(config_r).error().with_context("batch image 0");
  const vision::PreprocessConfig config = std::move(config_r).value();
  if (info_.keep_aspect_multiple > 0) {
    for (std::size_t i = 1; i < n; ++i) {
      auto c = input_config(images[i]);
      if (!c.ok()) return std::move(c).error().with_context("batch image " + std::to_string(i));
      if (c->width != config.width || c->height != config.height) {
        return Error(ErrorCode::InvalidArgument,
                     "run_batch: " + info_.model + "/" + info_.variant +
                         " sizes its input per image (input.preprocessing.keep_aspect, dynamic height/width): "
                         "batch image 0 (" + std::to_string(images[0].width()) + "x" +
                         std::to_string(images[0].height()) + ") needs a " + std::to_string(config.width) + "x" +
                         std::to_string(config.height) + " input, batch image " + std::to_string(i) + " (" +
                         std::to_string(images[i].width()) + "x" + std::to_string(images[i].height()) + ") " +
                         std::to_string(c->width) + "x" + std::to_string(c->height) +
                         "; batch images of one input size only, or run them one by one");
      }
    }
  }

  // Pre-process each image into its slot of one [N, C, H, W] tensor.
  std::vector<vision::Image> converted(n);
  AEGIS_ASSIGN_OR_RETURN(Tensor batch, Tensor::allocate_host(config.tensor_shape(static_cast<std::int64_t>(n)),
                                                             DType::Float32));
  const std::size_t per_image = config.elements_per_image();
  auto all = batch.span<float>();
  for (std::size_t i = 0; i < n; ++i) {
    FrameResult frame;
    frame.source = source_of(i);
    frame.output_type = info_.output_type;
    const vision::Image* image = &images[i];
    if (image->channels() != 3) {
      auto c = image->convert(3);
      if (!c.ok()) return std::move(c).error().with_context("batch image " + std::to_string(i));
      converted[i] = std::move(c).value();
      image = &converted[i];
    }
    frame.width = image->width();
    frame.height = image->height();
    frame.exif_orientation = images[i].exif_orientation();
    frame.orientation_applied = images[i].orientation_applied();
    auto transform = vision::preprocess_into(*image, config, all.subspan(i * per_image, per_image));
    if (!transform.ok()) {
      return std::move(transform).error().with_context("pre-processing batch image " + std::to_string(i) +
                                                       (frame.source.empty() ? "" : " (" + frame.source + ")"));
    }
    frame.transform = *transform;
    results.push_back(std::move(frame));
  }
  Tensor half;
  TensorView view = batch.view();
  if (input_dtype_ == DType::Float16) {
    AEGIS_ASSIGN_OR_RETURN(half, Tensor::allocate_host(batch.shape(), DType::Float16));
    auto dst = half.span<std::uint16_t>();
    for (std::size_t i = 0; i < all.size(); ++i) dst[i] = float_to_half(all[i]);
    view = half.view();
  }
  const Duration preprocess = since(t);

  // One execute.
  t = Clock::now();
  ExecutionRequest request;
  request.inputs.push_back({info_.input_name, view});
  AEGIS_ASSIGN_OR_RETURN(ExecutionResult out, context_->execute(request));
  const Duration execute = since(t);
  if (out.outputs.empty()) {
    return Error(ErrorCode::BackendError, "the model produced no outputs", "post-processing a batch");
  }

  // Per image, in order: its slice of every output through the decoder.
  t = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    FrameResult& frame = results[i];
    const auto in_context = [&](Error e) -> Result<void> {
      return e.with_context("post-processing batch image " + std::to_string(i) +
                            (frame.source.empty() ? std::string() : " (" + frame.source + ")"));
    };
    ExecutionResult one;
    one.latency = out.latency;
    one.deadline_missed = out.deadline_missed;
    one.outputs.reserve(out.outputs.size());
    for (const Tensor& o : out.outputs) {
      auto s = slice_output(o, n, i);
      if (!s.ok()) return in_context(std::move(s).error()).error();
      one.outputs.push_back(std::move(s).value());
    }
    frame.frame_index = next_frame_++;
    frame.deadline_missed = out.deadline_missed;
    AEGIS_TRY(decoder_->decode(one, frame).or_else(in_context));
  }
  const Duration postprocess = since(t);
  const auto share = [n](Duration d) { return Duration(d.count() / static_cast<Duration::rep>(n)); };
  for (FrameResult& frame : results) {
    frame.timings.preprocess = share(preprocess);
    frame.timings.execute = share(execute);
    frame.timings.postprocess = share(postprocess);
  }
  return results;
}

}  // namespace aegisrt::pipeline
