#pragma once
// Which hosts of the fleet run a configuration a known corruption bug needs
// (collector/knownbugs), from the stored host epochs: before any corruption is
// seen, for the CLI, the metrics and the alert; and, for a suspect of the
// analysis, which known bugs its corrupted epochs match.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/analysis.h"
#include "collector/knownbugs/matcher.h"
#include "collector/store/store.h"

namespace fscanary::fleet {

// What the matcher is given of a stored epoch: its attributes and the text of
// /proc/version.
knownbugs::HostEpoch KnownBugInput(const store::EpochRecord& epoch);

struct KnownBugHost {
  std::string agent_id;
  knownbugs::Verdict verdict = knownbugs::Verdict::kPossiblyAffected;
  std::vector<std::string> why;
};

struct KnownBugExposure {
  const knownbugs::KnownBug* bug = nullptr;
  uint64_t affected = 0;
  uint64_t possibly_affected = 0;
  // Agent id order.
  std::vector<KnownBugHost> hosts;
};

// One entry per bug of `table`, in table order (hosts counted 0 included),
// over each host's current epoch (end 0): what runs now.
std::vector<KnownBugExposure> KnownBugExposureOf(
    std::span<const store::EpochRecord> epochs,
    std::span<const knownbugs::KnownBug> table = knownbugs::KnownBugs());

// For a suspect of the analysis: one line per known bug that its epochs with
// corruption events match ("matches known bug ID (fixed by ...) on 3 of its 4
// epochs with events: ..."), for its explanation. Empty when none does.
std::vector<std::string> KnownBugsOfSuspect(
    const analysis::Suspect& suspect, std::span<const store::EpochRecord> epochs,
    std::span<const knownbugs::KnownBug> table = knownbugs::KnownBugs());

}  // namespace fscanary::fleet
