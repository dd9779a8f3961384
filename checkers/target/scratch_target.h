#pragma once
// Opens a scratch target (a file or a raw block device) for fscanary, and only
// if it is fscanary's: a new or empty file, a labelled target, or a block
// device the guard clears. Every refusal names the target and the reason.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/state/block_state.h"
#include "checkers/target/label.h"
#include "io/posix.h"

namespace fscanary::target {

struct ScratchTarget {
  std::string path;
  // Opened O_DIRECT (and O_EXCL for block devices).
  io::UniqueFd fd;
  bool is_block_device = false;
  Label label;

  state::TargetGeometry geometry() const {
    return {.target_id = label.target_id,
            .block_size = label.block_size,
            .data_start = label.data_start,
            .block_count = label.block_count()};
  }
};

struct WriteTargetOptions {
  std::string path;
  std::string state_dir;
  // Required to create a file target; a device defaults to its whole size.
  std::optional<uint64_t> size;
  // Defaults to the label's for a labelled target, else 4096.
  std::optional<uint32_t> block_size;
  // Overwrite a target that carries something other than fscanary's data
  // (a non-empty file, a filesystem signature, a damaged or orphaned label).
  bool take_over = false;
};

struct WritableTarget {
  ScratchTarget target;
  state::BlockStateFile state;
  bool created = false;  // labelled just now
};

// Creates or recognises the target and its state (the state is created before
// the label is written, so a crash between the two leaves only an orphan state
// file). Never writes to a target it refuses.
absl::StatusOr<WritableTarget> OpenForWrite(const WriteTargetOptions& options);

// Opens a labelled target read-only, and its state (shared lock).
struct ReadableTarget {
  ScratchTarget target;
  state::BlockStateFile state;
};
absl::StatusOr<ReadableTarget> OpenForVerify(const std::string& path, const std::string& state_dir);

}  // namespace fscanary::target
