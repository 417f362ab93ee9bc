// libFuzzer target for the artefact-cache sidecar parser
// (ArtifactMetadata::from_json). Any text gives metadata or a typed Corrupt
// error; accepted metadata must survive to_json() -> from_json() unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aegisrt/cache/artifact_cache.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aegisrt;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = ArtifactMetadata::from_json(text, "fuzz.json");
  if (!m.ok()) {
    fuzz::check(fuzz::is_input_error(m.error().code()), "sidecar_fuzzer", "rejection with an unexpected error code");
    return 0;
  }
  const std::string json = m->to_json();
  auto again = ArtifactMetadata::from_json(json, "re-encoded");
  fuzz::check(again.ok(), "sidecar_fuzzer", "accepted metadata does not survive to_json/from_json");
  fuzz::check(again->to_json() == json, "sidecar_fuzzer", "to_json/from_json round trip changed the metadata");
  return 0;
}
