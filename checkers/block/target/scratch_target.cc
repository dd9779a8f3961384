#include "checkers/block/target/scratch_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkers/block/format/format.h"
#include "checkers/block/guard/scratch_decision.h"
#include "checkers/block/target/target_file.h"
#include "common/status.h"

namespace fscanary::target {
namespace {

using guard::TakeOverHint;

absl::Status CheckRequestMatchesLabel(const WriteTargetOptions& options, const Label& label) {
  if (options.size && *options.size != label.declared_size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s is an fscanary target of %d bytes; size %d differs (%s)", options.path,
                        label.declared_size, *options.size, TakeOverHint(options.path)));
  }
  if (options.block_size && *options.block_size != label.block_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is an fscanary target with %d-byte blocks; block size %d differs (%s)", options.path,
        label.block_size, *options.block_size, TakeOverHint(options.path)));
  }
  return absl::OkStatus();
}

ScratchTarget MakeTarget(const std::string& path, OpenedPath opened, const Label& label) {
  return {.path = path,
          .fd = std::move(opened.fd),
          .is_block_device = opened.info.is_block_device,
          .label = label,
          .file_system = opened.info.file_system,
          .inode = opened.info.inode,
          .device = opened.info.device};
}

constexpr int kWriteFlags = O_RDWR | O_DIRECT;

// What an existing target must be before fscanary uses it: not in use (a
// device, when writing), no other owner's signature, a valid label that fits.
// Reads only, through `opened` (a device to write is claimed once the guard
// has cleared it).
absl::StatusOr<Label> CheckExisting(const std::string& path, OpenedPath& opened, bool writing) {
  if (opened.info.is_block_device) {
    ASSIGN_OR_RETURN(const guard::DeviceInspection inspection, InspectOpenDevice(path, opened));
    if (writing) {
      RETURN_IF_ERROR(guard::DecideScratchUse(inspection, {}));
      RETURN_IF_ERROR(ClaimDevice(path, kWriteFlags, opened));
    } else if (!inspection.signatures.empty()) {
      return absl::FailedPreconditionError(
          guard::SignaturesReason(inspection.DisplayName(), inspection.signatures) +
          "; not verifying it: its blocks may be another owner's data");
    }
  } else {
    ASSIGN_OR_RETURN(const std::vector<guard::Signature> signatures,
                     ReadKnownSignatures(opened.fd.get(), opened.info.size, path));
    if (!signatures.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          guard::SignaturesReason(path, signatures), "; ",
          writing ? TakeOverHint(path) : "not verifying it: it may be another owner's data"));
    }
  }
  ASSIGN_OR_RETURN(const LabelReading reading, ReadLabel(opened.fd.get(), path));
  if (reading.state == LabelState::kAbsent) {
    return absl::FailedPreconditionError(
        writing ? absl::StrCat(path,
                               " carries no fscanary label; fscanary writes only to a file it "
                               "creates or to a target taken over on purpose: ",
                               TakeOverHint(path))
                : absl::StrCat(path, " carries no fscanary label"));
  }
  if (reading.state == LabelState::kDamaged) {
    const std::string message =
        absl::StrCat(path, " carries a damaged fscanary label (version ", reading.version, ")");
    return writing ? absl::FailedPreconditionError(absl::StrCat(message, "; ", TakeOverHint(path)))
                   : absl::DataLossError(message);
  }
  if (opened.info.is_block_device && reading.label.declared_size > opened.info.size) {
    return absl::OutOfRangeError(
        absl::StrFormat("%s: its fscanary label declares %d bytes, but the device holds %d", path,
                        reading.label.declared_size, opened.info.size));
  }
  return reading.label;
}

}  // namespace

