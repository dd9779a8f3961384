#pragma once
// Which known corruption bugs a host epoch is, or may be, exposed to, and why.
// Pure: the epoch's attributes in, matches out; touches no store or network.
// Thread-safe.

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "collector/knownbugs/known_bugs.h"

namespace fscanary::knownbugs {

// What the matcher knows of one host epoch.
struct HostEpoch {
  // name -> value, as fleet::EpochAttributes gives them ("kernel" is the
  // release, uname -r).
  std::vector<std::pair<std::string, std::string>> attributes;
  // The text of /proc/version (HostFacts.kernel_version); empty when unknown.
  // Debian's ABI-named kernels say their real version only there.
  std::string proc_version;
};

enum class Verdict {
  // The kernel is known to be in an affected range and every condition is met.
  kAffected,
  // Nothing rules it out, but something is not known: the patch level (an
  // ABI-named release), an attribute the host did not report, or a condition
  // no host epoch records yet (a workload).
  kPossiblyAffected,
};

struct Match {
  const KnownBug* bug = nullptr;
  Verdict verdict = Verdict::kPossiblyAffected;
  // One line per reason, the kernel first, then each condition in table order:
  // "kernel 4.19.7 is in [4.19-rc1, 4.19.8)", "scheduler=none",
  // "not observable yet: request merging is on".
  std::vector<std::string> why;
};

// The bugs of `table` that `epoch` matches, in table order. A bug is left out
// when the kernel is outside its ranges, or known (exactly) to be fixed there,
// or any condition is known not to hold. An epoch without a parsable kernel
// release matches nothing: the table is indexed by release.
std::vector<Match> MatchKnownBugs(const HostEpoch& epoch,
                                  std::span<const KnownBug> table = KnownBugs());

// One line naming the bug, for an explanation: "possibly affected by known bug
// blk-mq-direct-issue-merge (fixed by ffe81d45322c): kernel 4.19.7 is in
// [4.19-rc1, 4.19.8); blk_mq=on; ...".
std::string Describe(const Match& match);

}  // namespace fscanary::knownbugs
