#include "collector/analysis/report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/json_values.h"

namespace fscanary::analysis {
namespace {

using json::Attributes;
using json::Json;
using json::Number;
using json::Optional;

// Pads to `width` columns counting UTF-8 code points, not bytes ("∞", "–", "∧").
std::string Pad(const std::string& text, size_t width) {
  size_t columns = 0;
  for (const char c : text) columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return columns >= width ? text + " " : text + std::string(width - columns, ' ');
}

}  // namespace

std::string FormatJson(const AnalysisResult& result) {
  Json suspects = Json::array();
  for (const Suspect& s : result.suspects) {
    Json aliases = Json::array();
    for (const std::vector<AttributeValue>& group : s.aliases) aliases.push_back(Attributes(group));
    Json indistinguishable = Json::array();
    for (const Alternative& alternative : s.indistinguishable) {
      indistinguishable.push_back({{"attributes", Attributes(alternative.attributes)},
                                   {"exposure_share", alternative.exposure_share}});
    }
    suspects.push_back({{"attributes", Attributes(s.attributes)},
                        {"rate_ratio", Number(s.rate_ratio)},
                        {"ci_low", Number(s.ci_low)},
                        {"ci_high", Number(s.ci_high)},
                        {"p_value", s.p_value},
                        {"q_value", s.q_value},
                        {"events", s.events},
                        {"exposure_bytes", s.exposure_bytes},
                        {"aliases", std::move(aliases)},
                        {"implied", Attributes(s.implied)},
                        {"indistinguishable", std::move(indistinguishable)},
                        {"explanation", s.explanation}});
  }
  const KernelVersionReport& kernel = result.kernel_versions;
  Json releases = Json::array();
  for (const KernelVersionRow& row : kernel.rows) {
    releases.push_back({{"kernel", row.kernel},
                        {"events", row.events},
                        {"epochs", row.epochs},
                        {"exposure_bytes", row.exposure_bytes},
                        {"in_suspect", row.in_suspect}});
  }
  const Json document = {{"suspects", std::move(suspects)},
                         {"kernel_versions",
                          {{"context", Attributes(kernel.context)},
                           {"releases", std::move(releases)},
                           {"first_affected", Optional(kernel.first_affected)},
                           {"last_affected", Optional(kernel.last_affected)},
                           {"last_clean", Optional(kernel.last_clean)},
                           {"first_clean_after", Optional(kernel.first_clean_after)},
                           {"statement", kernel.statement}}},
                         {"hosts", result.hosts},
                         {"events", result.events}};
  return document.dump(2) + "\n";
}

std::string FormatText(const AnalysisResult& result) {
  std::string out = absl::StrCat(
      "Fleet: ", result.hosts, " hosts, ", result.epochs, " host epochs, ", result.events,
      " events, ", FormatBytes(result.exposure_bytes), " verified.\n", "Tested ",
      result.stats.tested, " hypotheses over ", result.stats.items, " alias groups of ",
      result.stats.values_in_items, " attribute values; q-values count ",
      absl::StrFormat("%.3g", result.stats.hypotheses), " possible conjunctions.\n");
  for (const std::string& note : result.notes) absl::StrAppend(&out, "Note: ", note, "\n");
  if (result.suspects.empty()) {
    absl::StrAppend(&out,
                    "\nNo suspects: no attribute value or combination has a rate "
                    "significantly higher than the rest of the fleet.\n");
  } else {
    absl::StrAppend(&out, "\n", Pad("  #", 5), Pad("events", 9), Pad("exposure", 10),
                    Pad("rate ratio (95% CI)", 24), Pad("p", 10), Pad("q", 10), "suspect\n");
    for (size_t i = 0; i < result.suspects.size(); ++i) {
      const Suspect& s = result.suspects[i];
      const std::string ratio = absl::StrCat(FormatRatio(s.rate_ratio), " (", FormatRatio(s.ci_low),
                                             "–", FormatRatio(s.ci_high), ")");
      absl::StrAppend(&out, Pad(absl::StrFormat("%3d", i + 1), 5),
                      Pad(absl::StrCat(s.events, "/", result.events), 9),
                      Pad(FormatShare(s.exposure_share), 10), Pad(ratio, 24),
                      Pad(FormatProbability(s.p_value), 10), Pad(FormatProbability(s.q_value), 10),
                      DescribeConjunction(s.attributes), "\n");
    }
    absl::StrAppend(&out, "\n");
    for (size_t i = 0; i < result.suspects.size(); ++i) {
      absl::StrAppend(&out, i + 1, ". ", result.suspects[i].explanation, "\n");
    }
  }
  if (!result.kernel_versions.statement.empty()) {
    absl::StrAppend(&out, "\nKernel: ", result.kernel_versions.statement, "\n");
  }
  return out;
}

}  // namespace fscanary::analysis
