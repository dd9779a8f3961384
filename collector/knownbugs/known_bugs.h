#pragma once
// The curated table of known kernel and storage-stack corruption bugs: for each,
// the kernel releases it is in, the host conditions it needs, the commit that
// fixed it and the public sources it was checked against. docs/KNOWN-BUGS.md
// says how an entry is added; the rule is: no source, no entry.
//
// The table is C++ data (known_bugs_table.cc), not a file read at run time: it
// is compiled in, so there is no install path to find and no load error to
// report at startup; a change to it is a reviewed diff; and the test
// tests/collector/knownbugs/known_bugs_table_test.cc checks every entry's form
// (ids, hex commits, parsable and ordered releases, at least one source).

#include <span>
#include <string_view>
#include <vector>

namespace fscanary::knownbugs {

// Releases [introduced, fixed) in upstream numbering ("4.19-rc1", "6.1.66").
// `fixed` may lie in the same stable series as `introduced` (a regression that
// only a stable release carried).
struct ReleaseRange {
  std::string_view introduced;
  std::string_view fixed;
};

// One condition a host must meet for the bug to bite. With an `attribute`
// (a host epoch attribute as fleet::EpochAttributes names it: blk_mq,
// scheduler, driver, fs, mount_options, CONFIG_...), the host meets it when the
// attribute's value is one of `any_of`; it does not when the value is one of
// `none_of`, or when `none_of` is empty and the value is not in `any_of`;
// otherwise (a value neither list names, or the host did not report the
// attribute) it is unknown. Without an attribute the condition is about
// something no host epoch records yet (a workload, an on-disk state): always
// unknown, and a match that rests on it says "possibly".
struct Condition {
  std::string_view attribute;
  std::vector<std::string_view> any_of;
  std::vector<std::string_view> none_of;
  // What the condition is, for people: "the disk's I/O scheduler is none".
  std::string_view text;
};

// Where the entry was checked: kind is "commit", "stable release",
// "bug tracker", "mailing list" or "article"; reference is what to look up.
struct Source {
  std::string_view kind;
  std::string_view reference;
};

struct KnownBug {
  // Short and stable: names the bug in explanations and metric labels.
  std::string_view id;
  // One line.
  std::string_view title;
  std::vector<ReleaseRange> affected;
  // The first fixed release of each stable series that took the fix (a
  // version inside an affected range but at or after its series' backport is
  // not affected). A series not listed is treated as never fixed.
  std::vector<std::string_view> backports;
  std::vector<Condition> conditions;
  // 12 or more hex digits of the upstream commit that fixed it.
  std::string_view fix_commit;
  // The commit that introduced it, when a source names it; else empty.
  std::string_view introduced_by;
  std::vector<Source> sources;
  // How the entry was verified against its sources.
  std::string_view verified;
};

// The table, in no particular order. Built once; the reference stays valid for
// the life of the process. Thread-safe.
std::span<const KnownBug> KnownBugs();

}  // namespace fscanary::knownbugs
