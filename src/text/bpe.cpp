// Byte-level BPE tokenizer from tokenizer.json (see bpe.h).
#include "text/bpe.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <climits>
#include <nlohmann/json.hpp>

#include "aegisrt/core/file_util.h"

namespace aegisrt::text {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------- UTF-8

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when invalid
// (overlong, surrogate, > U+10FFFF, truncated). `valid_prefix` receives the
// length of the longest prefix that could still start a valid sequence
// (Unicode "maximal subpart", what from_utf8_lossy replaces by one U+FFFD).
std::size_t utf8_seq(std::string_view s, std::size_t i, char32_t* cp, std::size_t* valid_prefix) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  *valid_prefix = 1;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t c = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    c = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    c = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80;
    const unsigned char h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
    c = (c << 6) | (b & 0x3F);
    *valid_prefix = k + 1;
  }
  *cp = c;
  return len;
}

bool valid_utf8(std::string_view s, std::size_t* bad_at) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    std::size_t prefix = 0;
    const std::size_t n = utf8_seq(s, i, &cp, &prefix);
    if (n == 0) {
      *bad_at = i;
      return false;
    }
    i += n;
  }
  return true;
}

// Rust's String::from_utf8_lossy.
std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    std::size_t prefix = 0;
    const std::size_t n = utf8_seq(s, i, &cp, &prefix);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      i += prefix;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// ---------------------------------------------------------------- byte level

struct ByteTable {
  std::array<std::string, 256> byte_to_str;           // byte -> UTF-8 of its printable stand-in
  std::unordered_map<char32_t, unsigned char> cp_to_byte;
  ByteTable() {
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::array<char32_t, 256> cps{};
    std::array<bool, 256> seen{};
    for (int b : bs) {
      cps[static_cast<std::size_t>(b)] = static_cast<char32_t>(b);
      seen[static_cast<std::size_t>(b)] = true;
    }
    char32_t n = 0;
    for (std::size_t b = 0; b < 256; ++b) {
      if (!seen[b]) cps[b] = 256 + n++;
    }
    for (std::size_t b = 0; b < 256; ++b) {
      append_utf8(byte_to_str[b], cps[b]);
      cp_to_byte[cps[b]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteTable& byte_table() {
  static const ByteTable table;
  return table;
}

// ---------------------------------------------------------------- classes (ICU)

enum class Cls : std::uint8_t { Letter, Number, Space, Other };

Cls classify(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c)) return Cls::Space;  // Unicode White_Space, as regex's \s
  const std::uint32_t mask = U_GET_GC_MASK(c);
  if ((mask & U_GC_L_MASK) != 0) return Cls::Letter;
  if ((mask & U_GC_N_MASK) != 0) return Cls::Number;
  return Cls::Other;
}

Error corrupt(const std::string& name, const std::string& key, const std::string& what) {
  return Error(ErrorCode::Corrupt, "tokenizer '" + name + "': " + key + ": " + what);
}
Error unsupported(const std::string& name, const std::string& key, const std::string& what) {
  return Error(ErrorCode::Unsupported, "tokenizer '" + name + "': " + key + ": " + what);
}

std::string merge_key(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a);
  k += '\0';
  k.append(b);
  return k;
}

// A ByteLevel pre-tokenizer object as this class implements it, or an error.
Result<void> check_byte_level(const json& pt, const std::string& name, const std::string& key) {
  if (!pt.is_object() || !pt.contains("type") || !pt["type"].is_string()) {
    return corrupt(name, key, "not an object with a string \"type\"");
  }
  const std::string type = pt["type"].get<std::string>();
  if (type == "Sequence") {
    if (!pt.contains("pretokenizers") || !pt["pretokenizers"].is_array() || pt["pretokenizers"].size() != 1) {
      return unsupported(name, key + ".pretokenizers", "only a Sequence of exactly one ByteLevel is supported");
    }
    return check_byte_level(pt["pretokenizers"][0], name, key + ".pretokenizers[0]");
  }
  if (type != "ByteLevel") {
    return unsupported(name, key + ".type", "\"" + type + "\" (only ByteLevel is supported)");
  }
  if (pt.value("add_prefix_space", false)) {
    return unsupported(name, key + ".add_prefix_space", "true is not supported");
  }
  if (!pt.value("use_regex", true)) {
    return unsupported(name, key + ".use_regex", "false is not supported");
  }
  return ok_result();
}

}  // namespace

// ---------------------------------------------------------------- pre-tokenizer

