// BERT WordPiece tokenizer (include/aegisrt/text/wordpiece.h). Unicode
// properties and the NFD decomposition come from ICU (Debian libicu-dev).
#include "aegisrt/text/wordpiece.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>

#include "aegisrt/core/file_util.h"

namespace aegisrt::text {
namespace {

/// UTF-8 -> code points; false on invalid UTF-8.
bool decode_utf8(std::string_view s, std::u32string& out) {
  out.clear();
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(s.size());
  std::int32_t i = 0;
  while (i < n) {
    UChar32 c = 0;
    U8_NEXT(p, i, n, c);
    if (c < 0) return false;
    out.push_back(static_cast<char32_t>(c));
  }
  return true;
}

void append_utf8(std::string& out, char32_t c) {
  std::array<std::uint8_t, 4> buf{};
  std::int32_t len = 0;
  UBool err = 0;
  U8_APPEND(buf.data(), len, 4, static_cast<UChar32>(c), err);
  if (err == 0) out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(len));
}

std::string to_utf8(const char32_t* b, const char32_t* e) {
  std::string out;
  for (const char32_t* p = b; p != e; ++p) append_utf8(out, *p);
  return out;
}

bool is_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED: return true;
    default: return false;
  }
}

bool is_whitespace(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\r' || u_isUWhiteSpace(static_cast<UChar32>(c)) != 0;
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION: return true;
    default: return false;
  }
}

/// NFD of `in` (code points) via ICU; InvalidArgument/Internal on failure.
Result<std::u32string> nfd(const std::u32string& in) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) return Error(ErrorCode::Internal, std::string("ICU NFD: ") + u_errorName(status));
  std::u16string u16;
  u16.reserve(in.size());
  for (char32_t c : in) {
    if (c <= 0xFFFF) {
      u16.push_back(static_cast<char16_t>(c));
    } else {
      u16.push_back(static_cast<char16_t>(U16_LEAD(c)));
      u16.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  const auto len = static_cast<std::int32_t>(u16.size());
  std::u16string out(static_cast<std::size_t>(len) * 4 + 16, u'\0');
  status = U_ZERO_ERROR;
  const std::int32_t n = unorm2_normalize(norm, reinterpret_cast<const UChar*>(u16.data()), len,
                                          reinterpret_cast<UChar*>(out.data()),
                                          static_cast<std::int32_t>(out.size()), &status);
  if (U_FAILURE(status)) return Error(ErrorCode::Internal, std::string("ICU NFD: ") + u_errorName(status));
  std::u32string cps;
  for (std::int32_t i = 0; i < n;) {
    UChar32 c = 0;
    U16_NEXT(out.data(), i, n, c);
    cps.push_back(static_cast<char32_t>(c));
  }
  return cps;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::load(const std::filesystem::path& vocab_file) {
  const std::string what = "vocabulary '" + vocab_file.string() + "'";
  AEGIS_ASSIGN_OR_RETURN(std::string data, read_file(vocab_file, what, kMaxFileBytes));
  if (data.empty()) return Error(ErrorCode::Corrupt, what + " is empty");
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string::npos) eol = data.size();
    std::string line = data.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(std::move(line));
    pos = eol + 1;
  }
  return from_tokens(std::move(tokens), what);
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_tokens(std::vector<std::string> tokens, std::string_view what) {
  const std::string who(what);
  if (tokens.empty()) return Error(ErrorCode::Corrupt, who + " is empty");
  WordPieceTokenizer t;
  std::u32string cps;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& tok = tokens[i];
    const std::string where = who + " line " + std::to_string(i + 1);
    if (tok.empty()) return Error(ErrorCode::Corrupt, where + " is empty (one token per line)");
    if (tok.size() > kMaxTokenBytes) {
      return Error(ErrorCode::Corrupt, where + " has " + std::to_string(tok.size()) + " bytes; a token has at most " +
                                           std::to_string(kMaxTokenBytes));
    }
    if (!decode_utf8(tok, cps)) return Error(ErrorCode::Corrupt, where + " is not valid UTF-8");
    const auto [it, inserted] = t.ids_.emplace(tok, static_cast<std::int64_t>(i));
    if (!inserted) {
      return Error(ErrorCode::Corrupt, where + ": token '" + tok + "' is already on line " +
                                           std::to_string(it->second + 1));
    }
  }
  t.tokens_ = std::move(tokens);
  t.unk_ = t.id_of("[UNK]");
  t.cls_ = t.id_of("[CLS]");
  t.sep_ = t.id_of("[SEP]");
  for (const auto& [name, id] : {std::pair<const char*, std::int64_t>{"[UNK]", t.unk_}, {"[CLS]", t.cls_},
                                 {"[SEP]", t.sep_}}) {
    if (id < 0) return Error(ErrorCode::Corrupt, who + " has no " + name + " token (a BERT vocabulary needs it)");
  }
  return t;
}

