// Florence-2 golden test: the tiny transformers Florence2ForConditionalGeneration
// exported as five ONNX parts (python/gen_golden_florence.py), generated
// through the backend interface (src/pipeline/florence.h) on golden_street.png,
// against transformers' own generate() + post_process_generation():
// generated ids token for token, decoded text, parsed caption / phrases /
// boxes (within 1 px).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/preprocess.h"
#include "golden_fixture.h"
#include "pipeline/florence.h"
#include "text/bpe.h"

namespace aegisrt::testing {
namespace {

namespace fl = aegisrt::pipeline::florence;
namespace fs = std::filesystem;

std::filesystem::path florence_dir() { return golden_dir() / "florence"; }

// CLIPImageProcessorPil as the generator configures it: PIL bicubic resize to
// SIZE x SIZE (vision::resize_bicubic reproduces Pillow's), x/255, ImageNet
// mean/std, NCHW float32.
std::vector<float> pixel_values(const vision::Image& image, int size, const nlohmann::json& ref) {
  auto resized = vision::resize_bicubic(image, size, size);
  EXPECT_TRUE(resized.ok());
  std::vector<float> out(static_cast<std::size_t>(3 * size * size));
  const auto mean = ref["mean"].get<std::vector<double>>();
  const auto std_ = ref["std"].get<std::vector<double>>();
  const std::uint8_t* px = resized->data();
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < size * size; ++i) {
      const float v = static_cast<float>(px[i * 3 + c]) * static_cast<float>(1.0 / 255.0);
      out[static_cast<std::size_t>(c * size * size + i)] =
          (v - static_cast<float>(mean[static_cast<std::size_t>(c)])) / static_cast<float>(std_[static_cast<std::size_t>(c)]);
    }
  }
  return out;
}

// What the stand-alone generator tests start from: the reference, the
// tokenizer, the five parts loaded on ONNX Runtime, the image and its pixel values.
struct GoldenRun {
  nlohmann::json ref;
  std::optional<text::BpeTokenizer> tok;
  std::unique_ptr<fl::Generator> gen;
  vision::Image image;
  int size = 0;
  std::vector<float> pv;
};

void load_golden_run(GoldenRun& run) {
  run.ref = load_golden_reference("florence/florence_reference.json");
  auto tok = text::BpeTokenizer::load(florence_dir() / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  run.tok = std::move(*tok);
  const fs::path d = florence_dir();
  fl::PartPaths parts{d / "florence2_golden_vision_encoder.onnx", d / "florence2_golden_embed_tokens.onnx",
                      d / "florence2_golden_encoder_model.onnx", d / "florence2_golden_decoder_model.onnx",
                      d / "florence2_golden_decoder_with_past_model.onnx"};
  auto gen = fl::Generator::load(parts, "onnx");
  ASSERT_TRUE(gen.ok()) << gen.error().to_string();
  run.gen = std::move(*gen);
  auto image = vision::load_image(golden_dir() / run.ref["image"].get<std::string>(), 3);
  ASSERT_TRUE(image.ok());
  run.image = std::move(*image);
  run.size = run.ref["input_size"].get<int>();
  run.pv = pixel_values(run.image, run.size, run.ref);
}

TEST(GoldenFlorence, GeneratesTheReferenceTokensAndParse) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the five parts run on ONNX Runtime
  GoldenRun run;
  ASSERT_NO_FATAL_FAILURE(load_golden_run(run));
  const auto& [ref, tok, gen, image, size, pv] = run;
  double sum = 0;
  for (float v : pv) sum += v;
  ASSERT_TRUE(ref["tasks"].size() == 3);
  for (const auto& t : ref["tasks"]) {
    const std::string task = t["task"].get<std::string>();
    SCOPED_TRACE(task);
    EXPECT_NEAR(sum, t["pixel_values_sum"].get<double>(), 0.5);  // same pre-processing (loose: float sums)
    auto q = fl::task_question(task, t["text_input"].is_null() ? "" : t["text_input"].get<std::string>());
    ASSERT_TRUE(q.ok()) << q.error().to_string();
    EXPECT_EQ(*q, t["question"].get<std::string>());
    auto ids = tok->encode("<s>" + *q + "</s>");
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(*ids, t["encoder_text_ids"].get<std::vector<std::int64_t>>());
    fl::GenerateOptions opt;
    opt.max_new_tokens = ref["generation"]["max_new_tokens"].get<int>();
    opt.decoder_start_token_id = ref["generation"]["decoder_start_token_id"].get<std::int64_t>();
    opt.eos_token_id = ref["generation"]["eos_token_id"].get<std::int64_t>();
    // ISA robustness: every argmax of the reference's generation wins by more
    // than 1e-3 (python/gen_golden_florence.py records the smallest top1 -
    // top2 logit gap), so float rounding differences between CPUs (AVX2 vs
    // AVX-512 kernels) cannot flip a token of this comparison.
    ASSERT_TRUE(t.contains("min_logit_margin")) << "regenerate with python/gen_golden_florence.py";
    EXPECT_GT(t["min_logit_margin"].get<double>(), 1e-3);
    auto out = gen->generate(TensorView(pv.data(), {1, 3, size, size}, DType::Float32), *ids, opt);
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(*out, t["generated_ids"].get<std::vector<std::int64_t>>());
    // ... and so do ours (the generator's own smallest gap over the same steps).
    EXPECT_TRUE(std::isfinite(gen->last_min_margin()));
    EXPECT_GT(gen->last_min_margin(), 1e-3f);
    auto raw = tok->decode(*out, false);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, t["raw_text"].get<std::string>());
    auto parsed = fl::parse(task, *raw, image.width(), image.height());
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    const auto& want = t["parsed"];
    if (want.is_string()) {
      EXPECT_EQ(parsed->text, want.get<std::string>());
      EXPECT_FALSE(parsed->text.empty());
    } else {
      const auto boxes = want["bboxes"];
      ASSERT_EQ(parsed->boxes.size(), boxes.size());
      ASSERT_GE(parsed->boxes.size(), 2u);
      EXPECT_EQ(parsed->labels, want["labels"].get<std::vector<std::string>>());
      for (std::size_t i = 0; i < boxes.size(); ++i) {
        for (std::size_t k = 0; k < 4; ++k) {
          EXPECT_LE(std::abs(parsed->boxes[i][k] - boxes[i][k].get<double>()), 1.0) << "box " << i << " coord " << k;
        }
      }
    }
  }
}

