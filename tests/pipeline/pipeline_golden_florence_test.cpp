// Florence-2 golden test: the tiny transformers Florence2ForConditionalGeneration
// exported as five ONNX parts (python/gen_golden_florence.py), generated
// through the backend interface (src/pipeline/florence.h) on golden_street.png,
// against transformers' own generate() + post_process_generation():
// generated ids token for token, decoded text, parsed caption / phrases /
// boxes (within 1 px).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
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

TEST(GoldenFlorence, GeneratesTheReferenceTokensAndParse) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the five parts run on ONNX Runtime
  const auto ref = load_golden_reference("florence/florence_reference.json");
  auto tok = text::BpeTokenizer::load(florence_dir() / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const fs::path d = florence_dir();
  fl::PartPaths parts{d / "florence2_golden_vision_encoder.onnx", d / "florence2_golden_embed_tokens.onnx",
                      d / "florence2_golden_encoder_model.onnx", d / "florence2_golden_decoder_model.onnx",
                      d / "florence2_golden_decoder_with_past_model.onnx"};
  auto gen = fl::Generator::load(parts, "onnx");
  ASSERT_TRUE(gen.ok()) << gen.error().to_string();
  auto image = vision::load_image(golden_dir() / ref["image"].get<std::string>(), 3);
  ASSERT_TRUE(image.ok());
  const int size = ref["input_size"].get<int>();
  const auto pv = pixel_values(*image, size, ref);
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
    auto out = (*gen)->generate(TensorView(pv.data(), {1, 3, size, size}, DType::Float32), *ids, opt);
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(*out, t["generated_ids"].get<std::vector<std::int64_t>>());
    // ... and so do ours (the generator's own smallest gap over the same steps).
    EXPECT_TRUE(std::isfinite((*gen)->last_min_margin()));
    EXPECT_GT((*gen)->last_min_margin(), 1e-3f);
    auto raw = tok->decode(*out, false);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, t["raw_text"].get<std::string>());
    auto parsed = fl::parse(task, *raw, image->width(), image->height());
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
  const auto& want = ref["tasks"][1];
  ASSERT_EQ(want["task"], "<OD>");
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
