// Grounding DINO's text prompt (grounding_dino.h).
#include "pipeline/grounding_dino.h"

#include <algorithm>
#include <cctype>

namespace aegisrt::pipeline::detail {
namespace {
namespace fs = std::filesystem;

const TensorDesc* find_input(const std::vector<TensorDesc>& inputs, std::string_view name) {
  const auto it = std::find_if(inputs.begin(), inputs.end(), [&](const TensorDesc& d) { return d.name == name; });
  return it == inputs.end() ? nullptr : &*it;
}

/// A tensor of the input's dtype holding `values` (0/1 for masks).
Result<Tensor> make_input(const TensorDesc& desc, Shape shape, const std::vector<std::int64_t>& values) {
  if (!desc.accepts_shape(shape)) {
    return Error(ErrorCode::InvalidArgument, "model input " + desc.to_string() + " does not accept " +
                                                 shape_to_string(shape) + " (the prompt's tokens)");
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate_host(std::move(shape), desc.dtype, desc.name));
  switch (desc.dtype) {
    case DType::Int64: std::copy(values.begin(), values.end(), t.span<std::int64_t>().begin()); break;
    case DType::Int32: {
      auto dst = t.span<std::int32_t>();
      for (std::size_t i = 0; i < values.size(); ++i) dst[i] = static_cast<std::int32_t>(values[i]);
      break;
    }
    case DType::Bool:
    case DType::UInt8: {
      auto dst = t.span<std::uint8_t>();
      for (std::size_t i = 0; i < values.size(); ++i) dst[i] = values[i] != 0 ? 1 : 0;
      break;
    }
    case DType::Float32: {
      auto dst = t.span<float>();
      for (std::size_t i = 0; i < values.size(); ++i) dst[i] = static_cast<float>(values[i]);
      break;
    }
    default:
      return Error(ErrorCode::Unsupported, "model input " + desc.to_string() +
                                               ": the prompt's tensors are fed as int64, int32, bool, uint8 or float32");
  }
  return t;
}

}  // namespace

Result<std::string> normalize_prompt(std::string_view prompt) {
  std::string s(prompt);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && space(static_cast<unsigned char>(s[b]))) ++b;
  s.erase(0, b);
  if (s.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 "grounding_dino needs a text prompt: pass --prompt \"person . car .\" (the phrases to find, "
                 "separated by \" . \")",
                 "--prompt");
  }
  if (s.back() != '.') s += '.';
  return s;
}

void phrase_masks(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& special,
                  std::vector<std::uint8_t>& mask, std::vector<std::int64_t>& position_ids) {
  const auto n = static_cast<std::int64_t>(ids.size());
  const auto is_special = [&](std::int64_t id) { return std::find(special.begin(), special.end(), id) != special.end(); };
  std::vector<std::int64_t> prev(static_cast<std::size_t>(n), -1);
  std::vector<std::int64_t> next(static_cast<std::size_t>(n), n);
  std::int64_t last = -1;
  for (std::int64_t i = 0; i < n; ++i) {  // previous special strictly before i
    prev[static_cast<std::size_t>(i)] = last;
    if (is_special(ids[static_cast<std::size_t>(i)])) last = i;
  }
  std::int64_t following = n;
  for (std::int64_t i = n - 1; i >= 0; --i) {  // next special at or after i
    if (is_special(ids[static_cast<std::size_t>(i)])) following = i;
    next[static_cast<std::size_t>(i)] = following;
  }
  mask.assign(static_cast<std::size_t>(n * n), 0);
  position_ids.assign(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t ni = next[static_cast<std::size_t>(i)];
    const bool valid = ni != 0 && ni != n - 1 && ni != n;
    for (std::int64_t j = 0; j < n; ++j) {
      const bool same = valid && next[static_cast<std::size_t>(j)] == ni;
      mask[static_cast<std::size_t>(i * n + j)] = (i == j || same) ? 1 : 0;
    }
    if (valid) position_ids[static_cast<std::size_t>(i)] = std::max<std::int64_t>(0, i - prev[static_cast<std::size_t>(i)] - 1);
  }
}