// Through Pipeline (the parts loaded by attach_florence from the golden test
// catalog): the reference's <OD> boxes/labels, and a create_instance() copy
// (its own part instances over the same loaded models) gives the same.
TEST(GoldenFlorence, PipelineAndItsInstanceGiveTheReference) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto ref = load_golden_reference("florence/florence_reference.json");
  // The golden catalog's output.generation is the published beam search (3 beams, ...).
  const auto& want = ref["tasks"][1]["beam"][0];
  ASSERT_EQ(want["generation"]["num_beams"], 3);
  ASSERT_EQ(ref["tasks"][1]["task"], "<OD>");
  auto catalog = models::ModelCatalog::load_directory(florence_dir() / "catalog");
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  pipeline::PipelineOptions o;
  o.model = "florence";
  o.backend = "onnx";
  o.task = "<OD>";
  o.backend_options["intra_op_threads"] = "1";
  auto p = pipeline::Pipeline::create(*catalog, o);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_FALSE((*p)->info().device_path);
  auto copy = (*p)->create_instance();
  ASSERT_TRUE(copy.ok()) << copy.error().to_string();
  for (pipeline::Pipeline* pl : {p->get(), copy->get()}) {
    auto r = pl->run_file(golden_dir() / ref["image"].get<std::string>());
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const auto* g = std::get_if<pipeline::GenerationResult>(&r->output);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->token_ids, want["generated_ids"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(g->raw_text, want["raw_text"].get<std::string>());
    EXPECT_EQ(g->labels, want["parsed"]["labels"].get<std::vector<std::string>>());
    ASSERT_EQ(g->boxes.size(), want["parsed"]["bboxes"].size());
    for (std::size_t i = 0; i < g->boxes.size(); ++i) {
      const auto& b = want["parsed"]["bboxes"][i];
      EXPECT_EQ(g->boxes[i].x1, b[0].get<float>());
      EXPECT_EQ(g->boxes[i].y1, b[1].get<float>());
      EXPECT_EQ(g->boxes[i].x2, b[2].get<float>());
      EXPECT_EQ(g->boxes[i].y2, b[3].get<float>());
    }
  }
  // run_batch runs the images one by one through the generator.
  auto image = vision::load_image(golden_dir() / ref["image"].get<std::string>(), 3);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ((*p)->max_batch(), 0);
  const std::vector<vision::Image> two{*image, *image};
  auto batch = (*p)->run_batch(two);
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  ASSERT_EQ(batch->size(), 2u);
  for (const auto& r : *batch) {
    EXPECT_EQ(std::get<pipeline::GenerationResult>(r.output).token_ids,
              want["generated_ids"].get<std::vector<std::int64_t>>());
  }
}