absl::StatusOr<Label> NewLabel(const std::string& path, uint64_t size, uint32_t block_size) {
  RETURN_IF_ERROR(block::ValidateBlockSize(block_size));
  Label label{.target_id = 0,
              .block_size = block_size,
              .data_start = std::max<uint64_t>(kLabelSize, block_size),
              .created_ns = io::WallClockNanos()};
  if (size < label.data_start + block_size) {
    return absl::InvalidArgumentError(absl::StrCat("size ", size, " of ", path,
                                                   " is too small: the label and one block need ",
                                                   label.data_start + block_size, " bytes"));
  }
  // Whole blocks only: nothing is written past the last one.
  label.declared_size = label.data_start + (size - label.data_start) / block_size * block_size;
  do {
    label.target_id = io::RandomU64();
  } while (label.target_id == 0);
  return label;
}

namespace {

// The name a file target has while it is being made: in its directory,
// hidden, and one per target path, so that a leftover is found again.
std::string NameWhileCreating(const std::string& path) {
  const std::filesystem::path final_path(path);
  const std::filesystem::path directory =
      final_path.has_parent_path() ? final_path.parent_path() : std::filesystem::path(".");
  return (directory / absl::StrCat(".", final_path.filename().string(), ".fscanary-new")).string();
}

// A new file target is made under NameWhileCreating and gets `path` only once
// its state exists and its label is durable, so a power cut while it is being
// made leaves no unlabelled file at `path` (which every later start would
// refuse as not the agent's), only the hidden name, replaced at the next
// start.
absl::StatusOr<WritableTarget> CreateFileTarget(const WriteTargetOptions& options) {
  ASSIGN_OR_RETURN(
      const Label label,
      NewLabel(options.path, *options.size, options.block_size.value_or(block::kDefaultBlockSize)));
  const std::string creating = NameWhileCreating(options.path);
  absl::StatusOr<OpenedPath> opened = OpenPath(creating, kWriteFlags, /*create=*/true);
  if (opened.ok() && !opened->created) {
    // Left by a crash during an earlier creation: never labelled, never
    // named, the agent's own. Anything else there (not a regular file, or
    // another user's) is not touched.
    if (!opened->info.is_regular_file || opened->info.owner != ::geteuid()) {
      return absl::FailedPreconditionError(
          absl::StrCat(creating, " (the name fscanary creates ", options.path,
                       " under) is not a regular file of this user; "
                       "remove it or choose another path"));
    }
    RETURN_IF_ERROR(io::Unlink(creating));
    opened = OpenPath(creating, kWriteFlags, /*create=*/true);
  }
  if (!opened.ok()) return opened.status();
  if (!opened->created) {
    return absl::AbortedError(absl::StrCat(creating, " reappeared while ", options.path,
                                           " was being created; not using it"));
  }
  // From here until it is named, a failure removes the half-made file (it
  // may be the target's full size).
  struct RemoveUnlessNamed {
    const std::string& path;
    bool named = false;
    ~RemoveUnlessNamed() {
      if (!named) (void)io::Unlink(path);
    }
  } half_made{creating};
  const auto named_for = [&](const absl::Status& status) {
    return WithMessage(status, absl::StrCat("creating ", options.path, ": ", status.message()));
  };
  if (absl::Status allocated = io::Preallocate(opened->fd.get(), label.declared_size, creating);
      !allocated.ok()) {
    return named_for(allocated);
  }
  if (options.after_label_check) options.after_label_check();
  ScratchTarget target = MakeTarget(options.path, *std::move(opened), label);
  // The state first: a crash before the label leaves an orphan state file.
  absl::StatusOr<state::BlockStateFile> state =
      state::BlockStateFile::Create(options.state_dir, target.geometry());
  if (!state.ok()) return named_for(state.status());
  if (absl::Status labelled = WriteLabel(target.fd.get(), label, creating); !labelled.ok()) {
    return named_for(labelled);
  }
  if (absl::Status renamed = io::RenameNoReplace(creating, options.path); !renamed.ok()) {
    if (absl::IsAlreadyExists(renamed)) {
      return absl::AbortedError(
          absl::StrCat(options.path, " appeared while fscanary was creating it; not using it"));
    }
    return named_for(renamed);
  }
  half_made.named = true;
  // What now has the name must be the file made here: another creator of the
  // same path may have replaced the hidden file meanwhile.
  const absl::StatusOr<OpenedPath> named = OpenPath(options.path, O_RDONLY, /*create=*/false);
  if (!named.ok() || named->info.file_system != target.file_system ||
      named->info.inode != target.inode) {
    return absl::AbortedError(
        absl::StrCat(options.path,
                     " is not the file fscanary just created (created twice at once?); not "
                     "using it"));
  }
  RETURN_IF_ERROR(io::SyncDirectory(std::filesystem::path(creating).parent_path().string()));
  return WritableTarget{.target = std::move(target), .state = *std::move(state), .created = true};
}

}  // namespace

