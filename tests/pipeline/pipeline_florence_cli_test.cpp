// `aegisrt run --model florence --task ...` on the golden Florence-2 export
// (tests/data/golden/florence, its test catalog entry in florence/catalog):
// the built binary's caption, <OD> boxes/labels and phrase-grounding boxes
// against transformers' own generate() + post_process_generation(), recorded
// in florence_reference.json by python/gen_golden_florence.py; the task
// options' typed errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "aegisrt/core/file_util.h"
#include "aegisrt/vision/image.h"
#include "cli/cli_test_util.h"
#include "demo_fixture.h"
#include "golden_fixture.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fl_dir() { return golden_dir() / "florence"; }

json reference() {
  std::ifstream in(fl_dir() / "florence_reference.json");
  return json::parse(in);
}

const json& task_ref(const json& ref, const std::string& task) {
  for (const auto& t : ref.at("tasks")) {
    if (t.at("task") == task) return t;
  }
  ADD_FAILURE() << "no reference for " << task;
  return ref.at("tasks").at(0);
}

std::string fl_args() {
  return "--models-dir " + shell_quote((fl_dir() / "catalog").string()) +
         " run --model florence --backend onnx --threads 1";
}

struct TaskRun {
  CliRun cli;
  json doc;
};

/// Runs the CLI on the reference image with `extra` options; the result JSON when it succeeded.
TaskRun run_task(const json& ref, const std::string& extra, TempDir& tmp) {
  const fs::path out = tmp.path() / "out";
  TaskRun r;
  r.cli = run_cli(fl_args() + " " + extra + " --input " +
                      shell_quote((golden_dir() / ref.at("image").get<std::string>()).string()) + " --output " +
                      shell_quote(out.string()),
                  tmp);
  if (r.cli.exit_code == 0) {
    const std::string stem = fs::path(ref.at("image").get<std::string>()).stem().string();
    auto text = read_file(out / (stem + ".json"), "result JSON");
    EXPECT_TRUE(text.ok()) << text.error();
    if (text.ok()) r.doc = json::parse(*text);
  }
  return r;
}

std::size_t changed_pixels(const fs::path& annotated, const fs::path& original) {
  auto a = vision::load_image(annotated);
  auto b = vision::load_image(original);
  EXPECT_TRUE(a.ok() && b.ok());
  if (!a.ok() || !b.ok()) return 0;
  EXPECT_EQ(a->width(), b->width());
  EXPECT_EQ(a->height(), b->height());
  const auto pa = a->pixels();
  const auto pb = b->pixels();
  EXPECT_EQ(pa.size(), pb.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) n += pa[i] != pb[i] ? 1 : 0;
  return n;
}

TEST(FlorenceCli, CaptionIsTheReferenceText) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  const json want = task_ref(ref, "<CAPTION>");
  TempDir tmp;
  const TaskRun r = run_task(ref, "--task '<CAPTION>'", tmp);
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.out << r.cli.err;
  const std::string caption = want.at("parsed").get<std::string>();
  ASSERT_FALSE(caption.empty());
  EXPECT_EQ(r.doc.at("task"), "<CAPTION>");
  EXPECT_EQ(r.doc.at("text"), caption);
  EXPECT_EQ(r.doc.at("raw_text"), want.at("raw_text"));
  // the test catalog's output.generation is the published beam search (3 beams, ...)
  EXPECT_EQ(r.doc.at("token_ids"), want.at("beam").at(0).at("generated_ids"));
  EXPECT_TRUE(r.doc.at("boxes").empty());
  EXPECT_EQ(r.doc.at("output_layout"), "seq2seq_tokens");
  // the summary line prints the caption
  EXPECT_NE(r.cli.out.find("\"" + caption + "\""), std::string::npos) << r.cli.out;
  // a text task leaves the image as it is
  EXPECT_EQ(changed_pixels(tmp.path() / "out" / "golden_street.annotated.png",
                           golden_dir() / ref.at("image").get<std::string>()),
            0U);
}

void expect_boxes(const json& doc, const json& parsed) {
  const json& boxes = doc.at("boxes");
  ASSERT_EQ(boxes.size(), parsed.at("bboxes").size()) << doc.dump();
  ASSERT_GE(boxes.size(), 2U);
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(boxes[i].at("label"), parsed.at("labels")[i]);
    const json& b = boxes[i].at("box");
    const json& w = parsed.at("bboxes")[i];
    // transformers' dequantize truncates to int pixels; so does ours (florence::dequantize_box)
    EXPECT_EQ(b.at("x1").get<double>(), w[0].get<double>());
    EXPECT_EQ(b.at("y1").get<double>(), w[1].get<double>());
    EXPECT_EQ(b.at("x2").get<double>(), w[2].get<double>());
    EXPECT_EQ(b.at("y2").get<double>(), w[3].get<double>());
  }
}