// The generation settings of a reference "beam" entry (python/gen_golden_florence.py).
fl::GenerateOptions beam_options(const nlohmann::json& g) {
  fl::GenerateOptions o;
  o.num_beams = g["num_beams"].get<int>();
  o.no_repeat_ngram_size = g["no_repeat_ngram_size"].get<int>();
  o.forced_bos_token_id = g["forced_bos_token_id"].get<std::int64_t>();
  o.forced_eos_token_id = g["forced_eos_token_id"].get<std::int64_t>();
  o.min_length = g["min_length"].get<int>();
  o.length_penalty = g["length_penalty"].get<float>();
  o.max_new_tokens = g["max_new_tokens"].get<int>();
  o.decoder_start_token_id = g["decoder_start_token_id"].get<std::int64_t>();
  o.eos_token_id = g["eos_token_id"].get<std::int64_t>();
  const auto& es = g["early_stopping"];
  o.early_stopping = es.is_boolean() ? (es.get<bool>() ? fl::EarlyStopping::True : fl::EarlyStopping::False)
                                     : fl::EarlyStopping::Never;
  EXPECT_TRUE(es.is_boolean() || es.get<std::string>() == "never");
  return o;
}

// Beam search against transformers' generate(num_beams=N, ...): the published
// generation_config and four more settings (min_length, forced EOS at
// max_length - 1, length_penalty 0 / 0.5, early_stopping False / "never",
// 2 / 4 beams, no_repeat_ngram_size 2), per task: ids token for token, text,
// parsed boxes. ISA robustness: the reference's smallest deciding score gap
// and ours exceed 1e-3 (no float rounding difference can flip a beam choice).
TEST(GoldenFlorence, BeamSearchMatchesTransformers) {
  AEGISRT_SKIP_WITHOUT_ORT();
  GoldenRun run;
  ASSERT_NO_FATAL_FAILURE(load_golden_run(run));
  const auto& [ref, tok, gen, image, size, pv] = run;
  int differing = 0;
  int runs = 0;
  for (const auto& t : ref["tasks"]) {
    const std::string task = t["task"].get<std::string>();
    ASSERT_TRUE(t.contains("beam")) << "regenerate with python/gen_golden_florence.py";
    const auto ids = t["encoder_text_ids"].get<std::vector<std::int64_t>>();
    for (const auto& b : t["beam"]) {
      SCOPED_TRACE(task + " " + b["generation"].dump());
      ++runs;
      differing += b["differs_from_greedy"].get<bool>() ? 1 : 0;
      EXPECT_GT(b["min_score_gap"].get<double>(), 1e-3);
      const fl::GenerateOptions opt = beam_options(b["generation"]);
      auto out = gen->generate(TensorView(pv.data(), {1, 3, size, size}, DType::Float32), ids, opt);
      ASSERT_TRUE(out.ok()) << out.error().to_string();
      EXPECT_EQ(*out, b["generated_ids"].get<std::vector<std::int64_t>>());
      EXPECT_TRUE(std::isfinite(gen->last_min_margin()));
      EXPECT_GT(gen->last_min_margin(), 1e-3f);
      auto raw = tok->decode(*out, false);
      ASSERT_TRUE(raw.ok());
      EXPECT_EQ(*raw, b["raw_text"].get<std::string>());
      auto parsed = fl::parse(task, *raw, image.width(), image.height());
      ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
      const auto& want = b["parsed"];
      if (want.is_string()) {
        EXPECT_EQ(parsed->text, want.get<std::string>());
      } else {
        const auto boxes = want["bboxes"];
        ASSERT_EQ(parsed->boxes.size(), boxes.size());
        EXPECT_EQ(parsed->labels, want["labels"].get<std::vector<std::string>>());
        for (std::size_t i = 0; i < boxes.size(); ++i) {
          for (std::size_t k = 0; k < 4; ++k) {
            EXPECT_EQ(parsed->boxes[i][k], boxes[i][k].get<int>()) << "box " << i << " coord " << k;
          }
        }
      }
    }
  }
  EXPECT_EQ(runs, 15);
  EXPECT_GE(differing, 8);  // most settings give other ids than greedy: beam search really ran
}

