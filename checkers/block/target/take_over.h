#pragma once
// Taking a target over: the one way a file or device that is not yet
// fscanary's becomes its scratch area. A one-shot, operator-run step
// (`fscanary-agent take-over`), never a standing setting: first a plan that
// only reads and says what it found and what it would do, then, once the
// operator confirms, the doing of it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/guard/device_inspection.h"
#include "checkers/block/state/block_state.h"
#include "checkers/block/target/label.h"
#include "checkers/block/target/target_file.h"

namespace fscanary::target {

struct TakeOverOptions {
  std::string path;
  std::string state_dir;
  // Bytes to use. Default: a device's whole size; a file's label size if it
  // has a valid one, else the file's size.
  std::optional<uint64_t> size;
  // Default: the label's if valid, else 4096.
  std::optional<uint32_t> block_size;
};

// What PlanTakeOver found, and holds: the target open (O_EXCL for a device,
// so nothing mounts it meanwhile) and, for a labelled target, its state
// locked. Movable only.
struct TakeOverPlan {
  std::string path;
  std::string shown_as;  // "/dev/disk/by-id/x (/dev/sdb)" for a device
  OpenedPath opened;
  LabelReading existing;
  // The existing label's state, when the label is valid and the state there.
  std::optional<state::BlockStateFile> existing_state;
  // Every signature of another owner found (libblkid and fscanary's own look
  // for a device, fscanary's own look for a file).
  std::vector<guard::Signature> signatures;
  // Already fscanary's: a valid label, its state, no other signature, the
  // geometry asked for. Taking it over again would only lose its history.
  bool nothing_to_do = false;
  Label label;  // what would be written, unless nothing_to_do
};

// Reads only. Refuses (FailedPrecondition naming why) a device in use
// (mounted, swap, holders, partitions, read-only, held by the kernel), a path
// through a symbolic link to a file, a target a running agent holds (its
// state locked); NotFound for a missing file (a new file needs no take-over:
// the agent creates it).
absl::StatusOr<TakeOverPlan> PlanTakeOver(const TakeOverOptions& options);

// "what it found" and "what it would do", lines for the operator.
std::string DescribeTakeOver(const TakeOverPlan& plan, const std::string& state_dir);

// Does what the plan says: erases the magic of every signature found (on a
// device; a file is emptied and allocated afresh), checks nothing is found
// any more, creates the new state, then writes the label over the whole label
// region. Writes nothing for a plan with nothing_to_do.
absl::Status CarryOutTakeOver(TakeOverPlan& plan, const std::string& state_dir);

}  // namespace fscanary::target