TEST(FlorenceCli, ObjectDetectionBoxesAndLabelsAreTheReferences) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  const json want = task_ref(ref, "<OD>");
  TempDir tmp;
  const TaskRun r = run_task(ref, "--task '<OD>'", tmp);
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.out << r.cli.err;
  EXPECT_EQ(r.doc.at("task"), "<OD>");
  // the test catalog's output.generation is the published beam search (3 beams, ...)
  EXPECT_EQ(r.doc.at("token_ids"), want.at("beam").at(0).at("generated_ids"));
  expect_boxes(r.doc, want.at("parsed"));
  // the boxes are drawn
  EXPECT_GT(changed_pixels(tmp.path() / "out" / "golden_street.annotated.png",
                           golden_dir() / ref.at("image").get<std::string>()),
            500U);
}

TEST(FlorenceCli, PhraseGroundingWithText) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  const json want = task_ref(ref, "<CAPTION_TO_PHRASE_GROUNDING>");
  TempDir tmp;
  const TaskRun r = run_task(
      ref, "--task '<CAPTION_TO_PHRASE_GROUNDING>' --text " + shell_quote(want.at("text_input").get<std::string>()),
      tmp);
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.out << r.cli.err;
  // the test catalog's output.generation is the published beam search (3 beams, ...)
  EXPECT_EQ(r.doc.at("token_ids"), want.at("beam").at(0).at("generated_ids"));
  expect_boxes(r.doc, want.at("parsed"));
}

TEST(FlorenceCli, TaskOptionErrorsNameTheOption) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  struct Case {
    std::string args;
    std::string option;
  };
  for (const Case& c : {Case{"--task '<CAPTION_TO_PHRASE_GROUNDING>'", "--text"},  // grounding without its text
                        Case{"--task '<NOT_A_TASK>'", "--task"},                   // unknown task
                        Case{"", "--task"},                                         // no task at all
                        Case{"--task '<CAPTION>' --text 'a car'", "--text"},      // a text the task does not take
                        Case{"--task '<OCR_WITH_REGION>'", "--task"},              // a task whose output is not parsed
                        Case{"--task '<CAPTION>' --num-beams 0", "--num-beams"},   // beam count out of range
                        Case{"--task '<CAPTION>' --num-beams 17", "--num-beams"}}) {
    SCOPED_TRACE(c.args);
    TempDir tmp;
    const TaskRun r = run_task(ref, c.args, tmp);
    EXPECT_NE(r.cli.exit_code, 0);
    EXPECT_NE((r.cli.out + r.cli.err).find(c.option), std::string::npos) << r.cli.out << r.cli.err;
  }
  // --task and --num-beams on a model that is not Florence-2
  TempDir tmp;
  int run = 0;
  for (const Case& c : {Case{"--task '<CAPTION>'", "--task"}, Case{"--num-beams 2", "--num-beams"}}) {
    SCOPED_TRACE(c.args);
    const auto gd = run_cli("--models-dir " + shell_quote((golden_dir() / "grounding_dino" / "catalog").string()) +
                                " run --model grounding_dino --backend onnx --prompt 'car .' " + c.args + " --input " +
                                shell_quote((golden_dir() / "golden_street.png").string()) + " --output " +
                                shell_quote((tmp.path() / ("out" + std::to_string(++run))).string()),
                            tmp);
    EXPECT_NE(gd.exit_code, 0);
    EXPECT_NE((gd.out + gd.err).find(c.option), std::string::npos) << gd.out << gd.err;
  }
}

// --num-beams 1: greedy decoding (transformers' generate(num_beams=1) reference,
// with the manifest's logits processors, which change nothing on these ids).
TEST(FlorenceCli, NumBeamsOneIsGreedy) {
  AEGISRT_SKIP_WITHOUT_ORT();
  const json ref = reference();
  const json want = task_ref(ref, "<OD>");
  TempDir tmp;
  const TaskRun r = run_task(ref, "--task '<OD>' --num-beams 1", tmp);
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.out << r.cli.err;
  EXPECT_EQ(r.doc.at("token_ids"), want.at("generated_ids"));
  EXPECT_EQ(r.doc.at("raw_text"), want.at("raw_text"));
}

}  // namespace
}  // namespace aegisrt::testing