// NoRepeatNGramLogitsProcessor's bans, hand-computed.
TEST(FlorenceProcessors, NoRepeatNGramBansExactlyTheRepeatingTokens) {
  // 5 6 5 6: the trigram "5 6 5" exists, so after "... 5 6" the token 5 is banned.
  EXPECT_EQ(fl::banned_ngram_tokens({2, 0, 5, 6, 5, 6}, 3), (std::vector<std::int64_t>{5}));
  // "1 2" was followed by 3 and by 4: both banned after a third "1 2".
  EXPECT_EQ(fl::banned_ngram_tokens({1, 2, 3, 1, 2, 4, 1, 2}, 3), (std::vector<std::int64_t>{3, 4}));
  // Bigrams: after 7, the 8 of "7 8".
  EXPECT_EQ(fl::banned_ngram_tokens({7, 8, 7}, 2), (std::vector<std::int64_t>{8}));
  // Unigrams: every token seen.
  EXPECT_EQ(fl::banned_ngram_tokens({4, 9, 4}, 1), (std::vector<std::int64_t>{4, 9, 4}));
  // No earlier occurrence, too short, or off.
  EXPECT_TRUE(fl::banned_ngram_tokens({1, 2, 3, 4, 5}, 3).empty());
  EXPECT_TRUE(fl::banned_ngram_tokens({1, 2}, 3).empty());
  EXPECT_TRUE(fl::banned_ngram_tokens({1, 1, 1}, 0).empty());
  // The last n - 1 tokens alone are no earlier occurrence: {1, 1} has no window of 3.
  EXPECT_TRUE(fl::banned_ngram_tokens({1, 1}, 3).empty());
  EXPECT_EQ(fl::banned_ngram_tokens({1, 1, 1}, 3), (std::vector<std::int64_t>{1}));
}

TEST(FlorenceProcessors, ForcedBosEosMinLengthAndNgramOnARow) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  fl::GenerateOptions o;
  o.eos_token_id = 2;
  o.forced_bos_token_id = 0;
  o.forced_eos_token_id = 2;
  o.no_repeat_ngram_size = 2;
  o.min_length = 3;
  const int max_length = 6;
  const std::vector<float> base{0.5F, -1.0F, 2.0F, 0.25F, 3.0F};
  // Length 1 (decoder start only): forced BOS, everything else -inf.
  std::vector<float> r = base;
  ASSERT_TRUE(fl::apply_processors({2}, r.data(), 5, o, max_length).ok());
  EXPECT_EQ(r, (std::vector<float>{0.0F, -kInf, -kInf, -kInf, -kInf}));
  // Length 2: EOS banned (min_length 3), bigram "0 4"? no repeat yet -> only EOS.
  r = base;
  ASSERT_TRUE(fl::apply_processors({2, 0}, r.data(), 5, o, max_length).ok());
  EXPECT_EQ(r, (std::vector<float>{0.5F, -1.0F, -kInf, 0.25F, 3.0F}));
  // Length 4 {2, 0, 4, 0}: min_length reached; bigram "0 4" seen -> 4 banned.
  r = base;
  ASSERT_TRUE(fl::apply_processors({2, 0, 4, 0}, r.data(), 5, o, max_length).ok());
  EXPECT_EQ(r, (std::vector<float>{0.5F, -1.0F, 2.0F, 0.25F, -kInf}));
  // Length max_length - 1: forced EOS (even though "2 ..."-bigrams would ban nothing here).
  r = base;
  ASSERT_TRUE(fl::apply_processors({2, 0, 4, 1, 3}, r.data(), 5, o, max_length).ok());
  EXPECT_EQ(r, (std::vector<float>{-kInf, -kInf, 0.0F, -kInf, -kInf}));
  // Forced EOS (length 5 = max_length - 1) also wins over a no_repeat ban of
  // EOS: {2, 0, 2, 1, 0} bans 2 (the bigram "0 2").
  EXPECT_EQ(fl::banned_ngram_tokens({2, 0, 2, 1, 0}, 2), (std::vector<std::int64_t>{2}));
  r = base;
  ASSERT_TRUE(fl::apply_processors({2, 0, 2, 1, 0}, r.data(), 5, o, max_length).ok());
  EXPECT_EQ(r, (std::vector<float>{-kInf, -kInf, 0.0F, -kInf, -kInf}));
  // Ids outside the vocabulary are typed errors naming the setting.
  o.forced_bos_token_id = 7;
  r = base;
  auto bad = fl::apply_processors({2}, r.data(), 5, o, max_length);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("forced_bos_token_id"), std::string::npos);
}

