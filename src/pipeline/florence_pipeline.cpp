// Florence-2 inside Pipeline (seq2seq_tokens; docs/PIPELINE.md "Florence-2"):
// the variant's main ONNX is the vision encoder (Pipeline::load_model), the
// manifest's parts embed_tokens / encoder_model / decoder_model /
// decoder_with_past are loaded here like SAM's prompt decoder, and per image
// run_florence pre-processes on the CPU, generates as the manifest's
// output.generation (beam search or greedy, --num-beams; florence::Generator), decodes the ids with the model's tokenizer.json and
// parses them as transformers' post_process_generation (florence::parse).
#include <cstdlib>
#include <variant>

#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/backend/registry.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/vision/draw.h"
#include "pipeline/florence.h"

namespace aegisrt::pipeline {
namespace detail {
namespace {

class FlorenceDecoder final : public OutputDecoder {
 public:
  Result<void> decode(const ExecutionResult&, FrameResult&) override {
    return Error(ErrorCode::Internal, "florence generates per image (Pipeline::run_florence)");
  }

  /// Box tasks: each box with its label; text tasks: the image unchanged.
  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    const auto* g = std::get_if<GenerationResult>(&r.output);
    if (g == nullptr) return out;
    const DrawStyle style = DrawStyle::for_image(out);
    for (std::size_t i = 0; i < g->boxes.size(); ++i) {
      draw_box(out, g->boxes[i], vision::palette_color(static_cast<int>(i)),
               i < g->labels.size() ? g->labels[i] : std::string(), style);
    }
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    const auto* g = std::get_if<GenerationResult>(&r.output);
    if (g == nullptr) return;
    j["task"] = g->task;
    j["text"] = g->text;
    j["raw_text"] = g->raw_text;
    j["token_ids"] = g->token_ids;
    Json boxes = Json::array();
    for (std::size_t i = 0; i < g->boxes.size(); ++i) {
      boxes.push_back(Json{{"label", i < g->labels.size() ? g->labels[i] : std::string()},
                           {"box", box_json(g->boxes[i])}});
    }
    j["boxes"] = std::move(boxes);
  }
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_florence_decoder(const DecoderSetup&) {
  return std::unique_ptr<OutputDecoder>(std::make_unique<FlorenceDecoder>());
}

}  // namespace detail

Result<void> Pipeline::attach_florence(const models::ModelCatalog& catalog, const models::Selection& sel,
                                       const models::ResolvedVariant& rv, const PipelineOptions& options) {
  if (rv.output.layout != models::OutputLayout::Seq2SeqTokens) {
    if (options.num_beams) {
      return Error(ErrorCode::InvalidArgument,
                   "--num-beams is Florence-2's beam search; " + sel.model + " outputs " +
                       std::string(models::to_string(rv.output.layout)),
                   "--num-beams");
    }
    if (!options.task.empty()) {
      return Error(ErrorCode::InvalidArgument,
                   "--task is a Florence-2 task prompt; " + sel.model + " outputs " +
                       std::string(models::to_string(rv.output.layout)),
                   "--task");
    }
    return {};
  }
  const std::string who = sel.model + "/" + sel.variant;
  if (options.task.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 who + " needs a task prompt: pass --task, e.g. --task \"<CAPTION>\", \"<DETAILED_CAPTION>\", "
                       "\"<OD>\", or \"<CAPTION_TO_PHRASE_GROUNDING>\" with --text \"PHRASES\"",
                 "--task");
  }
  if (input_dtype_ != DType::Float32) {
    return Error(ErrorCode::Unsupported, who + ": the generation loop runs float32 parts; this vision encoder "
                                               "takes " + std::string(dtype_name(input_dtype_)) + " (use fp32)");
  }
  auto f = std::make_unique<detail::Florence>();
  f->task = options.task;
  AEGIS_ASSIGN_OR_RETURN(const std::string question, florence::task_question(options.task, options.prompt));
  // A task whose output the parser cannot read is refused now, not after the first image.
  AEGIS_TRY(florence::parse(options.task, "</s>", 1, 1));
  // The tokenizer: input.prompt.tokenizer_file next to the vision encoder.
  const models::PromptSpec spec = rv.input.prompt.value_or(models::PromptSpec{});
  if (spec.tokenizer_file.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 who + ": the manifest names no input.prompt.tokenizer_file (the model's tokenizer.json next "
                       "to the ONNX parts)");
  }
  const std::filesystem::path tok_path = info_.onnx_path.parent_path() / spec.tokenizer_file;
  auto tok = text::BpeTokenizer::load(tok_path);
  if (!tok.ok()) {
    return std::move(tok).error().with_context(who + "'s tokenizer (input.prompt.tokenizer_file, looked up next to " +
                                               info_.onnx_path.string() + ")");
  }
  f->tokenizer = std::move(tok).value();
  auto ids = f->tokenizer.encode("<s>" + question + "</s>");
  if (!ids.ok()) return std::move(ids).error().with_context("--text");
  f->question_ids = std::move(ids).value();
  // BART: generation starts from </s> and ends at </s>.
  const std::int64_t eos = f->tokenizer.token_to_id("</s>");
  if (eos < 0) {
    return Error(ErrorCode::InvalidArgument, who + "'s tokenizer " + tok_path.string() + " has no </s> token");
  }
  f->generate.decoder_start_token_id = eos;
  f->generate.eos_token_id = eos;
  // The manifest's output.generation (transformers' GenerationConfig), --num-beams over it.
  if (rv.output.generation) {
    auto g = florence::options_from(*rv.output.generation, f->generate);
    if (!g.ok()) return std::move(g).error().with_context(who + "'s manifest");
    f->generate = *g;
  }
  if (options.num_beams) {
    f->generate.num_beams = *options.num_beams;
    if (*options.num_beams < 1 || *options.num_beams > florence::kMaxBeams) {
      return Error(ErrorCode::InvalidArgument,
                   "--num-beams must be within [1, " + std::to_string(florence::kMaxBeams) + "], got " +
                       std::to_string(*options.num_beams),
                   "--num-beams");
    }
  }
  AEGIS_TRY(florence::validate(f->generate));

