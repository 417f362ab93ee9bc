// ManifestParser (private to src/models): reads each section of a
// manifest.yaml with the YAML layer (yaml_reader.h) and then cross-checks the
// sections (manifest_checks.cpp). Used by manifest_parser.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "yaml_reader.h"

namespace aegisrt::models::detail {

class ManifestParser : public YamlReader {
 public:
  using YamlReader::YamlReader;

  /// Reads every section into `m`, then cross-checks them.
  void parse_root(const YAML::Node& root, ModelManifest& m);

 private:
  // ---- sections (manifest_sections.cpp)
  void parse_model(const MapReader& top, ModelManifest& m);
  void parse_backends(const MapReader& model, ModelManifest& m);
  void parse_precisions(const MapReader& model, ModelManifest& m);
  void parse_variants(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field, ModelManifest& m);
  bool parse_variant_map(const YAML::Node& item, const YAML::Mark& item_mark, const std::string& f,
                         VariantSpec& spec);
  void parse_source(const MapReader& top, ModelManifest& m);
  void parse_input(const MapReader& top, ModelManifest& m);
  void parse_preprocessing(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                           int channels, InputSpec& in);
  void parse_border(const MapReader& p, std::optional<ResizeMethod> resize, Preprocessing& pre);
  void parse_keep_aspect(const MapReader& p, std::optional<ResizeMethod> resize, Preprocessing& pre);
  void parse_pad_value(const MapReader& p, Preprocessing& pre);
  void parse_normalize(const MapReader& p, int channels, Preprocessing& pre);
  std::vector<double> parse_channel_list(const MapReader& nr, std::string_view key, int channels, bool positive);
  void parse_output(const MapReader& top, ModelManifest& m);
  std::optional<OutputType> parse_output_type_and_layout(const MapReader& out, ModelManifest& m);
  void parse_output_fields(const MapReader& out, ModelManifest& m);
  void parse_generation(const MapReader& out, ModelManifest& m);
  void parse_field_shape(const YAML::Node& s, const MapReader& fr, OutputField& field);
  void parse_postprocessing(const MapReader& top, ModelManifest& m);
  void parse_resources(const MapReader& top, ModelManifest& m);
  // ---- `parts:` of the model or of a variant (manifest_parts.cpp)
  void parse_parts(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                   std::vector<PartSpec>& out);
  bool parse_part(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field, PartSpec& part);

  // ---- cross-checks (manifest_checks.cpp)
  void cross_check(const MapReader& top, const ModelManifest& m);
  void check_memory_covers_variants(const MapReader& top, const ModelManifest& m);
  void check_output(const YAML::Mark& out_mark, const ModelManifest& m);
  void check_output_shapes(const OutputSpec& out, const YAML::Mark& out_mark);
  void check_parts(const ModelManifest& m);  // manifest_parts.cpp

  // Which sections parsed cleanly enough for cross-checks to be meaningful.
  bool variants_ok_ = false;
  bool output_ok_ = false;
  std::set<std::string> memory_keys_;  // keys of resources.device_memory_mb, valid or not
};

}  // namespace aegisrt::models::detail
