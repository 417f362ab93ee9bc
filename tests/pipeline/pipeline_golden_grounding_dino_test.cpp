// Grounding DINO through the pipeline against transformers' own end-to-end
// result (GroundingDinoProcessor + GroundingDinoForObjectDetection +
// post_process_grounded_object_detection) on a tiny export with IDEA-Research's
// ONNX signature, and the WordPiece tokenizer against transformers'
// BertTokenizer (ids recorded by python/gen_golden_grounding_dino.py in
// tests/data/golden/grounding_dino/grounding_dino_reference.json).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/text/wordpiece.h"
#include "common/temp_dir.h"
#include "golden_fixture.h"
#include "pipeline/grounding_dino.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kBoxIou = 0.99;       // issue 15 tolerances
constexpr double kScoreTolerance = 1e-4;

fs::path gd_dir() { return golden_dir() / "grounding_dino"; }
fs::path gd_catalog() { return gd_dir() / "catalog"; }

json reference() {
  std::ifstream in(gd_dir() / "grounding_dino_reference.json");
  EXPECT_TRUE(in.good());
  return json::parse(in);
}

std::unique_ptr<pipeline::Pipeline> make_gd(const std::string& prompt) {
  pipeline::PipelineOptions o;
  o.model = "grounding_dino";
  o.backend = "onnx";
  o.precision = "fp32";
  o.onnx = gd_dir() / "grounding-dino-golden.onnx";
  o.prompt = prompt;
  o.backend_options["intra_op_threads"] = "1";
  auto p = pipeline::Pipeline::create(o, gd_catalog());
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? std::move(*p) : nullptr;
}

double iou(const vision::Box& a, const json& b) {
  const double bx0 = b[0].get<double>(), by0 = b[1].get<double>(), bx1 = b[2].get<double>(), by1 = b[3].get<double>();
  const double ix = std::max(0.0, std::min<double>(a.x2, bx1) - std::max<double>(a.x1, bx0));
  const double iy = std::max(0.0, std::min<double>(a.y2, by1) - std::max<double>(a.y1, by0));
  const double inter = ix * iy;
  const double ua = (a.x2 - a.x1) * (a.y2 - a.y1) + (bx1 - bx0) * (by1 - by0) - inter;
  return ua > 0 ? inter / ua : 0.0;
}

TEST(GoldenGroundingDino, DetectionsAndPhrasesMatchTransformers) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  ASSERT_EQ(ref.at("runs").size(), 4U);
  std::size_t total = 0;
  for (const auto& run : ref.at("runs")) {
    const std::string prompt = run.at("prompt").get<std::string>();
    SCOPED_TRACE(run.at("image").get<std::string>() + " / " + prompt);
    auto p = make_gd(prompt);
    ASSERT_NE(p, nullptr);
    auto r = p->run_file(golden_dir() / run.at("image").get<std::string>());
    ASSERT_TRUE(r.ok()) << r.error();
    const auto* det = std::get_if<pipeline::DetectionResult>(&r->output);
    ASSERT_NE(det, nullptr);
    const auto& want = run.at("detections");
    ASSERT_GT(want.size(), 2U) << "the reference must have detections";
    ASSERT_EQ(det->detections.size(), want.size());
    ASSERT_EQ(det->labels.size(), want.size());
    // transformers keeps query order; so does the pipeline
    for (std::size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("detection " + std::to_string(i));
      EXPECT_GE(iou(det->detections[i].box, want[i].at("box")), kBoxIou);
      EXPECT_NEAR(det->detections[i].score, want[i].at("score").get<double>(), kScoreTolerance);
      EXPECT_EQ(det->labels[i], want[i].at("phrase").get<std::string>());
    }
    total += want.size();
    // the JSON carries the phrases and the normalised prompt
    const json j = json::parse(p->to_json(*r));
    EXPECT_EQ(j.at("prompt").get<std::string>(), run.at("text").get<std::string>());
    ASSERT_EQ(j.at("detections").size(), want.size());
    EXPECT_EQ(j.at("detections")[0].at("phrase"), want[0].at("phrase"));
  }
  EXPECT_GT(total, 20U);
}