std::vector<std::string_view> gpt2_pre_tokenize(std::string_view text) {
  struct Cp {
    std::size_t at;
    std::size_t len;
    char32_t cp;
    Cls cls;
  };
  std::vector<Cp> cps;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t prefix = 0;
    std::size_t n = utf8_seq(text, i, &cp, &prefix);
    if (n == 0) {  // encode() validates first; be safe anyway: one byte, "other"
      n = 1;
      cp = 0xFFFD;
    }
    cps.push_back({i, n, cp, classify(cp)});
    i += n;
  }
  std::vector<std::string_view> out;
  const std::size_t n = cps.size();
  auto emit = [&](std::size_t b, std::size_t e) {  // code points [b, e)
    const std::size_t from = cps[b].at;
    const std::size_t to = e < n ? cps[e].at : text.size();
    out.push_back(text.substr(from, to - from));
  };
  auto run = [&](std::size_t j, Cls cls) {
    while (j < n && cps[j].cls == cls) ++j;
    return j;
  };
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = cps[i].cp;
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, as GPT-2's regex)
    if (c == U'\'' && i + 1 < n) {
      const char32_t c1 = cps[i + 1].cp;
      if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') {
        emit(i, i + 2);
        i += 2;
        continue;
      }
      if (i + 2 < n) {
        const char32_t c2 = cps[i + 2].cp;
        if ((c1 == U'r' && c2 == U'e') || (c1 == U'v' && c2 == U'e') || (c1 == U'l' && c2 == U'l')) {
          emit(i, i + 3);
          i += 3;
          continue;
        }
      }
    }
    // ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+'
    std::size_t start = i;
    std::size_t j = i;
    if (c == U' ' && i + 1 < n && cps[i + 1].cls != Cls::Space) j = i + 1;
    if (cps[j].cls != Cls::Space) {
      const std::size_t e = run(j, cps[j].cls);
      emit(start, e);
      i = e;
      continue;
    }
    // '\s+(?!\S)|\s+'
    const std::size_t e = run(i, Cls::Space);
    if (e == n || e - i == 1) {
      emit(i, e);
      i = e;
    } else {
      emit(i, e - 1);  // leave the last space to prefix the next word
      i = e - 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------- loading

Result<BpeTokenizer> BpeTokenizer::load(const std::filesystem::path& path) {
  auto bytes = read_file(path, "tokenizer", kMaxFileBytes);
  if (!bytes) return std::move(bytes).error();
  return from_json(*bytes, path.string());
}

Result<BpeTokenizer> BpeTokenizer::from_json(std::string_view text, const std::string& name) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return corrupt(name, "(document)", "not valid JSON");
  if (!doc.is_object()) return corrupt(name, "(document)", "not a JSON object");
  if (!doc.contains("model") || !doc["model"].is_object()) return corrupt(name, "model", "missing or not an object");
  const json& model = doc["model"];
  if (!model.contains("type") || !model["type"].is_string()) {
    return corrupt(name, "model.type", "missing or not a string");
  }
  const std::string type = model["type"].get<std::string>();
  if (type != "BPE") return unsupported(name, "model.type", "\"" + type + "\" (only BPE is supported)");
  if (model.contains("dropout") && !model["dropout"].is_null()) {
    return unsupported(name, "model.dropout", "BPE dropout is not supported");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && !(model[key].is_string() && model[key].get<std::string>().empty())) {
      return unsupported(name, std::string("model.") + key, "not supported");
    }
  }
  if (model.value("ignore_merges", false)) {
    return unsupported(name, "model.ignore_merges", "true is not supported");
  }
  if (model.value("byte_fallback", false)) {
    return unsupported(name, "model.byte_fallback", "true is not supported");
  }
  if (doc.contains("normalizer") && !doc["normalizer"].is_null()) {
    return unsupported(name, "normalizer", "a normalizer is not supported");
  }
  if (!doc.contains("pre_tokenizer") || doc["pre_tokenizer"].is_null()) {
    return unsupported(name, "pre_tokenizer", "missing (a byte-level BPE needs ByteLevel)");
  }
  if (auto r = check_byte_level(doc["pre_tokenizer"], name, "pre_tokenizer"); !r) return std::move(r).error();

  BpeTokenizer tok;
  tok.name_ = name;
  if (!model.contains("vocab") || !model["vocab"].is_object()) return corrupt(name, "model.vocab", "missing or not an object");
  std::int64_t max_id = -1;
  constexpr std::int64_t kMaxId = 1 << 24;
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= kMaxId) {
      return corrupt(name, "model.vocab[\"" + token + "\"]", "id is not an integer in [0, 2^24)");
    }
    tok.vocab_[token] = id.get<std::int64_t>();
    max_id = std::max(max_id, id.get<std::int64_t>());
  }
  std::vector<Added> added;
  if (doc.contains("added_tokens") && !doc["added_tokens"].is_null()) {
    if (!doc["added_tokens"].is_array()) return corrupt(name, "added_tokens", "not an array");
    std::size_t k = 0;
    for (const auto& a : doc["added_tokens"]) {
      const std::string key = "added_tokens[" + std::to_string(k++) + "]";
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string()) {
        return corrupt(name, key, "needs an integer \"id\" and a string \"content\"");
      }
      Added t;
      t.content = a["content"].get<std::string>();
      t.id = a["id"].get<std::int64_t>();
      if (t.id < 0 || t.id >= kMaxId) return corrupt(name, key + ".id", "not in [0, 2^24)");
      if (t.content.empty()) return corrupt(name, key + ".content", "empty");
      auto flag = [&](const char* f) { return a.contains(f) && a[f].is_boolean() && a[f].get<bool>(); };
      t.special = flag("special");
      t.lstrip = flag("lstrip");
      t.rstrip = flag("rstrip");
      if (flag("single_word")) return unsupported(name, key + ".single_word", "true is not supported");
      // `tokenizers` matches non-normalized added tokens first, then normalized ones.
      t.normalized = a.contains("normalized") && a["normalized"].is_boolean() && a["normalized"].get<bool>();
      max_id = std::max(max_id, t.id);
      added.push_back(std::move(t));
    }
  }
  // Ids are dense in real tokenizers; a sparse id far beyond the entry count would only make the
  // id table huge (a hostile file), so it is refused.
  const auto entries = static_cast<std::int64_t>(tok.vocab_.size() + added.size());
  if (max_id >= entries + 1024) {
    return corrupt(name, "model.vocab / added_tokens", "largest id " + std::to_string(max_id) + " is far beyond the " +
                                                         std::to_string(entries) + " entries (ids are not dense)");
  }
  tok.id_to_token_.assign(static_cast<std::size_t>(max_id + 1), std::string());
  tok.special_.assign(tok.id_to_token_.size(), false);
  tok.added_.assign(tok.id_to_token_.size(), false);
  for (const auto& [token, id] : tok.vocab_) tok.id_to_token_[static_cast<std::size_t>(id)] = token;
  for (auto& t : added) {
    const auto id = static_cast<std::size_t>(t.id);
    tok.id_to_token_[id] = t.content;
    tok.special_[id] = t.special;
    tok.added_[id] = true;
  }
  tok.added_tokens_ = std::move(added);
  // Longest first, so the first hit at a position is the longest (leftmost-longest).
  std::stable_sort(tok.added_tokens_.begin(), tok.added_tokens_.end(),
                   [](const Added& a, const Added& b) { return a.content.size() > b.content.size(); });

  if (!model.contains("merges") || !model["merges"].is_array()) return corrupt(name, "model.merges", "missing or not an array");
  int rank = 0;
  for (const auto& m : model["merges"]) {
    const std::string key = "model.merges[" + std::to_string(rank) + "]";
    std::string a;
    std::string b;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const auto sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        return corrupt(name, key, "\"" + s + "\" is not two tokens separated by one space");
      }
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      return corrupt(name, key, "neither \"a b\" nor [\"a\", \"b\"]");
    }
    if (!tok.vocab_.contains(a) || !tok.vocab_.contains(b) || !tok.vocab_.contains(a + b)) {
      return corrupt(name, key, "names a token missing from model.vocab (\"" + a + "\", \"" + b + "\" or their merge)");
    }
    tok.merge_rank_.emplace(merge_key(a, b), rank);
    ++rank;
  }
  const auto& table = byte_table();
  for (std::size_t b = 0; b < 256; ++b) {
    if (!tok.vocab_.contains(table.byte_to_str[b])) {
      return corrupt(name, "model.vocab", "lacks the byte-level symbol of byte " + std::to_string(b) +
                                             " (not a byte-level BPE vocabulary)");
    }
  }
  return tok;
}

