#include "collector/knownbugs/upstream_version.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace fscanary::knownbugs {
namespace {

using analysis::CompareKernelVersions;
using analysis::KernelVersion;
using analysis::ParseKernelVersion;

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool Less(const KernelVersion& a, const KernelVersion& b) {
  return CompareKernelVersions(a, b) < 0;
}

KernelVersion Upstream(KernelVersion version) {
  version.suffix.clear();
  return version;
}

std::string Format(const KernelVersion& version) {
  std::string text = absl::StrCat(version.major, ".", version.minor);
  if (version.patch != 0) absl::StrAppend(&text, ".", version.patch);
  if (version.rc != 0) absl::StrAppend(&text, "-rc", version.rc);
  return text;
}

bool SameSeries(const KernelVersion& a, const KernelVersion& b) {
  return a.major == b.major && a.minor == b.minor;
}

// Debian's own version of the kernel package in /proc/version: the "Debian
// 6.1.55-1" after the build number ("#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1
// (2023-09-29)"). Only after the '#': the compiler's "(Debian 12.2.0-14)"
// comes before it.
std::optional<std::string_view> DebianPackageVersion(std::string_view proc_version) {
  const size_t hash = proc_version.rfind('#');
  if (hash == std::string_view::npos) return std::nullopt;
  constexpr std::string_view kMarker = "Debian ";
  const size_t at = proc_version.find(kMarker, hash);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t start = at + kMarker.size();
  size_t end = start;
  while (end < proc_version.size() && proc_version[end] != ' ' && proc_version[end] != ')') ++end;
  if (start == end || !IsDigit(proc_version[start])) return std::nullopt;
  return proc_version.substr(start, end - start);
}

// "6.1.0-13-amd64", "5.15.0-91-generic", "4.18.0-348.el8": x.y.0 followed by
// a package revision. Such a name says nothing of the stable patch level.
bool HidesPatchLevel(const KernelVersion& version) {
  return version.patch == 0 && version.rc == 0 && version.suffix.size() >= 2 &&
         version.suffix[0] == '-' && IsDigit(version.suffix[1]);
}

struct Interval {
  KernelVersion lowest;  // inclusive
  KernelVersion below;   // exclusive
};

// The affected releases of `bug` within the series of `series`: each range
// cut at the series' backport.
std::vector<Interval> AffectedIn(const KnownBug& bug, const KernelVersion& series) {
  std::optional<KernelVersion> backport;
  for (const std::string_view text : bug.backports) {
    const std::optional<KernelVersion> parsed = ParseTableRelease(text);
    if (parsed && SameSeries(*parsed, series) && (!backport || Less(*parsed, *backport))) {
      backport = parsed;
    }
  }
  std::vector<Interval> intervals;
  for (const ReleaseRange& range : bug.affected) {
    const std::optional<KernelVersion> introduced = ParseTableRelease(range.introduced);
    const std::optional<KernelVersion> fixed = ParseTableRelease(range.fixed);
    if (!introduced || !fixed) continue;  // the table test refuses such entries
    KernelVersion below = *fixed;
    if (backport && Less(*backport, below)) below = *backport;
    if (Less(*introduced, below)) intervals.push_back({.lowest = *introduced, .below = below});
  }
  return intervals;
}

}  // namespace

std::optional<KernelVersion> ParseTableRelease(std::string_view release) {
  std::optional<KernelVersion> version = ParseKernelVersion(release);
  if (!version || !version->suffix.empty()) return std::nullopt;
  return version;
}

std::optional<UpstreamVersion> ResolveUpstreamVersion(std::string_view release,
                                                      std::string_view proc_version) {
  const std::optional<KernelVersion> named = ParseKernelVersion(release);
  if (const std::optional<std::string_view> debian = DebianPackageVersion(proc_version)) {
    // Debian spells release candidates "6.7~rc3-1~exp1".
    const std::string spelled = absl::StrReplaceAll(std::string(*debian), {{"~rc", "-rc"}});
    const std::optional<KernelVersion> parsed = ParseKernelVersion(spelled);
    // A package version of another series than the release is not this kernel's.
    if (parsed && (!named || SameSeries(*parsed, *named))) {
      const KernelVersion version = Upstream(*parsed);
      return UpstreamVersion{
          .lowest = version,
          .highest = version,
          .exact = true,
          .described = absl::StrCat(Format(version), " (Debian ", std::string(*debian),
                                    " in /proc/version)"),
      };
    }
  }
  if (!named) return std::nullopt;
  if (HidesPatchLevel(*named)) {
    KernelVersion lowest = Upstream(*named);
    KernelVersion highest = lowest;
    highest.patch = INT_MAX;
    return UpstreamVersion{
        .lowest = lowest,
        .highest = highest,
        .exact = false,
        .described = absl::StrCat(named->Series(), ".x (the release ", std::string(release),
                                  " hides the patch level)"),
    };
  }
  const KernelVersion version = Upstream(*named);
  const std::string formatted = Format(version);
  return UpstreamVersion{
      .lowest = version,
      .highest = version,
      .exact = true,
      .described = formatted == release
                       ? formatted
                       : absl::StrCat(formatted, " (the release ", std::string(release), ")"),
  };
}

Coverage AffectedCoverage(const KnownBug& bug, const UpstreamVersion& version) {
  Coverage coverage = Coverage::kNone;
  for (const Interval& interval : AffectedIn(bug, version.lowest)) {
    const bool starts_by = !Less(version.highest, interval.lowest);  // lowest <= highest
    const bool ends_after = Less(version.lowest, interval.below);
    if (!starts_by || !ends_after) continue;
    if (!Less(version.lowest, interval.lowest) && Less(version.highest, interval.below)) {
      return Coverage::kAll;
    }
    coverage = Coverage::kSome;
  }
  return coverage;
}

std::string DescribeAffectedRange(const KnownBug& bug, const UpstreamVersion& version) {
  for (const Interval& interval : AffectedIn(bug, version.lowest)) {
    if (!Less(version.highest, interval.lowest) && Less(version.lowest, interval.below)) {
      return absl::StrCat("[", Format(interval.lowest), ", ", Format(interval.below), ")");
    }
  }
  return "";
}

}  // namespace fscanary::knownbugs
