#pragma once
// Opens a scratch target (a file or a raw block device) for fscanary, and only
// if it is fscanary's: a file it creates now, or a target carrying its label
// and no other owner's signature (a device also cleared by the guard). A
// target that is not yet fscanary's is taken over once, on purpose
// (take_over.h). Every refusal names the target and the reason.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/block/state/block_state.h"
#include "checkers/block/target/label.h"
#include "io/posix.h"

namespace fscanary::target {

// The geometry the state file of a target so labelled records.
inline state::TargetGeometry GeometryOf(const Label& label) {
  return {.target_id = label.target_id,
          .block_size = label.block_size,
          .data_start = label.data_start,
          .block_count = label.block_count()};
}

struct ScratchTarget {
  std::string path;
  // Opened once, O_DIRECT (and O_EXCL for a block device to write); the label
  // was read and checked through it, and every read and write of the target
  // goes through it. A second descriptor comes from Reopen only.
  io::UniqueFd fd;
  bool is_block_device = false;
  Label label;
  // Which file `fd` is: st_dev/st_ino for a file, st_rdev for a device.
  dev_t file_system = 0;
  ino_t inode = 0;
  dev_t device = 0;

  state::TargetGeometry geometry() const { return GeometryOf(label); }
};

// A second descriptor on `target` (say, a buffered one), opened by its path
// with `flags` the way the first was (no symbolic link for a file) and checked
// to be the same file (device and inode) or device (st_rdev): Aborted naming
// the path when the path has been swapped since the target was opened.
absl::StatusOr<io::UniqueFd> Reopen(const ScratchTarget& target, int flags);

struct WriteTargetOptions {
  std::string path;
  std::string state_dir;
  // Required to create a file target; must match an existing target's label.
  std::optional<uint64_t> size;
  // Defaults to the label's for a labelled target, else 4096.
  std::optional<uint32_t> block_size;
  // Tests only: runs once the label has been read and checked, before the
  // state is opened and anything is written: where a swapped path would
  // matter if the target were opened again.
  std::function<void()> after_label_check;
};

struct WritableTarget {
  ScratchTarget target;
  state::BlockStateFile state;
  bool created = false;  // labelled just now
};

// Creates a missing file target (under a hidden name in its directory, named
// `path` only once its state exists and its label is durable: a crash meanwhile
// leaves no unlabelled file at `path`), or opens a labelled one
// and its state. Refuses everything else, and never writes to what it
// refuses: a file or device without a valid label (the message names
// `fscanary-agent take-over`), one with another owner's signature anywhere
// the probe looks even under an fscanary label, a device in use, a path
// through a symbolic link to a file.
absl::StatusOr<WritableTarget> OpenForWrite(const WriteTargetOptions& options);

// Opens a labelled target read-only, and its state (shared lock), with the
// same refusals (a device in use excepted: reading it harms nothing).
struct ReadableTarget {
  ScratchTarget target;
  state::BlockStateFile state;
};
absl::StatusOr<ReadableTarget> OpenForVerify(const std::string& path, const std::string& state_dir);

}  // namespace fscanary::target
