#include "collector/fleet/known_bug_exposure.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/fleet/host_attributes.h"

namespace fscanary::fleet {
namespace {

// Attributes the analysis derives from the kernel release; an epoch does not
// carry them, and the release it does carry says the same.
bool IsDerived(const std::string& attribute) {
  return attribute == "kernel_series" || attribute == "kernel_range";
}

bool HoldsSuspect(const analysis::Suspect& suspect,
                  const std::vector<std::pair<std::string, std::string>>& attributes) {
  for (const analysis::AttributeValue& item : suspect.attributes) {
    if (IsDerived(item.attribute)) continue;
    const bool held = std::any_of(attributes.begin(), attributes.end(), [&](const auto& attribute) {
      return attribute.first == item.attribute && attribute.second == item.value;
    });
    if (!held) return false;
  }
  return true;
}

}  // namespace

knownbugs::HostEpoch KnownBugInput(const store::EpochRecord& epoch) {
  return {.attributes = EpochAttributes(epoch), .proc_version = epoch.facts.kernel_version()};
}

std::vector<KnownBugExposure> KnownBugExposureOf(std::span<const store::EpochRecord> epochs,
                                                 std::span<const knownbugs::KnownBug> table) {
  std::vector<KnownBugExposure> exposure(table.size());
  std::map<const knownbugs::KnownBug*, size_t> index;
  for (size_t i = 0; i < table.size(); ++i) {
    exposure[i].bug = &table[i];
    index[&table[i]] = i;
  }
  std::vector<const store::EpochRecord*> current;
  for (const store::EpochRecord& epoch : epochs) {
    if (epoch.end_unix_nanos == 0) current.push_back(&epoch);
  }
  std::sort(current.begin(), current.end(),
            [](const auto* a, const auto* b) { return a->agent_id < b->agent_id; });
  for (const store::EpochRecord* epoch : current) {
    for (knownbugs::Match& match : knownbugs::MatchKnownBugs(KnownBugInput(*epoch), table)) {
      KnownBugExposure& entry = exposure[index.at(match.bug)];
      (match.verdict == knownbugs::Verdict::kAffected ? entry.affected : entry.possibly_affected)++;
      entry.hosts.push_back(
          {.agent_id = epoch->agent_id, .verdict = match.verdict, .why = std::move(match.why)});
    }
  }
  return exposure;
}

std::vector<std::string> KnownBugsOfSuspect(const analysis::Suspect& suspect,
                                            std::span<const store::EpochRecord> epochs,
                                            std::span<const knownbugs::KnownBug> table) {
  struct Seen {
    knownbugs::Match kept;  // described
    uint64_t epochs = 0;
  };
  std::map<std::string_view, Seen> matched;  // by bug id
  std::vector<std::string_view> order;
  uint64_t with_events = 0;
  for (const store::EpochRecord& epoch : epochs) {
    if (epoch.corruption_findings == 0) continue;
    const knownbugs::HostEpoch input = KnownBugInput(epoch);
    if (!HoldsSuspect(suspect, input.attributes)) continue;
    ++with_events;
    for (knownbugs::Match& match : knownbugs::MatchKnownBugs(input, table)) {
      auto [it, first] = matched.try_emplace(match.bug->id);
      if (first) {
        order.push_back(match.bug->id);
        it->second.kept = std::move(match);
      } else if (match.verdict == knownbugs::Verdict::kAffected) {
        // "affected" is the stronger reading: describe by it.
        it->second.kept = std::move(match);
      }
      ++it->second.epochs;
    }
  }
  std::vector<std::string> lines;
  for (const std::string_view id : order) {
    const Seen& seen = matched.at(id);
    lines.push_back(absl::StrCat("on ", seen.epochs, " of its ", with_events,
                                 " epochs with events: ", knownbugs::Describe(seen.kept)));
  }
  return lines;
}

}  // namespace fscanary::fleet