TEST(GoldenGroundingDino, PromptTokensMatchTheReferenceProcessor) {
  const json ref = reference();
  auto tok = text::WordPieceTokenizer::load(gd_dir() / "vocab.txt");
  ASSERT_TRUE(tok.ok()) << tok.error();
  for (const auto& run : ref.at("runs")) {
    auto norm = pipeline::detail::normalize_prompt(run.at("prompt").get<std::string>());
    ASSERT_TRUE(norm.ok()) << norm.error();
    EXPECT_EQ(*norm, run.at("text").get<std::string>());
    auto ids = tok->encode(*norm);
    ASSERT_TRUE(ids.ok()) << ids.error();
    EXPECT_EQ(*ids, run.at("input_ids").get<std::vector<std::int64_t>>());
  }
}

TEST(GroundingDinoPipeline, MissingPromptNamesTheOption) {
  AEGISRT_SKIP_WITHOUT_ORT();
  for (const char* prompt : {"", "   \t"}) {
    pipeline::PipelineOptions o;
    o.model = "grounding_dino";
    o.backend = "onnx";
    o.onnx = gd_dir() / "grounding-dino-golden.onnx";
    o.prompt = prompt;
    auto p = pipeline::Pipeline::create(o, gd_catalog());
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(p.error().to_string().find("--prompt"), std::string::npos) << p.error();
  }
}

TEST(GroundingDinoPipeline, MissingVocabularyNamesTheFile) {
  AEGISRT_SKIP_WITHOUT_ORT();
  TempDir tmp;
  const fs::path onnx = tmp.path() / "grounding-dino-golden.onnx";
  fs::copy_file(gd_dir() / "grounding-dino-golden.onnx", onnx);
  pipeline::PipelineOptions o;
  o.model = "grounding_dino";
  o.backend = "onnx";
  o.onnx = onnx;
  o.prompt = "person .";
  auto p = pipeline::Pipeline::create(o, gd_catalog());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::NotFound) << p.error();
  EXPECT_NE(p.error().to_string().find((tmp.path() / "vocab.txt").string()), std::string::npos) << p.error();
}

// IDEA-Research's phrase masks, by hand: "[CLS] person . red car . [SEP]"
TEST(GroundingDinoPipeline, PhraseMasksAndPositions) {
  // ids: CLS=1 person=5 .=9 red=6 car=7 .=9 SEP=2
  const std::vector<std::int64_t> ids{1, 5, 9, 6, 7, 9, 2};
  std::vector<std::uint8_t> mask;
  std::vector<std::int64_t> pos;
  pipeline::detail::phrase_masks(ids, {1, 2, 9, 99}, mask, pos);
  // blocks: {0} (ends at [CLS], position 0: only itself), {1,2}, {3,4,5}, {6} ([SEP] at the end: only itself)
  const std::vector<std::vector<int>> want{{1, 0, 0, 0, 0, 0, 0}, {0, 1, 1, 0, 0, 0, 0}, {0, 1, 1, 0, 0, 0, 0},
                                           {0, 0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 1, 0},
                                           {0, 0, 0, 0, 0, 0, 1}};
  for (std::size_t i = 0; i < 7; ++i) {
    for (std::size_t j = 0; j < 7; ++j) EXPECT_EQ(mask[i * 7 + j], want[i][j]) << i << "," << j;
  }
  EXPECT_EQ(pos, (std::vector<std::int64_t>{0, 0, 1, 0, 1, 2, 0}));
}

// ---- WordPiece tokenizer ----

TEST(WordPiece, IdsEqualBertTokenizerOnRecordedStrings) {
  const json ref = reference();
  auto tok = text::WordPieceTokenizer::load(gd_dir() / "vocab.txt");
  ASSERT_TRUE(tok.ok()) << tok.error();
  ASSERT_GT(ref.at("tokenizer_cases").size(), 10U);
  for (const auto& c : ref.at("tokenizer_cases")) {
    const std::string s = c.at("text").get<std::string>();
    SCOPED_TRACE(s);
    auto ids = tok->encode(s);
    ASSERT_TRUE(ids.ok()) << ids.error();
    EXPECT_EQ(*ids, c.at("ids").get<std::vector<std::int64_t>>());
  }
}

