// "Did you mean" support: edit distance and nearest plausible name.
#include <algorithm>
#include <limits>
#include <vector>

#include "aegisrt/models/catalog.h"

namespace aegisrt::models {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Two-row Levenshtein; names are short, so O(|a|*|b|) is fine.
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest_name(std::string_view query, const std::vector<std::string>& candidates) {
  if (query.empty()) return {};
  // Very long queries (fuzzed input) are never typos of short names; skip the O(n*m) work.
  if (query.size() > 256) return {};
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(query, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best.empty()) return {};
  const std::size_t limit = std::max<std::size_t>(2, query.size() / 3);
  // d < |query|: a one-letter name is not a typo of another one-letter name.
  if (best_distance <= limit && best_distance < query.size()) return best;
  // A prefix is a plausible abbreviation ("depth" -> "depth_anything").
  for (const auto& c : candidates) {
    if (query.size() >= 3 && (c.starts_with(query) || query.starts_with(c))) return c;
  }
  return {};
}

}  // namespace aegisrt::models