TEST(FlorenceProcessors, BadSettingsAreTypedErrorsNamingTheKey) {
  fl::GenerateOptions o;
  EXPECT_TRUE(fl::validate(o).ok());
  for (int beams : {0, -1, 17}) {
    o = {};
    o.num_beams = beams;
    auto r = fl::validate(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("num_beams"), std::string::npos);
    EXPECT_NE(r.error().message().find("--num-beams"), std::string::npos);
  }
  o = {};
  o.num_beams = 16;
  EXPECT_TRUE(fl::validate(o).ok());
  o.no_repeat_ngram_size = -1;
  auto r = fl::validate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no_repeat_ngram_size"), std::string::npos);
  o = {};
  o.min_length = -1;
  EXPECT_NE(fl::validate(o).error().message().find("min_length"), std::string::npos);
  o = {};
  o.length_penalty = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(fl::validate(o).error().message().find("length_penalty"), std::string::npos);
}

// Beam search on hand-made logits (rows = log p), 2 beams, vocab {0..3},
// EOS 3, max_new_tokens 3 (max_length 4), worked by hand:
//  step 1 (both rows p = .1 .5 .3 .1): running [0 1] (.5), [0 2] (.3)
//  step 2 ([0 1]: .1 .1 .2 .6; [0 2]: .1 .7 .1 .1): candidates [0 1 3] .30 (EOS,
//    in the top 2: finished), [0 2 1] .21, [0 1 2] .10 -> running [0 2 1], [0 1 2]
//    (parents 1, 0)
//  step 3 (max_length: all finish; [0 2 1]: .25 each; [0 1 2]: .1 .1 .1 .7):
//    [0 1 2 3] .07, [0 2 1 0] .0525 finish.
// Scores sum(log p) / len^length_penalty (len = generated tokens):
//  lp 1: [0 1 3] log .3 / 2 = -0.602 beats [0 1 2 3] log .07 / 3 = -0.886
//  lp 2: [0 1 3] log .3 / 4 = -0.301 loses to [0 1 2 3] log .07 / 9 = -0.295
TEST(FlorenceBeamSearch, HandWorkedExample) {
  const auto logp = [](std::vector<float> p) {
    for (float& x : p) x = std::log(x);
    return p;
  };
  for (float lp : {1.0F, 2.0F}) {
    SCOPED_TRACE(lp);
    fl::GenerateOptions o;
    o.num_beams = 2;
    o.decoder_start_token_id = 0;
    o.eos_token_id = 3;
    o.max_new_tokens = 3;
    o.length_penalty = lp;
    o.early_stopping = fl::EarlyStopping::True;
    fl::BeamSearch bs(o);
    const auto s1 = logp({.1F, .5F, .3F, .1F});
    auto p = bs.step({s1.data(), s1.data()}, 4);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_EQ(*p, (std::vector<int>{0, 0}));
    EXPECT_EQ(bs.running(), (std::vector<std::vector<std::int64_t>>{{0, 1}, {0, 2}}));
    EXPECT_FALSE(bs.done());
    const auto a = logp({.1F, .1F, .2F, .6F});
    const auto b = logp({.1F, .7F, .1F, .1F});
    p = bs.step({a.data(), b.data()}, 4);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, (std::vector<int>{1, 0}));
    EXPECT_EQ(bs.running(), (std::vector<std::vector<std::int64_t>>{{0, 2, 1}, {0, 1, 2}}));
    EXPECT_FALSE(bs.done());
    const auto c = logp({.25F, .25F, .25F, .25F});
    const auto e = logp({.1F, .1F, .1F, .7F});
    p = bs.step({c.data(), e.data()}, 4);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(bs.done());
    if (lp == 1.0F) {
      EXPECT_EQ(bs.best(), (std::vector<std::int64_t>{0, 1, 3}));
      EXPECT_NEAR(bs.best_score(), std::log(0.3) / 2, 1e-5);
    } else {
      EXPECT_EQ(bs.best(), (std::vector<std::int64_t>{0, 1, 2, 3}));
      EXPECT_NEAR(bs.best_score(), std::log(0.07) / 9, 1e-5);
    }
    // Step 3's candidates [0 2 1 0] and [0 2 1 1] tie exactly (.0525 each) at
    // the N-th / next boundary that decides which one finishes: a zero gap, recorded.
    EXPECT_EQ(bs.min_gap(), 0.0F);
    EXPECT_FALSE(bs.step({c.data(), e.data()}, 4).ok());  // after the end
  }
}

