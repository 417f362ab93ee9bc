// Private: Florence-2 generation through the backend interface (issue #18 item 4).
//
// Inside Pipeline (seq2seq_tokens, Pipeline::attach_florence): the vision
// encoder is the variant's main ONNX, loaded by Pipeline::load_model into the
// pipeline's context; the manifest's parts embed_tokens, encoder_model,
// decoder_model and decoder_with_past are found and loaded like SAM's
// prompt_decoder (catalog lookup, --part-onnx, same backend binding,
// precision, cache key and budget), and Generator::from_contexts runs the loop.
// Generator::load (stand-alone, five paths) remains for the library test.
//
// Five ONNX parts, each run in its own ExecutionContext (any backend that
// takes dynamic shapes; ONNX Runtime here):
//   vision_encoder      pixel_values [1,3,H,W] f32 -> image_features [1,N,D]
//   embed_tokens        input_ids [1,n] i64 -> inputs_embeds [1,n,D]
//   encoder_model       inputs_embeds [1,N+n,D], attention_mask [1,N+n] i64 -> last_hidden_state
//   decoder_model       first step: input_ids [1,1] (decoder start), encoder_hidden_states,
//                       encoder_attention_mask -> logits, present.{i}.decoder/encoder.key/value
//   decoder_with_past   later steps: input_ids [1,1], encoder_attention_mask,
//                       past_key_values.{i}.decoder/encoder.key/value -> logits,
//                       present.{i}.decoder.key/value (self-attention cache grows by one)
// (python/gen_golden_florence.py exports this split form; onnx-community's
// decoder_model_merged.onnx, one file with a `use_cache_branch` input, is NOT
// handled yet.)
//
// The encoder input is [image features, embeddings of <s> question </s>], as
// transformers' Florence2Model builds it (the processor's <image> tokens
// replaced by the features). Decoding is GREEDY (argmax, first index on ties,
// as torch.argmax); beam search (the published generation_config's
// num_beams=3) is not implemented.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "aegisrt/context/execution_context.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/models/manifest.h"
#include "aegisrt/pipeline/pipeline.h"
#include "pipeline/decoders/decoder.h"
#include "text/bpe.h"

namespace aegisrt::pipeline::florence {

struct PartPaths {
  std::filesystem::path vision_encoder;
  std::filesystem::path embed_tokens;
  std::filesystem::path encoder_model;
  std::filesystem::path decoder_model;
  std::filesystem::path decoder_with_past;
};

struct GenerateOptions {
  int max_new_tokens = 1024;
  std::int64_t decoder_start_token_id = 2;  // BART: </s>
  std::int64_t eos_token_id = 2;
  int decoder_layers = 0;                   // 0: counted from decoder_model's outputs
};

/// The parts the generator runs besides the vision encoder, in manifest
/// `parts` names.
inline constexpr std::array<const char*, 4> kPartNames = {"embed_tokens", "encoder_model", "decoder_model",
                                                          "decoder_with_past"};

class Generator {
 public:
  /// Loads every part on `backend` (e.g. "onnx"); errors name the part.
  static Result<std::unique_ptr<Generator>> load(const PartPaths& parts, const std::string& backend);
  /// Over already loaded parts (Pipeline): `vision` is not owned (the
  /// pipeline's own context) and must outlive the generator; the others are
  /// kPartNames in order. InvalidArgument for a null one.
  static Result<std::unique_ptr<Generator>> from_contexts(ExecutionContext* vision,
                                                          std::array<std::unique_ptr<ExecutionContext>, 4> parts);
  /// Another generator over the same loaded parts (ExecutionContext::
  /// create_instance of each), with `vision` as its vision encoder.
  [[nodiscard]] Result<std::unique_ptr<Generator>> create_instance(ExecutionContext* vision) const;

  /// The smallest top1 - top2 logit gap over the steps of the last
  /// generate() (how close an argmax came to flipping); +inf before one.
  [[nodiscard]] float last_min_margin() const noexcept { return last_min_margin_; }

  /// Generated ids: decoder start, then each argmax token, up to and
  /// including EOS (or max_new_tokens of them), as transformers' generate().
  /// `text_ids`: <s> question </s> (no image tokens).
  Result<std::vector<std::int64_t>> generate(const TensorView& pixel_values,
                                             const std::vector<std::int64_t>& text_ids,
                                             const GenerateOptions& options);

 private:
  std::unique_ptr<ExecutionContext> owned_vision_;  // load(); from_contexts() borrows the pipeline's
  ExecutionContext* vision_ = nullptr;
  std::unique_ptr<ExecutionContext> embed_, encoder_, decoder_, decoder_past_;
  float last_min_margin_ = std::numeric_limits<float>::infinity();
};

/// The processor's task prompt -> question (transformers' Florence2Processor
/// task_prompts_without_inputs / task_prompts_with_input). `text_input` is the
/// phrase of <CAPTION_TO_PHRASE_GROUNDING> / <OPEN_VOCABULARY_DETECTION>.
/// Unsupported for other tasks, InvalidArgument for a missing/extra text.
Result<std::string> task_question(const std::string& task, const std::string& text_input);

/// Parsed result of one generation (post_process_generation).
struct Parsed {
  std::string task;
  std::string text;                          // pure-text tasks (caption, OCR)
  std::vector<std::array<int, 4>> boxes;     // x0 y0 x1 y1, pixels (reference's int truncation)
  std::vector<std::string> labels;           // one per box
};

/// Bins of 1000 over the image size back to pixels: int((bin + 0.5) * size / 1000)
/// in float32, as Florence2PostProcessor.dequantize.
std::array<int, 4> dequantize_box(const std::array<int, 4>& bins, int width, int height);

/// transformers' post_process_generation for `task` on the decoded text
/// (skip_special_tokens=False): pure text, or phrases + boxes from <loc_*>
/// (description_with_bboxes; phrase_grounding with the published
/// banned_grounding_tokens ["the image"]). Polygons/OCR boxes: Unsupported.
Result<Parsed> parse(const std::string& task, const std::string& raw, int width, int height);

}  // namespace aegisrt::pipeline::florence

namespace aegisrt::pipeline::detail {

/// Pipeline's Florence-2 state (Pipeline::attach_florence / run_florence).
struct Florence {
  std::unique_ptr<florence::Generator> generator;
  text::BpeTokenizer tokenizer;
  std::string task;                        // "<CAPTION>", ...
  std::vector<std::int64_t> question_ids;  // <s> question </s>
  florence::GenerateOptions generate;
};

/// The annotate/to_json side of seq2seq_tokens (generation happens in
/// Pipeline::run_florence).
Result<std::unique_ptr<OutputDecoder>> make_florence_decoder(const DecoderSetup& setup);

}  // namespace aegisrt::pipeline::detail