  // The four parts, each on the selection's backend, precision and budget.
  std::array<std::unique_ptr<ExecutionContext>, 4> contexts;
  for (std::size_t i = 0; i < florence::kPartNames.size(); ++i) {
    const std::string name = florence::kPartNames[i];
    const models::ResolvedPart* part = nullptr;
    for (const auto& p : sel.parts) {
      if (p.name == name && p.kind == models::PartKind::File) part = &p;
    }
    if (part == nullptr) {
      return Error(ErrorCode::InvalidArgument,
                   who + ": a seq2seq_tokens (Florence-2) model needs the parts embed_tokens, encoder_model, "
                         "decoder_model and decoder_with_past in its manifest; '" + name + "' is missing");
    }
    AEGIS_ASSIGN_OR_RETURN(detail::LoadedPart loaded,
                           detail::load_file_part(catalog, sel, *part, options, context_->budget()));
    contexts[i] = std::move(loaded.context);
  }
  AEGIS_ASSIGN_OR_RETURN(f->generator, florence::Generator::from_contexts(context_.get(), std::move(contexts)));
  florence_ = std::move(f);
  return {};
}

Result<FrameResult> Pipeline::run_florence(const vision::Image& image, FrameResult frame) {
  TimePoint t = Clock::now();
  AEGIS_ASSIGN_OR_RETURN(vision::PreprocessResult pre, vision::preprocess(image, info_.preprocess));
  frame.transform = pre.transforms.front();
  if (pre.tensor.dtype() != DType::Float32) {
    return Error(ErrorCode::Unsupported, info_.model + ": the Florence-2 pipeline feeds float32 pixel_values");
  }
  frame.timings.preprocess = std::chrono::duration_cast<Duration>(Clock::now() - t);

  t = Clock::now();
  AEGIS_ASSIGN_OR_RETURN(std::vector<std::int64_t> ids,
                         florence_->generator->generate(pre.tensor.view(), florence_->question_ids, florence_->generate));
  frame.timings.execute = std::chrono::duration_cast<Duration>(Clock::now() - t);

  t = Clock::now();
  frame.frame_index = next_frame_++;
  const auto in_context = [&](Error e) {
    return e.with_context("post-processing " + (frame.source.empty() ? std::string("image") : frame.source));
  };
  auto raw = florence_->tokenizer.decode(ids, false);
  if (!raw.ok()) return in_context(std::move(raw).error());
  auto parsed = florence::parse(florence_->task, *raw, frame.width, frame.height);
  if (!parsed.ok()) return in_context(std::move(parsed).error());
  GenerationResult g;
  g.task = florence_->task;
  g.text = parsed->text;
  g.raw_text = std::move(raw).value();
  g.token_ids = std::move(ids);
  for (const auto& b : parsed->boxes) {
    g.boxes.push_back(vision::Box{static_cast<float>(b[0]), static_cast<float>(b[1]), static_cast<float>(b[2]),
                                  static_cast<float>(b[3])});
  }
  g.labels = std::move(parsed->labels);
  frame.output = std::move(g);
  frame.timings.postprocess = std::chrono::duration_cast<Duration>(Clock::now() - t);
  return frame;
}

}  // namespace aegisrt::pipeline
