#pragma once
// Where the kernel log watcher stands, kept durable across agent restarts so
// that no line is reported twice: the boot the position belongs to and the
// first sequence number not yet handled.
//
// The state file is four text lines, the last a checksum of the first three:
//
//   fscanary-kmsg-cursor 1
//   boot_id 92460906-1840-4a18-9c8f-cca5a5c86384
//   next_sequence 408
//   checksum 1f0c9a6b2e4d8c71        (XXH3-64 of the lines above, hex)
//
// It is replaced whole (temp file, fdatasync, rename, fsync of the directory),
// so a crash leaves either the old cursor or the new one.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary::kmsg {

struct KmsgCursor {
  std::string boot_id;
  // Sequence numbers restart at 0 with every boot.
  uint64_t next_sequence = 0;
  friend bool operator==(const KmsgCursor&, const KmsgCursor&) = default;
};

std::string EncodeCursor(const KmsgCursor& cursor);
// DataLoss naming what is wrong when `text` is not a whole, intact cursor
// (torn, truncated, edited, other version).
absl::StatusOr<KmsgCursor> DecodeCursor(std::string_view text);

// NotFound when `path` does not exist; DataLoss when it holds no intact cursor;
// other codes when it cannot be read.
absl::StatusOr<KmsgCursor> LoadCursor(const std::string& path);
// Replaces the cursor at `path` atomically and durably (see above).
absl::Status StoreCursor(const std::string& path, const KmsgCursor& cursor);

// This boot's id, from /proc/sys/kernel/random/boot_id (one UUID a boot).
// FailedPrecondition when the file holds no id.
absl::StatusOr<std::string> ReadBootId(const std::string& path);

}  // namespace fscanary::kmsg