TEST(FlorenceBeamSearch, RefusesNaNAndTooSmallVocabularies) {
  fl::GenerateOptions o;
  o.num_beams = 2;
  o.max_new_tokens = 4;
  fl::BeamSearch bs(o);
  const std::vector<float> two{0.0F, 1.0F};
  auto r = bs.step({two.data(), two.data()}, 2);  // 2 beams need 3 * 2 candidates
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  const std::vector<float> nan{0.0F, std::numeric_limits<float>::quiet_NaN(), 1.0F, 2.0F};
  r = bs.step({nan.data(), nan.data()}, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("NaN"), std::string::npos);
}

// PipelineOptions::num_beams (--num-beams) over the manifest's: 1 = greedy
// (the greedy reference), out-of-range values and non-generating models are
// typed errors naming --num-beams.
TEST(GoldenFlorence, PipelineNumBeamsOverride) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const auto ref = load_golden_reference("florence/florence_reference.json");
  auto catalog = models::ModelCatalog::load_directory(florence_dir() / "catalog");
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  pipeline::PipelineOptions o;
  o.model = "florence";
  o.backend = "onnx";
  o.task = "<CAPTION>";
  o.backend_options["intra_op_threads"] = "1";
  o.num_beams = 1;
  auto p = pipeline::Pipeline::create(*catalog, o);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  auto r = (*p)->run_file(golden_dir() / ref["image"].get<std::string>());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(std::get<pipeline::GenerationResult>(r->output).token_ids,
            ref["tasks"][0]["generated_ids"].get<std::vector<std::int64_t>>());
  for (int bad : {0, 17, -3}) {
    o.num_beams = bad;
    auto q = pipeline::Pipeline::create(*catalog, o);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(q.error().to_string().find("--num-beams"), std::string::npos) << q.error().to_string();
  }
}

// Hand-computed dequantisation: int((bin + 0.5) * size / 1000).
TEST(GoldenFlorence, DequantizeBins) {
  EXPECT_EQ(fl::dequantize_box({0, 0, 999, 999}, 1000, 500), (std::array<int, 4>{0, 0, 999, 499}));
  EXPECT_EQ(fl::dequantize_box({112, 500, 431, 812}, 640, 480), (std::array<int, 4>{72, 240, 276, 390}));
}

TEST(GoldenFlorence, TaskPrompts) {
  EXPECT_EQ(*fl::task_question("<CAPTION>", ""), "What does the image describe?");
  EXPECT_EQ(*fl::task_question("<CAPTION_TO_PHRASE_GROUNDING>", "a dog"), "Locate the phrases in the caption: a dog");
  EXPECT_EQ(fl::task_question("<NOPE>", "").error().code(), ErrorCode::Unsupported);
  EXPECT_EQ(fl::task_question("<CAPTION_TO_PHRASE_GROUNDING>", "").error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(fl::task_question("<OD>", "x").error().code(), ErrorCode::InvalidArgument);
  // tasks whose output is not parsed are refused, never returned as plain text
  EXPECT_EQ(fl::parse("<OCR_WITH_REGION>", "</s><s>ab<loc_1><loc_2><loc_3><loc_4><loc_5><loc_6><loc_7><loc_8></s>", 100, 100)
                .error()
                .code(),
            ErrorCode::Unsupported);
  EXPECT_EQ(fl::parse("<REGION_PROPOSAL>", "</s><s><loc_1><loc_2><loc_3><loc_4></s>", 100, 100).error().code(),
            ErrorCode::Unsupported);
  // the errors name the CLI option at fault
  EXPECT_NE(fl::task_question("<NOPE>", "").error().message().find("--task"), std::string::npos);
  EXPECT_NE(fl::task_question("<CAPTION_TO_PHRASE_GROUNDING>", "").error().message().find("--text"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt::testing
