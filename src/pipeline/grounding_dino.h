// Private: Grounding DINO's text prompt inside Pipeline (docs/PIPELINE.md
// "Grounding DINO"). The prompt is normalised as IDEA-Research's
// preprocess_caption does (lower case, stripped, ends with "."), tokenised
// with the model's own BERT vocab.txt (text/wordpiece.h), and turned into the
// text tensors the export takes, fed with every image:
//
//   IDEA-Research export (inputs img, input_ids, attention_mask,
//   position_ids, token_type_ids, text_token_mask): AegisRT computes the
//   phrase-wise text self-attention mask [1, L, L] and the position ids
//   within each phrase (transformers' / IDEA's
//   generate_masks_with_special_tokens_and_transfer_map; phrases end at
//   [CLS], [SEP], "." and "?"), token types 0, text_token_mask all true.
//
//   transformers export (inputs pixel_values, input_ids, token_type_ids,
//   attention_mask [1, L], optional pixel_mask [1, H, W]): the model
//   computes the phrase masks itself; attention_mask and pixel_mask all 1.
//
// The export's inputs decide which one (by name).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/models/manifest.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/text/wordpiece.h"

namespace aegisrt::pipeline::detail {

enum class TextSignature : std::uint8_t { Idea, Transformers };

struct TextPrompt {
  std::string text;                      // the normalised prompt
  text::WordPieceTokenizer tokenizer;    // decodes the phrases
  std::vector<std::int64_t> input_ids;   // [CLS] ... [SEP] (cut to max_tokens)
  std::vector<std::int64_t> phrase_of;   // per token: index of its phrase in the prompt
  TextSignature signature = TextSignature::Idea;
  std::string image_input;               // "img" or "pixel_values"
  std::vector<std::pair<std::string, Tensor>> tensors;  // fed with every image
};

/// IDEA-Research's preprocess_caption: ASCII lower case, whitespace stripped,
/// "." appended unless it ends with one. InvalidArgument naming --prompt when
/// nothing is left.
Result<std::string> normalize_prompt(std::string_view prompt);

/// transformers' generate_masks_with_special_tokens_and_transfer_map for one
/// sequence: mask (row-major L x L, 1 = may attend) and position ids.
void phrase_masks(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& special,
                  std::vector<std::uint8_t>& mask, std::vector<std::int64_t>& position_ids);

/// Builds the prompt's tensors for a model with these inputs. The
/// vocabulary: `tokenizer_file` (the manifest's input.prompt.tokenizer_file,
/// a bare name) next to `onnx`. `image_shape` is the pre-processed image
/// tensor's shape (for pixel_mask).
Result<std::shared_ptr<const TextPrompt>> make_text_prompt(const models::ResolvedVariant& rv,
                                                           const PipelineOptions& options,
                                                           const std::filesystem::path& onnx,
                                                           const std::vector<TensorDesc>& inputs,
                                                           const Shape& image_shape);

}  // namespace aegisrt::pipeline::detail
