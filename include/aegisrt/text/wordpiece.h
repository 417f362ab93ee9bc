// BERT WordPiece tokenizer (uncased), as Hugging Face's BertTokenizer with
// do_lower_case=True (the `tokenizers` library's BertNormalizer +
// BertPreTokenizer + WordPiece + the [CLS] ... [SEP] template):
//
//   clean text    drop U+0000, U+FFFD and "other" characters (Unicode Cc, Cf,
//                 Cs, Co, Cn, except \t \n \r); White_Space characters -> ' '
//   CJK           spaces around CJK ideographs (BERT's ranges)
//   accents       Unicode NFD, then drop non-spacing marks (Mn) (ICU)
//   lower case    per character (Unicode full lower-case mapping, no context)
//   split         on whitespace; every punctuation character (ASCII
//                 punctuation or Unicode P*) is a word of its own
//   WordPiece     greedy longest match from the left, continuations with
//                 "##"; a word of more than 100 characters, or one that
//                 cannot be covered, is [UNK]
//   specials      [CLS] first, [SEP] last; at most max_tokens ids in all
//
// Used by Grounding DINO's text prompt (docs/PIPELINE.md "Grounding DINO").
// The tests compare ids with transformers' BertTokenizer on recorded strings
// (tests/data/golden/grounding_dino/grounding_dino_reference.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aegisrt/core/result.h"

namespace aegisrt::text {

class WordPieceTokenizer {
 public:
  /// Longest vocabulary line accepted (bytes); BERT's longest is 18.
  static constexpr std::size_t kMaxTokenBytes = 200;
  /// Largest vocab.txt accepted (bert-base-uncased: 232 KB).
  static constexpr std::uint64_t kMaxFileBytes = 64ull << 20;
  /// Words longer than this (in code points) become [UNK] (BERT's max_input_chars_per_word).
  static constexpr std::size_t kMaxCharsPerWord = 100;

  /// Reads a BERT vocab.txt: one token per line, id = line number - 1.
  /// Errors name the file and line: NotFound/IoError (the file), Corrupt
  /// (empty file, empty line, a line over kMaxTokenBytes, invalid UTF-8, a
  /// token listed twice, no [UNK] / [CLS] / [SEP]).
  static Result<WordPieceTokenizer> load(const std::filesystem::path& vocab_file);
  /// From tokens in id order; `what` names their origin in errors.
  static Result<WordPieceTokenizer> from_tokens(std::vector<std::string> tokens, std::string_view what);

  /// Normalised, split words (before WordPiece): the BasicTokenizer's output.
  /// InvalidArgument for text that is not valid UTF-8.
  Result<std::vector<std::string>> basic_tokenize(std::string_view text) const;
  /// [CLS] + WordPiece ids + [SEP]; with max_tokens > 0, cut to that many
  /// ids (the [SEP] is then lost, as the models' own truncation does).
  Result<std::vector<std::int64_t>> encode(std::string_view text, std::size_t max_tokens = 0) const;
  /// Hugging Face's decode(ids) of a BERT tokenizer (the `tokenizers`
  /// WordPiece decoder, cleanup on): tokens joined by spaces, "##" pieces
  /// glued to the previous one, " ." -> "." (and ? ! , n't 'm 's 've 're);
  /// special tokens are kept. Ids outside the vocabulary: InvalidArgument.
  Result<std::string> decode(const std::vector<std::int64_t>& ids) const;

  [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
  /// Id of a token, -1 when the vocabulary lacks it.
  [[nodiscard]] std::int64_t id_of(std::string_view token) const;
  [[nodiscard]] const std::string& token(std::int64_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] std::int64_t unk_id() const noexcept { return unk_; }
  [[nodiscard]] std::int64_t cls_id() const noexcept { return cls_; }
  [[nodiscard]] std::int64_t sep_id() const noexcept { return sep_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::int64_t unk_ = -1;
  std::int64_t cls_ = -1;
  std::int64_t sep_ = -1;
};

}  // namespace aegisrt::text
