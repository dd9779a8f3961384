#pragma once
// The manifest: the metadata tree as it should be, durable in the checker's
// state dir as a snapshot plus an append-only journal of the operations made
// since. Crash-consistent: an operation's INTENT record is durable before any
// syscall of it, so after a crash the journal names the one operation that
// may be half known (its outcome record missing); the checker resolves it by
// looking at the disk (recovery.h).
//
// Files in the state dir:
//   metadata.snapshot  one frame: "FSCMSNAP", u32 version (2; 1 is read as
//                      a model with nothing flagged), u64 tree id, u64 seed,
//                      the model (manifest_codec.h)
//   metadata.journal   frames: a HEADER, then INTENT / DONE / NOT_DONE records
//     HEADER    u8 1, "FSCMJRNL", u32 version (1), u64 tree id, u64 the seq
//               of the snapshot it continues
//     INTENT    u8 2, the operation (manifest_codec.h)
//     DONE      u8 3, u64 seq: the operation's visible syscall succeeded
//     NOT_DONE  u8 4, u64 seq: it failed or was never made
//     FLAG      u8 5, u64 node id: a persistent finding named this node; it
//               is never changed again (older checkers refuse the journal
//               with "unknown record type 5")
//   metadata.lock      flock'd by the checker that has the tree open
// Frame: u32 payload length, u64 XXH3-64 of the payload seeded with its
// length, the payload. All little-endian.
//
// Compaction writes a new snapshot (temp file, fdatasync, rename, directory
// fsync), then a new journal holding only its header the same way; a crash
// between the two leaves the old journal, whose records the snapshot already
// holds (its header names an older snapshot seq), so they are skipped.
//
// A frame that is cut short at the end of the journal, or the journal's last
// frame failing its checksum, is a torn append: its operation never started
// (nothing is done before the INTENT is durable) and it is ignored. A bad
// frame with valid-looking bytes after it is damage: loading fails with
// DataLoss naming the file and the offset, never guessing what was meant.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/metadata/tree_model.h"
#include "io/posix.h"

namespace fscanary::metadata {

inline constexpr std::string_view kSnapshotFileName = "metadata.snapshot";
inline constexpr std::string_view kJournalFileName = "metadata.journal";
inline constexpr std::string_view kLockFileName = "metadata.lock";

// A file of frames, split: the payload views point into the file's bytes.
struct FrameScan {
  std::vector<std::string_view> payloads;
  // Byte offset of each frame in the file.
  std::vector<uint64_t> offsets;
  // Bytes up to the end of the last intact frame.
  uint64_t intact_bytes = 0;
  bool torn_tail = false;
};
std::string EncodeFrame(std::string_view payload);
// DataLoss "<path>: damaged record at offset N ..." for damage before the end.
absl::StatusOr<FrameScan> ScanFrames(std::string_view file, const std::string& path);

struct Manifest {
  uint64_t tree_id = 0;
  uint64_t seed = 0;
  // The snapshot with every finished journaled operation applied.
  TreeModel model;
  // The journaled operation whose outcome is not known (seq model.seq + 1).
  std::optional<Op> pending;
  uint64_t journal_records = 0;
  bool torn_tail = false;
};

// NotFound when the state dir holds no snapshot; DataLoss naming the file
// and offset when the snapshot or journal is damaged or does not fit.
absl::StatusOr<Manifest> LoadManifest(const std::string& state_dir);

// Appends to the journal. Not thread-safe.
class ManifestJournal {
 public:
  // Compacts: a snapshot of `model` (which must have no pending operation),
  // then an empty journal after it, open for appending.
  static absl::StatusOr<std::unique_ptr<ManifestJournal>> Rewrite(const std::string& state_dir,
                                                                  uint64_t tree_id, uint64_t seed,
                                                                  const TreeModel& model);
  // Durable (fdatasync) when it returns OK: only then may the op start.
  absl::Status AppendIntent(const Op& op);
  // Written, not synced: it becomes durable with the next intent, and a lost
  // one is resolved from the disk like a crash.
  absl::Status AppendOutcome(uint64_t seq, bool done);
  // Durable when it returns OK.
  absl::Status AppendFlag(uint64_t node);

  uint64_t bytes() const { return end_; }
  uint64_t records() const { return records_; }

 private:
  ManifestJournal(std::string path, io::UniqueFd fd, uint64_t end)
      : path_(std::move(path)), fd_(std::move(fd)), end_(end) {}
  absl::Status Append(std::string_view payload, bool sync);

  std::string path_;
  io::UniqueFd fd_;
  uint64_t end_ = 0;
  uint64_t records_ = 0;
  // Set when an append failed part way: the end of the file is unknown.
  absl::Status broken_;
};

}  // namespace fscanary::metadata
