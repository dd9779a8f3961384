#pragma once
// One record of the kernel log as /dev/kmsg hands it out, parsed. Pure: text
// in, record out, so it is tested with literal records.
//
// The format (Documentation/ABI/testing/dev-kmsg), one record per read():
//
//   prio,seq,ts_usec,flags[,more...];message\n
//    KEY=value\n            (zero or more properties, each line led by a space)
//
// prio is facility * 8 + level; seq counts records since boot (a gap means
// records were overwritten before they were read); ts_usec is the kernel clock
// in microseconds since boot; flags is '-' or, for a fragment of a continued
// line, 'c' (first fragment) or '+'. Bytes below 0x20, above 0x7e and the
// backslash itself arrive escaped as \xNN.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::kmsg {

// Syslog facilities the watcher cares about: the kernel's own lines, and lines
// that user space wrote to /dev/kmsg (the kernel forces those to "user" at the
// least; it never lets user space claim facility 0).
inline constexpr int kFacilityKernel = 0;
inline constexpr int kFacilityUser = 1;

struct KmsgRecord {
  int facility = 0;
  // Syslog level: 0 emergency, 1 alert, 2 critical, 3 error, 4 warning,
  // 5 notice, 6 info, 7 debug.
  int level = 0;
  uint64_t sequence = 0;
  uint64_t timestamp_usec = 0;
  // A fragment of a line printed in pieces (pr_cont) that the kernel could not
  // merge into one record.
  bool continuation = false;
  // Unescaped: the bytes the kernel printed, which need not be valid UTF-8.
  std::string message;
  // " SUBSYSTEM=block", " DEVICE=b8:0" and the like, in order.
  std::vector<std::pair<std::string, std::string>> properties;

  // The value of property `key`, if the record carries it.
  std::optional<std::string> Property(std::string_view key) const;
};

// InvalidArgument, quoting the start of the record, when `raw` is not a
// record: no ';', fewer than four header fields, non-numeric prio, seq or
// timestamp, or a property line not led by a space. Never crashes on any input.
absl::StatusOr<KmsgRecord> ParseKmsgRecord(std::string_view raw);

// Undoes the kernel's \xNN escapes; a backslash not followed by x and two hex
// digits is kept as it is.
std::string UnescapeKmsg(std::string_view escaped);

}  // namespace fscanary::kmsg
