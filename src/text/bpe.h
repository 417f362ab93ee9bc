// Private: byte-level BPE tokenizer (GPT-2 / RoBERTa / BART, Florence-2's
// tokenizer) loaded from a Hugging Face `tokenizer.json`.
//
// What it does, as the `tokenizers` library does for such a file:
//   1. added tokens (tokenizer.json `added_tokens`: <s>, </s>, <pad>, <unk>,
//      Florence-2's task tokens and <loc_0>..<loc_999>, ...) are split off
//      first, leftmost-longest, honouring `lstrip` / `rstrip`;
//   2. the rest is pre-tokenized with the GPT-2 regex
//        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//      (Unicode letter / number / White_Space classes from ICU);
//   3. each piece's UTF-8 bytes are mapped to printable characters with
//      GPT-2's bytes_to_unicode table and merged by BPE merge rank;
//   4. decode maps ids back (byte-level, invalid UTF-8 replaced by U+FFFD as
//      Rust's from_utf8_lossy does), added tokens verbatim, special ones
//      dropped when asked (skip_special_tokens).
//
// Supported tokenizer.json subset (anything else is refused with
// Unsupported naming the key, never tokenized differently): model.type "BPE"
// without dropout, continuing_subword_prefix or end_of_word_suffix;
// normalizer null; pre_tokenizer ByteLevel (add_prefix_space false, use_regex
// true), alone or as the only member of a Sequence; added tokens without
// `single_word`. The post-processor (BOS/EOS templates) is NOT applied: the
// caller adds <s>/</s> itself (Florence-2's processor encodes with
// add_special_tokens=False and writes them into the text).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aegisrt/core/result.h"

namespace aegisrt::text {

class BpeTokenizer {
 public:
  /// Largest tokenizer.json accepted (real BART/Florence-2: ~2 MiB).
  static constexpr std::uint64_t kMaxFileBytes = 64ull << 20;

  /// Loads `path` (a regular file, at most kMaxFileBytes). Errors name the
  /// file and the key at fault: Corrupt (not JSON, missing/mistyped keys,
  /// merges naming unknown tokens), Unsupported (another model type or
  /// pre-tokenizer), InvalidArgument (too large), NotFound.
  static Result<BpeTokenizer> load(const std::filesystem::path& path);
  /// Same from the JSON text; `name` is used in messages.
  static Result<BpeTokenizer> from_json(std::string_view json, const std::string& name);

  /// Longest text encode() takes (prompts are short; BPE is quadratic in
  /// the length of one pre-tokenized piece).
  static constexpr std::size_t kMaxTextBytes = 64u << 10;

  /// Token ids of `text` (UTF-8), no BOS/EOS added. InvalidArgument for
  /// text that is not valid UTF-8 or longer than kMaxTextBytes.
  [[nodiscard]] Result<std::vector<std::int64_t>> encode(std::string_view text) const;

  /// Text of `ids`. skip_special drops added tokens flagged `special`.
  /// InvalidArgument for an id outside the vocabulary.
  [[nodiscard]] Result<std::string> decode(const std::vector<std::int64_t>& ids, bool skip_special) const;

  /// The token string of one id (byte-level form for vocabulary tokens);
  /// empty when out of range.
  [[nodiscard]] std::string id_to_token(std::int64_t id) const;
  /// Id of a token string (vocabulary or added token); -1 when unknown.
  [[nodiscard]] std::int64_t token_to_id(std::string_view token) const;
  [[nodiscard]] bool is_special(std::int64_t id) const;
  [[nodiscard]] std::size_t vocab_size() const { return id_to_token_.size(); }

 private:
  struct Added {
    std::string content;
    std::int64_t id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
  };

  void bpe_piece(std::string_view piece, std::vector<std::int64_t>& out) const;

  std::string name_;
  std::unordered_map<std::string, std::int64_t> vocab_;
  std::vector<std::string> id_to_token_;   // index = id
  std::vector<bool> special_;              // index = id
  std::vector<bool> added_;                // index = id: an added token (decoded verbatim)
  std::unordered_map<std::string, int> merge_rank_;  // key: left + '\0' + right
  std::vector<Added> added_tokens_;        // longest first
};

/// GPT-2's pre-tokenizer: the pieces (byte ranges of `text`) the regex above
/// splits `text` into. `text` must be valid UTF-8 (checked by encode()).
std::vector<std::string_view> gpt2_pre_tokenize(std::string_view text);

}  // namespace aegisrt::text