std::int64_t WordPieceTokenizer::id_of(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

Result<std::vector<std::string>> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
  std::u32string in;
  if (!decode_utf8(text, in)) return Error(ErrorCode::InvalidArgument, "text is not valid UTF-8");
  // clean text + CJK spacing
  std::u32string cleaned;
  cleaned.reserve(in.size());
  for (char32_t c : in) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(U' ');
    } else if (is_cjk(c)) {
      cleaned.push_back(U' ');
      cleaned.push_back(c);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(c);
    }
  }
  // strip accents (NFD, drop Mn), then lower-case per character
  AEGIS_ASSIGN_OR_RETURN(const std::u32string decomposed, nfd(cleaned));
  std::u32string norm;
  norm.reserve(decomposed.size());
  for (char32_t c : decomposed) {
    if (u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK) continue;
    if (c == 0x0130) {  // the one unconditional multi-character lower-case mapping
      norm.push_back(U'i');
      norm.push_back(0x0307);
      continue;
    }
    norm.push_back(static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
  }
  // split on whitespace, isolate punctuation
  std::vector<std::string> words;
  std::size_t start = 0;
  const auto flush = [&](std::size_t end) {
    if (end > start) words.push_back(to_utf8(norm.data() + start, norm.data() + end));
  };
  for (std::size_t i = 0; i < norm.size(); ++i) {
    const char32_t c = norm[i];
    if (is_whitespace(c)) {
      flush(i);
      start = i + 1;
    } else if (is_punctuation(c)) {
      flush(i);
      words.push_back(to_utf8(norm.data() + i, norm.data() + i + 1));
      start = i + 1;
    }
  }
  flush(norm.size());
  return words;
}

Result<std::vector<std::int64_t>> WordPieceTokenizer::encode(std::string_view text, std::size_t max_tokens) const {
  AEGIS_ASSIGN_OR_RETURN(const std::vector<std::string> words, basic_tokenize(text));
  std::vector<std::int64_t> ids{cls_};
  std::u32string cps;
  std::vector<std::int64_t> pieces;
  for (const std::string& word : words) {
    (void)decode_utf8(word, cps);  // valid: made from decoded code points
    if (cps.size() > kMaxCharsPerWord) {
      ids.push_back(unk_);
      continue;
    }
    pieces.clear();
    bool bad = false;
    std::size_t begin = 0;
    while (begin < cps.size()) {
      std::int64_t found = -1;
      std::size_t end = cps.size();
      for (; end > begin; --end) {
        std::string sub = (begin > 0 ? "##" : "") + to_utf8(cps.data() + begin, cps.data() + end);
        found = id_of(sub);
        if (found >= 0) break;
      }
      if (found < 0) {
        bad = true;
        break;
      }
      pieces.push_back(found);
      begin = end;
    }
    if (bad) {
      ids.push_back(unk_);
    } else {
      ids.insert(ids.end(), pieces.begin(), pieces.end());
    }
  }
  ids.push_back(sep_);
  if (max_tokens > 0 && ids.size() > max_tokens) ids.resize(max_tokens);
  return ids;
}

Result<std::string> WordPieceTokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::int64_t id = ids[i];
    if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) {
      return Error(ErrorCode::InvalidArgument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                                   std::to_string(tokens_.size()) + " tokens)");
    }
    const std::string& tok = tokens_[static_cast<std::size_t>(id)];
    if (i > 0 && tok.compare(0, 2, "##") == 0) {
      out += tok.substr(2);
    } else {
      if (i > 0) out += ' ';
      out += tok;
    }
  }
  // The `tokenizers` WordPiece decoder's cleanup (checked against
  // transformers 5.23's BertTokenizer: " ' " is left as it is, " do not" too)
  for (const auto& [from, to] : {std::pair<std::string_view, std::string_view>{" .", "."}, {" ?", "?"}, {" !", "!"},
                                 {" ,", ","}, {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
                                 {" 've", "'ve"}, {" 're", "'re"}}) {
    replace_all(out, from, to);
  }
  return out;
}

}  // namespace aegisrt::text