absl::StatusOr<io::UniqueFd> Reopen(const ScratchTarget& target, int flags) {
  absl::StatusOr<OpenedPath> opened = OpenPath(target.path, flags, /*create=*/false);
  const bool same =
      opened.ok() &&
      (target.is_block_device
           ? opened->info.is_block_device && opened->info.device == target.device
           : opened->info.is_regular_file && opened->info.file_system == target.file_system &&
                 opened->info.inode == target.inode);
  if (same) return std::move(opened->fd);
  const std::string why =
      opened.ok() ? "it is another file now" : std::string(opened.status().message());
  return absl::AbortedError(absl::StrCat(target.path, " is no longer the target fscanary checked (",
                                         why, "); not using it"));
}

absl::StatusOr<WritableTarget> OpenForWrite(const WriteTargetOptions& options) {
  absl::StatusOr<OpenedPath> existing = OpenPath(options.path, kWriteFlags, /*create=*/false);
  if (!existing.ok() && absl::IsNotFound(existing.status())) {
    if (!options.size.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--size is required to create the file target ", options.path));
    }
    return CreateFileTarget(options);
  }
  if (!existing.ok()) return existing.status();
  OpenedPath opened = *std::move(existing);

  ASSIGN_OR_RETURN(const Label label, CheckExisting(options.path, opened, /*writing=*/true));
  RETURN_IF_ERROR(CheckRequestMatchesLabel(options, label));
  if (options.after_label_check) options.after_label_check();
  auto state = state::BlockStateFile::Open(options.state_dir, label.target_id, /*writable=*/true);
  if (absl::IsNotFound(state.status())) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is fscanary target %016x, but %s holds no state for it (another "
        "state directory?); %s",
        options.path, label.target_id, options.state_dir, TakeOverHint(options.path)));
  }
  if (!state.ok()) return state.status();
  return WritableTarget{.target = MakeTarget(options.path, std::move(opened), label),
                        .state = *std::move(state)};
}

absl::StatusOr<ReadableTarget> OpenForVerify(const std::string& path,
                                             const std::string& state_dir) {
  absl::StatusOr<OpenedPath> found = OpenPath(path, O_RDONLY | O_DIRECT, /*create=*/false);
  if (!found.ok() && absl::IsNotFound(found.status())) {
    return absl::NotFoundError(path + " does not exist");
  }
  if (!found.ok()) return found.status();
  OpenedPath opened = *std::move(found);
  ASSIGN_OR_RETURN(const Label label, CheckExisting(path, opened, /*writing=*/false));
  // A target shorter than its label (a truncated file) is not an error here:
  // the blocks past its end read short and are reported as such.
  auto state = state::BlockStateFile::Open(state_dir, label.target_id, /*writable=*/false);
  if (absl::IsNotFound(state.status())) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s holds no state for fscanary target %016x (%s)", state_dir, label.target_id, path));
  }
  if (!state.ok()) return state.status();
  ScratchTarget target = MakeTarget(path, std::move(opened), label);
  if (state->geometry() != target.geometry()) {
    return absl::DataLossError(
        absl::StrFormat("the state of target %016x in %s does not match the geometry of %s's label",
                        label.target_id, state_dir, path));
  }
  return ReadableTarget{.target = std::move(target), .state = *std::move(state)};
}

}  // namespace fscanary::target
