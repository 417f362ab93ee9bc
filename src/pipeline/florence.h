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
// replaced by the features). Decoding is transformers' generate() with
// do_sample=False: greedy (num_beams 1: argmax of the processed logits, first
// index on ties, as torch.argmax) or beam search (num_beams N >= 2, as
// transformers 5.x GenerationMixin._beam_search at batch 1: log_softmax, the
// logits processors, top 2N candidates over all beams, finished hypotheses
// scored sum / length^length_penalty, early_stopping true / false / "never",
// EOS, max_length = 1 + max_new_tokens). The beams are decoded one by one at
// batch 1 (the exported parts' batch axis is fixed to 1), each over its own
// self-attention cache, which follows its parent beam each step; the
// cross-attention cache is shared. The logits processors of the generation
// config (NoRepeatNGram, MinLength, ForcedBOS, ForcedEOS) apply in both modes.
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

/// transformers' early_stopping: True (stop once num_beams hypotheses are
/// finished), False (heuristic on the current length), "never" (heuristic on
/// max_length when length_penalty > 0).
enum class EarlyStopping : std::uint8_t { False, True, Never };

struct GenerateOptions {
  int max_new_tokens = 1024;
  std::int64_t decoder_start_token_id = 2;  // BART: </s>
  std::int64_t eos_token_id = 2;
  int decoder_layers = 0;                   // 0: counted from decoder_model's outputs
  // transformers' GenerationConfig (defaults as transformers'; the Florence-2
  // manifest's output.generation sets the published ones).
  int num_beams = 1;                         // 1 = greedy; at most kMaxBeams
  int no_repeat_ngram_size = 0;              // 0 = off
  std::int64_t forced_bos_token_id = -1;     // -1 = none
  std::int64_t forced_eos_token_id = -1;     // -1 = none
  int min_length = 0;                        // total length (decoder start included) before EOS may come
  float length_penalty = 1.0F;
  EarlyStopping early_stopping = EarlyStopping::False;
};

inline constexpr int kMaxBeams = 16;

/// InvalidArgument naming the setting (manifest key and CLI option) for
/// num_beams outside [1, kMaxBeams], negative no_repeat_ngram_size /
/// min_length, max_new_tokens < 1, a non-finite length_penalty.
Result<void> validate(const GenerateOptions& options);

/// The tokens NoRepeatNGramLogitsProcessor bans after `seq` (the decoder ids
/// so far, start token included): each token that followed an earlier
/// occurrence of the last n - 1 tokens. Empty for n < 1 or len(seq) < n.
std::vector<std::int64_t> banned_ngram_tokens(const std::vector<std::int64_t>& seq, int n);

/// transformers' logits processors of the options, in its order, on one row
/// of `vocab` scores in place, for the hypothesis `seq` (decoder ids so far):
/// NoRepeatNGram (-inf), MinLength (EOS -inf while len(seq) < min_length),
/// ForcedBOS (len(seq) == 1: all -inf but the token, 0), ForcedEOS (len(seq)
/// == max_length - 1). InvalidArgument for a forced / EOS id outside the vocabulary.
Result<void> apply_processors(const std::vector<std::int64_t>& seq, float* scores, std::int64_t vocab,
                              const GenerateOptions& options, int max_length);

/// transformers' beam search (batch 1) over rows of logits, one row per
/// running beam; the caller runs the decoder. Decoder-independent, so it is
/// unit-tested on hand-made logits.
class BeamSearch {
 public:
  /// `options` must be validate()d; num_beams >= 1.
  explicit BeamSearch(const GenerateOptions& options);
  /// The running hypotheses (num_beams of them, decoder start first).
  [[nodiscard]] const std::vector<std::vector<std::int64_t>>& running() const noexcept { return running_; }
  /// One step over raw logits rows (row b for running()[b], `vocab` floats
  /// each). Returns, for each new running hypothesis, the index of the old one
  /// it extends (whose decoder cache it continues). InvalidArgument for NaN
  /// logits or a vocabulary too small for 2N candidates.
  Result<std::vector<int>> step(const std::vector<const float*>& rows, std::int64_t vocab);
  /// True once transformers' loop would stop (then best() is the result).
  [[nodiscard]] bool done() const noexcept { return done_; }
  /// The best finished hypothesis (transformers' sequences[0]).
  [[nodiscard]] const std::vector<std::int64_t>& best() const noexcept { return finished_.front(); }
  [[nodiscard]] float best_score() const noexcept { return finished_score_.front(); }
  /// The smallest score gap that decided a choice so far (N-th vs next
  /// candidate, N-th vs next running one, adjacent finished hypotheses, best
  /// running vs worst finished once all are finished); +inf if none.
  [[nodiscard]] float min_gap() const noexcept { return min_gap_; }