// ---------------------------------------------------------------- encode / decode

void BpeTokenizer::bpe_piece(std::string_view piece, std::vector<std::int64_t>& out) const {
  const auto& table = byte_table();
  std::vector<std::string> sym;
  sym.reserve(piece.size());
  for (char ch : piece) sym.push_back(table.byte_to_str[static_cast<unsigned char>(ch)]);
  while (sym.size() > 1) {
    int best = INT_MAX;
    std::size_t at = 0;
    for (std::size_t k = 0; k + 1 < sym.size(); ++k) {
      const auto it = merge_rank_.find(merge_key(sym[k], sym[k + 1]));
      if (it != merge_rank_.end() && it->second < best) {
        best = it->second;
        at = k;
      }
    }
    if (best == INT_MAX) break;
    sym[at] += sym[at + 1];
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  for (const auto& s : sym) out.push_back(vocab_.at(s));  // every symbol is in vocab (checked at load)
}

Result<std::vector<std::int64_t>> BpeTokenizer::encode(std::string_view text) const {
  if (text.size() > kMaxTextBytes) {
    return Error(ErrorCode::InvalidArgument, "tokenizer '" + name_ + "': text of " + std::to_string(text.size()) +
                                                 " bytes exceeds the limit of " + std::to_string(kMaxTextBytes));
  }
  std::size_t bad = 0;
  if (!valid_utf8(text, &bad)) {
    return Error(ErrorCode::InvalidArgument,
                 "tokenizer '" + name_ + "': text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  }
  // Segments: [begin, end, added-token index or -1].
  struct Seg {
    std::size_t b;
    std::size_t e;
    int added;
  };
  std::vector<Seg> segs{{0, text.size(), -1}};
  auto is_ws = [&](std::size_t at, std::size_t* len) {
    char32_t cp = 0;
    std::size_t prefix = 0;
    *len = utf8_seq(text, at, &cp, &prefix);
    return *len > 0 && classify(cp) == Cls::Space;
  };
  for (const bool pass_normalized : {false, true}) {
    std::vector<Seg> next;
    for (const Seg& s : segs) {
      if (s.added >= 0) {
        next.push_back(s);
        continue;
      }
      std::size_t cur = s.b;   // start of the pending plain text
      std::size_t pos = s.b;
      while (pos < s.e) {
        int hit = -1;
        for (std::size_t k = 0; k < added_tokens_.size(); ++k) {
          const auto& t = added_tokens_[k];
          if (t.normalized != pass_normalized) continue;
          if (pos + t.content.size() <= s.e && text.compare(pos, t.content.size(), t.content) == 0) {
            hit = static_cast<int>(k);
            break;  // longest first
          }
        }
        if (hit < 0) {
          ++pos;
          continue;
        }
        const auto& t = added_tokens_[static_cast<std::size_t>(hit)];
        std::size_t mb = pos;
        std::size_t me = pos + t.content.size();
        if (t.lstrip) {  // absorb whitespace before (back to the pending text's start)
          while (mb > cur) {
            std::size_t back = mb - 1;
            while (back > cur && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
            std::size_t len = 0;
            if (!is_ws(back, &len)) break;
            mb = back;
          }
        }
        if (t.rstrip) {
          std::size_t len = 0;
          while (me < s.e && is_ws(me, &len)) me += len;
        }
        if (mb > cur) next.push_back({cur, mb, -1});
        next.push_back({mb, me, hit});
        cur = pos = me;
      }
      if (cur < s.e) next.push_back({cur, s.e, -1});
    }
    segs = std::move(next);
  }
  std::vector<std::int64_t> ids;
  for (const Seg& s : segs) {
    if (s.added >= 0) {
      ids.push_back(added_tokens_[static_cast<std::size_t>(s.added)].id);
      continue;
    }
    for (std::string_view piece : gpt2_pre_tokenize(text.substr(s.b, s.e - s.b))) bpe_piece(piece, ids);
  }
  return ids;
}

Result<std::string> BpeTokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special) const {
  const auto& table = byte_table();
  std::string bytes;
  for (std::int64_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || id_to_token_[static_cast<std::size_t>(id)].empty()) {
      return Error(ErrorCode::InvalidArgument,
                   "tokenizer '" + name_ + "': token id " + std::to_string(id) + " is not in the vocabulary");
    }
    const auto u = static_cast<std::size_t>(id);
    if (added_[u]) {
      if (skip_special && special_[u]) continue;
      bytes += id_to_token_[u];
      continue;
    }
    const std::string& tok = id_to_token_[u];
    for (std::size_t i = 0; i < tok.size();) {
      char32_t cp = 0;
      std::size_t prefix = 0;
      std::size_t n = utf8_seq(tok, i, &cp, &prefix);
      if (n == 0) n = 1;
      const auto it = table.cp_to_byte.find(cp);
      if (it != table.cp_to_byte.end()) {
        bytes += static_cast<char>(it->second);
      } else {
        bytes.append(tok, i, n);  // not a byte-level symbol: kept as is
      }
      i += n;
    }
  }
  return utf8_lossy(bytes);
}

std::string BpeTokenizer::id_to_token(std::int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size()) return {};
  return id_to_token_[static_cast<std::size_t>(id)];
}

std::int64_t BpeTokenizer::token_to_id(std::string_view token) const {
  for (const auto& t : added_tokens_) {
    if (t.content == token) return t.id;
  }
  const auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

bool BpeTokenizer::is_special(std::int64_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
}

}  // namespace aegisrt::text
