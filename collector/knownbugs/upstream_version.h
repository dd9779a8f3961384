#pragma once
// Which upstream kernel release a host runs, as far as its facts tell, and
// whether a release range holds it. Pure functions; thread-safe.
//
// A release string alone does not always say: Debian, Ubuntu and RHEL name
// their kernels "x.y.0-N..." (an ABI name) and hide the stable patch level.
// Debian writes the real one into /proc/version ("... Debian 6.1.55-1
// (2023-09-29)"), so that is read first. When only an ABI name is known, the
// host is somewhere in the x.y series: a range that holds some of the series is
// "possibly" matched, never "surely".
//
// Distro kernels carry backports the upstream number does not show; the table
// speaks of upstream releases, and so does everything here.

#include <optional>
#include <string>
#include <string_view>

#include "collector/analysis/kernel_version.h"
#include "collector/knownbugs/known_bugs.h"

namespace fscanary::knownbugs {

struct UpstreamVersion {
  // The lowest and highest upstream releases the host can be running; equal
  // when the release is known exactly. Suffixes are cleared.
  analysis::KernelVersion lowest;
  analysis::KernelVersion highest;
  bool exact = false;
  // Where it came from, for explanations: "6.1.64 (Debian 6.1.64-1 in
  // /proc/version)", "4.19.7 (the release)", "6.1.x (the release
  // 6.1.0-13-amd64 hides the patch level)".
  std::string described;
};

// `release` is uname -r (the `kernel` attribute), `proc_version` the text of
// /proc/version (empty when unknown). nullopt when neither gives a version.
std::optional<UpstreamVersion> ResolveUpstreamVersion(std::string_view release,
                                                      std::string_view proc_version);

// A table release ("4.19-rc1", "6.1.66") as an upstream version; nullopt when
// it is not one (a distro suffix has no place in the table).
std::optional<analysis::KernelVersion> ParseTableRelease(std::string_view release);

// How much of the host's possible releases lie in the bug's affected set (its
// ranges, minus each stable series from its backport on).
enum class Coverage {
  kNone,  // no possible release is affected
  kSome,  // some are (only when the version is not exact)
  kAll,   // every possible release is affected (always so when exact and in)
};
Coverage AffectedCoverage(const KnownBug& bug, const UpstreamVersion& version);

// The range of `bug` that holds `version`'s lowest affected release, as
// "[4.19-rc1, 4.19.8)" with the series' backport as upper end when it is lower;
// empty when none does.
std::string DescribeAffectedRange(const KnownBug& bug, const UpstreamVersion& version);

}  // namespace fscanary::knownbugs