 private:
  GenerateOptions opt_;
  int n_;
  int max_length_;
  int cur_len_ = 1;
  std::vector<std::vector<std::int64_t>> running_;
  std::vector<float> running_score_;
  std::vector<std::vector<std::int64_t>> finished_;
  std::vector<float> finished_score_;
  std::vector<char> finished_done_;
  bool heuristic_unsatisfied_ = true;
  bool done_ = false;
  float min_gap_;
};

/// The parts the generator runs besides the vision encoder, in manifest
/// `parts` names.
inline constexpr std::array<const char*, 4> kPartNames = {"embed_tokens", "encoder_model", "decoder_model",
                                                          "decoder_with_past"};

/// The cache tensor names of one decoder layer i.
struct LayerNames {
  /// decoder_with_past inputs past_key_values.{i}.decoder.key/value, .encoder.key/value.
  std::array<std::string, 4> past;
  /// present.{i}.decoder.key/value (self-attention) of decoder_model and decoder_with_past.
  std::array<std::string, 2> present_self;
  /// present.{i}.encoder.key/value (cross-attention) of decoder_model.
  std::array<std::string, 2> present_cross;
};

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

  /// The smallest top1 - top2 (processed) logit gap over the steps of the
  /// last greedy generate(), or the smallest deciding score gap of the last
  /// beam search (BeamSearch::min_gap); +inf before one.
  [[nodiscard]] float last_min_margin() const noexcept { return last_min_margin_; }

  /// Generated ids: decoder start, then the generated tokens up to and
  /// including EOS (or max_new_tokens of them), as transformers' generate()
  /// with the options' num_beams and logits processors.
  /// `text_ids`: <s> question </s> (no image tokens).
  Result<std::vector<std::int64_t>> generate(const TensorView& pixel_values,
                                             const std::vector<std::int64_t>& text_ids,
                                             const GenerateOptions& options);

 private:
  std::unique_ptr<ExecutionContext> owned_vision_;  // load(); from_contexts() borrows the pipeline's
  ExecutionContext* vision_ = nullptr;
  std::unique_ptr<ExecutionContext> embed_, encoder_, decoder_, decoder_past_;
  /// Made at load for the layers decoder_with_past declares (its
  /// past_key_values.{i}.decoder.key inputs), not at each decoding step.
  std::vector<LayerNames> names_;
  /// Fills names_ from decoder_past_'s inputs (load() and from_contexts()).
  void name_layers();
  /// names_ for `layers` layers; only grows names_ when a generation uses more
  /// layers than decoder_with_past declares (its run then names the input).
  const std::vector<LayerNames>& names_for(int layers);
  /// The decoder_with_past request of one step: `token`, the encoder states
  /// and mask, each layer's self- and cross-attention cache (key, value pairs).
  [[nodiscard]] ExecutionRequest past_request(const std::int64_t& token, const Tensor& hidden,
                                              const TensorView& mask_view, int layers,
                                              const std::vector<Tensor>& self_kv,
                                              const std::vector<Tensor>& cross_kv) const;
  Result<std::vector<std::int64_t>> beam_search(const Tensor& hidden, const TensorView& mask_view,
                                                const GenerateOptions& options);
  float last_min_margin_ = std::numeric_limits<float>::infinity();
};

/// The GenerateOptions of a manifest's output.generation (num_beams,
/// no_repeat_ngram_size, forced ids, early_stopping, length_penalty,
/// max_new_tokens, min_length) over `base`; validated (errors name the key).
Result<GenerateOptions> options_from(const models::GenerationSpec& spec, GenerateOptions base);

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