TEST(WordPiece, DecodeGluesPiecesAndCleansSpaces) {
  auto tok = text::WordPieceTokenizer::from_tokens(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "##cle", ".", "person", "'", "s", "?"}, "test vocabulary");
  ASSERT_TRUE(tok.ok()) << tok.error();
  auto d = tok->decode({7, 6, 6, 4, 5, 3});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "person.. acle [SEP]");
  // as transformers 5.23's BertTokenizer.decode: " ' " stays, " ?" is glued
  d = tok->decode({7, 8, 9, 10, 4, 8, 4});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "person ' s? a ' a");
  EXPECT_FALSE(tok->decode({11}).ok());
  EXPECT_FALSE(tok->decode({-1}).ok());
}

TEST(WordPiece, WordsOverOneHundredCharactersAreUnknown) {
  // BERT's max_input_chars_per_word: 100 code points still split, 101 is [UNK]
  auto tok = text::WordPieceTokenizer::from_tokens({"[UNK]", "[CLS]", "[SEP]", "e", "##e", "##\xc3\xb8"}, "v");
  ASSERT_TRUE(tok.ok());
  auto ids = tok->encode(std::string(100, 'e'));
  ASSERT_TRUE(ids.ok());
  std::vector<std::int64_t> want{1, 3};
  want.insert(want.end(), 99, 4);
  want.push_back(2);
  EXPECT_EQ(*ids, want);
  ids = tok->encode(std::string(101, 'e') + " e");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::int64_t>{1, 0, 3, 2}));
  // counted in code points, not bytes: 99 x "e" + one 2-byte U+00F8 (no decomposition) is 100 characters
  ids = tok->encode(std::string(99, 'e') + "\xc3\xb8");
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 102U);
  EXPECT_EQ((*ids)[100], 5);
}

TEST(WordPiece, MaxTokensCutsTheSequence) {
  auto tok = text::WordPieceTokenizer::from_tokens({"[UNK]", "[CLS]", "[SEP]", "a", "b"}, "v");
  ASSERT_TRUE(tok.ok());
  auto ids = tok->encode("a b a b", 3);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_FALSE(tok->encode(std::string("a\xff")).ok());  // not UTF-8
}

class WordPieceFile : public ::testing::Test {
 protected:
  Error load_error(const std::string& content) {
    const fs::path f = tmp_.path() / "vocab.txt";
    EXPECT_TRUE(write_file_atomic(f, content).ok());
    auto t = text::WordPieceTokenizer::load(f);
    EXPECT_FALSE(t.ok());
    return t.ok() ? Error(ErrorCode::Internal, "loaded") : t.error();
  }
  std::string path() const { return (tmp_.path() / "vocab.txt").string(); }
  TempDir tmp_;
};

TEST_F(WordPieceFile, MalformedFilesGiveTypedErrorsNamingFileAndLine) {
  struct Case {
    std::string content;
    std::string needle;
  };
  const std::string big(300, 'x');
  const std::vector<Case> cases{
      {"", "is empty"},
      {"[PAD]\n[CLS]\n[SEP]\n", "no [UNK]"},
      {"[PAD]\n[UNK]\n[SEP]\n", "no [CLS]"},
      {"[UNK]\n[CLS]\n", "no [SEP]"},
      {"[UNK]\n[CLS]\n[SEP]\ncar\ndog\ncar\n", "line 6: token 'car' is already on line 4"},
      {"[UNK]\n[CLS]\n[SEP]\n" + big + "\n", "line 4 has 300 bytes"},
      {"[UNK]\n\n[CLS]\n[SEP]\n", "line 2 is empty"},
      {"[UNK]\n[CLS]\n[SEP]\nca\xc3\n", "line 4 is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.needle);
    const Error e = load_error(c.content);
    EXPECT_EQ(e.code(), ErrorCode::Corrupt) << e;
    EXPECT_NE(e.to_string().find(path()), std::string::npos) << e;
    EXPECT_NE(e.to_string().find(c.needle), std::string::npos) << e;
  }
  auto missing = text::WordPieceTokenizer::load(tmp_.path() / "nope.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
}

TEST_F(WordPieceFile, CrLfLinesAndFinalLineWithoutNewline) {
  const fs::path f = tmp_.path() / "vocab.txt";
  ASSERT_TRUE(write_file_atomic(f, "[UNK]\r\n[CLS]\r\n[SEP]\r\ncar").ok());
  auto t = text::WordPieceTokenizer::load(f);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->size(), 4U);
  EXPECT_EQ(t->id_of("car"), 3);
  EXPECT_EQ(t->id_of("[SEP]"), 2);
}

}  // namespace
}  // namespace aegisrt::testing
