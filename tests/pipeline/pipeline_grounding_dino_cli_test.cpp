// `aegisrt run --model grounding_dino --prompt ...` on the golden export
// (tests/data/golden/grounding_dino): an annotated PNG and a JSON whose
// phrases are transformers' (grounding_dino_reference.json); a missing
// --prompt is refused naming the option.
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

fs::path gd_dir() { return golden_dir() / "grounding_dino"; }

std::string gd_args() {
  return "--models-dir " + shell_quote((gd_dir() / "catalog").string()) + " run --model grounding_dino --backend onnx "
         "--threads 1 --onnx " + shell_quote((gd_dir() / "grounding-dino-golden.onnx").string());
}

TEST(GroundingDinoCli, WritesAnnotatedPngAndJsonWithTheReferencePhrases) {
  AEGISRT_SKIP_WITHOUT_ORT();
  std::ifstream in(gd_dir() / "grounding_dino_reference.json");
  const json ref = json::parse(in);
  const json& run = ref.at("runs").at(0);
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  auto r = run_cli(gd_args() + " --prompt " + shell_quote(run.at("prompt").get<std::string>()) + " --input " +
                       shell_quote((golden_dir() / run.at("image").get<std::string>()).string()) + " --output " +
                       shell_quote(out.string()),
                   tmp);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string stem = fs::path(run.at("image").get<std::string>()).stem().string();
  auto text = read_file(out / (stem + ".json"), "result JSON");
  ASSERT_TRUE(text.ok()) << text.error() << " (outputs: " << r.out << ")";
  const json j = json::parse(*text);
  EXPECT_EQ(j.at("prompt"), run.at("text"));
  ASSERT_EQ(j.at("detections").size(), run.at("detections").size());
  for (std::size_t i = 0; i < j.at("detections").size(); ++i) {
    EXPECT_EQ(j.at("detections")[i].at("phrase"), run.at("detections")[i].at("phrase")) << i;
  }
  auto png = vision::load_image(out / (stem + ".annotated.png"));
  ASSERT_TRUE(png.ok()) << png.error();
  EXPECT_EQ(png->width(), run.at("width").get<int>());
  EXPECT_EQ(png->height(), run.at("height").get<int>());
  // boxes were drawn: the annotated image differs from the input
  auto orig = vision::load_image(golden_dir() / run.at("image").get<std::string>());
  ASSERT_TRUE(orig.ok());
  std::size_t changed = 0;
  const auto a = png->pixels();
  const auto b = orig->pixels();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) changed += a[i] != b[i] ? 1 : 0;
  EXPECT_GT(changed, 1000U);
}

TEST(GroundingDinoCli, MissingPromptIsRefusedNamingTheOption) {
  AEGISRT_SKIP_WITHOUT_ORT();
  TempDir tmp;
  auto r = run_cli(gd_args() + " --input " + shell_quote((golden_dir() / "golden_street.png").string()) +
                       " --output " + shell_quote((tmp.path() / "out").string()),
                   tmp);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("--prompt"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace aegisrt::testing