Result<std::shared_ptr<const TextPrompt>> make_text_prompt(const models::ResolvedVariant& rv,
                                                           const PipelineOptions& options, const fs::path& onnx,
                                                           const std::vector<TensorDesc>& inputs,
                                                           const Shape& image_shape) {
  const std::string who = rv.model + "/" + rv.variant;
  auto p = std::make_shared<TextPrompt>();
  AEGIS_ASSIGN_OR_RETURN(p->text, normalize_prompt(options.prompt));
  const models::PromptSpec spec = rv.input.prompt.value_or(models::PromptSpec{});
  if (spec.tokenizer_file.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 who + ": the manifest names no input.prompt.tokenizer_file (the BERT vocab.txt next to the ONNX file)");
  }
  const fs::path vocab = onnx.parent_path() / spec.tokenizer_file;
  AEGIS_ASSIGN_OR_RETURN(p->tokenizer, text::WordPieceTokenizer::load(vocab).or_else([&](Error e) -> Result<text::WordPieceTokenizer> {
    return e.with_context(who + "'s tokenizer (input.prompt.tokenizer_file, looked up next to " + onnx.string() + ")");
  }));
  const std::size_t max_tokens = spec.max_tokens > 0 ? static_cast<std::size_t>(spec.max_tokens) : 0;
  AEGIS_ASSIGN_OR_RETURN(p->input_ids, p->tokenizer.encode(p->text, max_tokens).or_else([&](Error e) -> Result<std::vector<std::int64_t>> {
    return e.with_context("--prompt");
  }));
  // IDEA: tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]", ".", "?"]) (a missing token gives [UNK]'s id)
  std::vector<std::int64_t> special;
  for (const char* tok : {"[CLS]", "[SEP]", ".", "?"}) {
    const std::int64_t id = p->tokenizer.id_of(tok);
    special.push_back(id >= 0 ? id : p->tokenizer.unk_id());
  }
  const auto n = static_cast<std::int64_t>(p->input_ids.size());
  std::int64_t phrase = 0;
  for (std::int64_t id : p->input_ids) {
    p->phrase_of.push_back(phrase);
    if (id == special[2] || id == special[3]) ++phrase;
  }

  const std::vector<std::int64_t> zeros(static_cast<std::size_t>(n), 0);
  const std::vector<std::int64_t> ones(static_cast<std::size_t>(n), 1);
  const auto add = [&](std::string_view name, Shape shape, const std::vector<std::int64_t>& values) -> Result<void> {
    const TensorDesc* d = find_input(inputs, name);
    if (d == nullptr) return {};
    AEGIS_ASSIGN_OR_RETURN(Tensor t, make_input(*d, std::move(shape), values));
    p->tensors.emplace_back(std::string(name), std::move(t));
    return {};
  };
  std::vector<std::string> names;
  for (const auto& d : inputs) names.push_back(d.name);
  const auto has = [&](std::string_view name) { return find_input(inputs, name) != nullptr; };
  if (has("img") && has("input_ids") && has("attention_mask") && has("position_ids") && has("text_token_mask")) {
    p->signature = TextSignature::Idea;
    p->image_input = "img";
    std::vector<std::uint8_t> mask;
    std::vector<std::int64_t> pos;
    phrase_masks(p->input_ids, special, mask, pos);
    AEGIS_TRY(add("input_ids", {1, n}, p->input_ids));
    AEGIS_TRY(add("attention_mask", {1, n, n}, std::vector<std::int64_t>(mask.begin(), mask.end())));
    AEGIS_TRY(add("position_ids", {1, n}, pos));
    AEGIS_TRY(add("token_type_ids", {1, n}, zeros));
    AEGIS_TRY(add("text_token_mask", {1, n}, ones));
  } else if (has("pixel_values") && has("input_ids")) {
    p->signature = TextSignature::Transformers;
    p->image_input = "pixel_values";
    AEGIS_TRY(add("input_ids", {1, n}, p->input_ids));
    AEGIS_TRY(add("token_type_ids", {1, n}, zeros));
    AEGIS_TRY(add("attention_mask", {1, n}, ones));
    if (image_shape.size() == 4) {
      const std::int64_t h = image_shape[2];
      const std::int64_t w = image_shape[3];
      AEGIS_TRY(add("pixel_mask", {1, h, w}, std::vector<std::int64_t>(static_cast<std::size_t>(h * w), 1)));
    }
  } else {
    std::string list;
    for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
    return Error(ErrorCode::Unsupported,
                 "model '" + onnx.string() + "' has inputs (" + list +
                     "); a Grounding DINO export takes IDEA-Research's (img, input_ids, attention_mask, position_ids, "
                     "token_type_ids, text_token_mask) or transformers' (pixel_values, input_ids, token_type_ids, "
                     "attention_mask[, pixel_mask])");
  }
  std::size_t fed = p->tensors.size() + 1;
  if (fed != inputs.size()) {
    std::string list;
    for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
    return Error(ErrorCode::Unsupported, "model '" + onnx.string() + "' has inputs (" + list +
                                             ") the Grounding DINO pipeline does not know how to feed");
  }
  return std::shared_ptr<const TextPrompt>(std::move(p));
}

}  // namespace aegisrt::pipeline::detail
