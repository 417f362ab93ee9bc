// BpeTokenizer (src/text/bpe.h) against the reference tokenizer: the golden
// Florence-2 tokenizer.json and the ids / decodes that transformers'
// BartTokenizer (backed by the `tokenizers` library) gave for the recorded
// strings (python/gen_golden_florence.py -> florence_reference.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "aegisrt/core/file_util.h"
#include "text/bpe.h"

namespace aegisrt::text {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(AEGISRT_SOURCE_DIR) / "tests/data/golden/florence";

nlohmann::json reference() {
  std::ifstream in(kDir / "florence_reference.json");
  return nlohmann::json::parse(in);
}

std::string slurp(const fs::path& p) {
  // core's read_file (not an istreambuf_iterator slurp: g++ 13 -Wnull-dereference
  // false positive); empty when unreadable, so the assertions that use it fail.
  auto text = aegisrt::read_file(p, "tokenizer file");
  return text.ok() ? std::move(*text) : std::string();
}

TEST(Bpe, EncodesAsTheReferenceTokenizer) {
  auto tok = BpeTokenizer::load(kDir / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const auto ref = reference();
  ASSERT_GE(ref["tokenizer_cases"].size(), 10u);
  for (const auto& c : ref["tokenizer_cases"]) {
    const std::string text = c["text"].get<std::string>();
    auto ids = tok->encode(text);
    ASSERT_TRUE(ids.ok()) << text << ": " << ids.error().to_string();
    EXPECT_EQ(*ids, c["ids"].get<std::vector<std::int64_t>>()) << "text: " << text;
  }
}

TEST(Bpe, DecodesAsTheReferenceTokenizer) {
  auto tok = BpeTokenizer::load(kDir / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const auto ref = reference();
  for (const auto& c : ref["tokenizer_cases"]) {
    const auto ids = c["ids"].get<std::vector<std::int64_t>>();
    auto with = tok->decode(ids, false);
    auto without = tok->decode(ids, true);
    ASSERT_TRUE(with.ok() && without.ok());
    EXPECT_EQ(*with, c["decoded"].get<std::string>()) << "text: " << c["text"];
    EXPECT_EQ(*without, c["decoded_skip_special"].get<std::string>()) << "text: " << c["text"];
  }
}

// The processor's encoder text (<s> + question + </s>) and the generated
// sequences of the golden model: the same ids and the same raw text as
// transformers' batch_decode(skip_special_tokens=False / True).
TEST(Bpe, FlorencePromptsAndGenerations) {
  auto tok = BpeTokenizer::load(kDir / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const auto ref = reference();
  ASSERT_EQ(ref["tasks"].size(), 3u);
  for (const auto& t : ref["tasks"]) {
    auto ids = tok->encode("<s>" + t["question"].get<std::string>() + "</s>");
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, t["encoder_text_ids"].get<std::vector<std::int64_t>>()) << t["task"];
    const auto gen = t["generated_ids"].get<std::vector<std::int64_t>>();
    auto raw = tok->decode(gen, false);
    auto plain = tok->decode(gen, true);
    ASSERT_TRUE(raw.ok() && plain.ok());
    EXPECT_EQ(*raw, t["raw_text"].get<std::string>()) << t["task"];
    EXPECT_EQ(*plain, t["text_skip_special"].get<std::string>()) << t["task"];
  }
  EXPECT_EQ(tok->token_to_id("<loc_0>") + 999, tok->token_to_id("<loc_999>"));
  EXPECT_TRUE(tok->is_special(tok->token_to_id("</s>")));
  EXPECT_FALSE(tok->is_special(tok->token_to_id("<loc_5>")));
}

// GPT-2 regex pieces, hand-derived from
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
TEST(Bpe, Gpt2PreTokenizer) {
  auto pieces = [](std::string_view s) {
    std::vector<std::string> out;
    for (auto p : gpt2_pre_tokenize(s)) out.emplace_back(p);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("it's   x"), (V{"it", "'s", "  ", " x"}));
  EXPECT_EQ(pieces("a\nb"), (V{"a", "\n", "b"}));
  EXPECT_EQ(pieces("x2026 !?"), (V{"x", "2026", " !?"}));
  EXPECT_EQ(pieces("end  "), (V{"end", "  "}));
  EXPECT_EQ(pieces("caf\xC3\xA9 \xE2\x85\xA0"), (V{"caf\xC3\xA9", " \xE2\x85\xA0"}));  // é letter, Ⅰ number (Nl)
  EXPECT_EQ(pieces("I'M"), (V{"I", "'", "M"}));  // contractions are lower-case only
}

TEST(Bpe, RejectsInvalidUtf8AndUnknownIds) {
  auto tok = BpeTokenizer::load(kDir / "tokenizer.json");
  ASSERT_TRUE(tok.ok());
  auto bad = tok->encode("ab\xC3(");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  auto dec = tok->decode({0, 1 << 20}, false);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(dec.error().message().find("1048576"), std::string::npos);
}

// Malformed tokenizer.json: typed errors naming the file and the key.
class BpeMalformed : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bpe_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    good_ = nlohmann::json::parse(slurp(kDir / "tokenizer.json"));
  }
  void TearDown() override { fs::remove_all(dir_); }
  Error load_text(const std::string& text) {
    const fs::path p = dir_ / "tokenizer.json";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    auto r = BpeTokenizer::load(p);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return Error(ErrorCode::Internal, "loaded");
    EXPECT_NE(r.error().message().find(p.string()), std::string::npos) << r.error().message();
    return r.error();
  }
  fs::path dir_;
  nlohmann::json good_;
};

TEST_F(BpeMalformed, NotJson) {
  auto e = load_text("{\"model\": ");
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_NE(e.message().find("not valid JSON"), std::string::npos);
}

TEST_F(BpeMalformed, MissingModelOrMerges) {
  auto j = good_;
  j.erase("model");
  auto e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_NE(e.message().find("model"), std::string::npos);
  j = good_;
  j["model"].erase("merges");
  e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_NE(e.message().find("model.merges"), std::string::npos);
  j = good_;
  j["model"]["merges"][3] = "nosuchtoken x";
  e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_NE(e.message().find("model.merges[3]"), std::string::npos);
}

TEST_F(BpeMalformed, UnknownModelTypeOrPreTokenizer) {
  auto j = good_;
  j["model"]["type"] = "WordPiece";
  auto e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Unsupported);
  EXPECT_NE(e.message().find("model.type"), std::string::npos);
  j = good_;
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Unsupported);
  EXPECT_NE(e.message().find("pre_tokenizer.type"), std::string::npos);
}

TEST_F(BpeMalformed, SparseIdsRefused) {
  auto j = good_;
  j["added_tokens"][0]["id"] = 1 << 23;  // would make an 8M-entry id table
  auto e = load_text(j.dump());
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_NE(e.message().find("not dense"), std::string::npos);
}

TEST(Bpe, OverlongTextRefused) {
  auto tok = BpeTokenizer::load(kDir / "tokenizer.json");
  ASSERT_TRUE(tok.ok());
  auto r = tok->encode(std::string(BpeTokenizer::kMaxTextBytes + 1, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(tok->encode(std::string(500, 'a')).ok());
}

TEST_F(BpeMalformed, HugeFileRefusedBeforeReading) {
  const fs::path p = dir_ / "tokenizer.json";
  { std::ofstream(p) << "{}"; }
  fs::resize_file(p, BpeTokenizer::kMaxFileBytes + 1);  // sparse
  auto r = BpeTokenizer::load(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().to_string().find(p.string()), std::string::npos) << r.error().to_string();
}

}  // namespace
}  // namespace aegisrt::text
