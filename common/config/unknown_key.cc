#include "common/config/unknown_key.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace fscanary::config {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "listen_admin" for "admin_listen": the same words in another order.
bool SameWords(std::string_view a, std::string_view b) {
  std::vector<std::string> words_a = absl::StrSplit(absl::string_view(a.data(), a.size()), '_');
  std::vector<std::string> words_b = absl::StrSplit(absl::string_view(b.data(), b.size()), '_');
  std::sort(words_a.begin(), words_a.end());
  std::sort(words_b.begin(), words_b.end());
  return words_a == words_b;
}

}  // namespace

std::string UnknownKeyMessage(std::string_view key,
                              const std::set<std::string, std::less<>>& known) {
  std::string best;
  size_t best_distance = 3;  // suggest only near misses (typos, a dash for an underscore)
  for (const std::string& candidate : known) {
    const size_t distance = SameWords(key, candidate) ? 1 : EditDistance(key, candidate);
    if (distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return "unknown key (did you mean '" + best + "'?)";
  if (known.empty()) return "unknown key";
  return "unknown key (expected one of: " + absl::StrJoin(known, ", ") + ")";
}

}  // namespace fscanary::config
