#include "checkers/target/scratch_target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkers/block/format.h"
#include "checkers/guard/device_inspection.h"
#include "checkers/guard/scratch_decision.h"
#include "common/status.h"
#include "io/aligned_buffer.h"

namespace fscanary::target {
namespace {

enum class PathKind { kMissing, kRegularFile, kBlockDevice };

absl::StatusOr<PathKind> KindOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return PathKind::kMissing;
    return ErrnoToStatus(errno, "stat " + path);
  }
  if (S_ISREG(st.st_mode)) return PathKind::kRegularFile;
  if (S_ISBLK(st.st_mode)) return PathKind::kBlockDevice;
  return absl::InvalidArgumentError(path + " is neither a regular file nor a block device");
}

absl::StatusOr<LabelReading> ReadLabel(int fd, const std::string& path) {
  io::AlignedBuffer buffer(kLabelSize);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd, buffer.span(), 0, path));
  if (got < kLabelSize) return LabelReading{};
  return ParseLabel(buffer.span());
}

absl::Status WriteLabel(int fd, const Label& label, const std::string& path) {
  io::AlignedBuffer buffer(kLabelSize);
  const std::vector<std::byte> encoded = EncodeLabel(label);
  std::copy(encoded.begin(), encoded.end(), buffer.data());
  RETURN_IF_ERROR(io::WriteAll(fd, buffer.span(), 0, path));
  return io::DataSync(fd, path);
}

// Geometry of a target being labelled now.
absl::StatusOr<Label> NewLabel(const std::string& path, uint64_t size, uint32_t block_size) {
  RETURN_IF_ERROR(block::ValidateBlockSize(block_size));
  Label label{.target_id = 0,
              .block_size = block_size,
              .data_start = std::max<uint64_t>(kLabelSize, block_size),
              .created_ns = io::WallClockNanos()};
  if (size < label.data_start + block_size) {
    return absl::InvalidArgumentError(absl::StrCat("--size ", size, " of ", path,
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

absl::Status CheckRequestMatchesLabel(const WriteTargetOptions& options, const Label& label) {
  if (options.size && *options.size != label.declared_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is an fscanary target of %d bytes; --size %d differs (pass --take-over to relabel it)",
        options.path, label.declared_size, *options.size));
  }
  if (options.block_size && *options.block_size != label.block_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is an fscanary target with %d-byte blocks; --block-size %d differs (pass "
        "--take-over to relabel it)",
        options.path, label.block_size, *options.block_size));
  }
  return absl::OkStatus();
}

struct ClearedDevice {
  uint64_t declared_size = 0;
  dev_t device = 0;
};

// The size a device target gets, after the guard has cleared the device.
absl::StatusOr<ClearedDevice> ClearDevice(const WriteTargetOptions& options, bool has_label,
                                          std::optional<uint64_t> size) {
  ASSIGN_OR_RETURN(const guard::DeviceInspection inspection,
                   guard::InspectBlockDevice(options.path));
  RETURN_IF_ERROR(guard::DecideScratchUse(
      inspection,
      {.take_over_foreign_signature = options.take_over, .device_has_fscanary_label = has_label}));
  const uint64_t declared = size.value_or(inspection.size_bytes);
  RETURN_IF_ERROR(guard::CheckWithinDevice(inspection, declared));
  return ClearedDevice{.declared_size = declared,
                       .device = makedev(inspection.number.major, inspection.number.minor)};
}

// The device opened for writing must be the one the guard cleared, even if the
// path was re-pointed in between.
absl::StatusOr<io::UniqueFd> OpenClearedDevice(const std::string& path, int flags,
                                               const ClearedDevice& cleared) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, flags | O_EXCL));
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd.get(), path));
  if (!info.is_block_device || info.device != cleared.device) {
    return absl::AbortedError(path + " changed while it was being checked; not writing to it");
  }
  return fd;
}

}  // namespace

absl::StatusOr<WritableTarget> OpenForWrite(const WriteTargetOptions& options) {
  ASSIGN_OR_RETURN(const PathKind kind, KindOf(options.path));
  const bool device = kind == PathKind::kBlockDevice;

  // Look at what is there before opening it for writing.
  LabelReading existing;
  uint64_t existing_size = 0;
  if (kind != PathKind::kMissing) {
    ASSIGN_OR_RETURN(io::UniqueFd probe, io::Open(options.path, O_RDONLY | O_DIRECT));
    ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(probe.get(), options.path));
    existing_size = info.size;
    ASSIGN_OR_RETURN(existing, ReadLabel(probe.get(), options.path));
  }
  const bool ours = existing.state == LabelState::kValid;
  if (existing.state == LabelState::kDamaged && !options.take_over) {
    return absl::FailedPreconditionError(
        options.path + " carries a damaged fscanary label; pass --take-over to relabel it");
  }
  if (kind == PathKind::kRegularFile && !ours && existing_size > 0 && !options.take_over) {
    return absl::FailedPreconditionError(
        options.path +
        " exists, is not empty and carries no fscanary label; refusing to "
        "overwrite it (pass --take-over to use it as scratch)");
  }

  std::optional<uint64_t> size = options.size;
  ClearedDevice cleared;
  if (device) {
    ASSIGN_OR_RETURN(cleared, ClearDevice(options, ours,
                                          ours && !options.take_over
                                              ? std::optional(existing.label.declared_size)
                                              : options.size));
    if (!ours || options.take_over) size = cleared.declared_size;
  } else if (!size && (!ours || options.take_over)) {
    return absl::InvalidArgumentError("--size is required to create the file target " +
                                      options.path);
  }

  if (ours && !options.take_over) {
    RETURN_IF_ERROR(CheckRequestMatchesLabel(options, existing.label));
    auto state = state::BlockStateFile::Open(options.state_dir, existing.label.target_id,
                                             /*writable=*/true);
    if (absl::IsNotFound(state.status())) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s is fscanary target %016x, but %s holds no state for it (another --state-dir?); "
          "pass --take-over to start it afresh",
          options.path, existing.label.target_id, options.state_dir));
    }
    if (!state.ok()) return state.status();
    ASSIGN_OR_RETURN(io::UniqueFd fd,
                     device ? OpenClearedDevice(options.path, O_RDWR | O_DIRECT, cleared)
                            : io::Open(options.path, O_RDWR | O_DIRECT));
    return WritableTarget{.target = {.path = options.path,
                                     .fd = std::move(fd),
                                     .is_block_device = device,
                                     .label = existing.label},
                          .state = *std::move(state)};
  }

  ASSIGN_OR_RETURN(
      const Label label,
      NewLabel(options.path, *size, options.block_size.value_or(block::kDefaultBlockSize)));
  const int create_flags = kind == PathKind::kMissing ? O_CREAT | O_EXCL : 0;
  ASSIGN_OR_RETURN(io::UniqueFd fd,
                   device ? OpenClearedDevice(options.path, O_RDWR | O_DIRECT, cleared)
                          : io::Open(options.path, O_RDWR | O_DIRECT | create_flags));
  if (!device) RETURN_IF_ERROR(io::Preallocate(fd.get(), label.declared_size, options.path));
  ScratchTarget target{
      .path = options.path, .fd = std::move(fd), .is_block_device = device, .label = label};
  ASSIGN_OR_RETURN(state::BlockStateFile state,
                   state::BlockStateFile::Create(options.state_dir, target.geometry()));
  RETURN_IF_ERROR(WriteLabel(target.fd.get(), label, options.path));
  return WritableTarget{.target = std::move(target), .state = std::move(state), .created = true};
}

absl::StatusOr<ReadableTarget> OpenForVerify(const std::string& path,
                                             const std::string& state_dir) {
  ASSIGN_OR_RETURN(const PathKind kind, KindOf(path));
  if (kind == PathKind::kMissing) return absl::NotFoundError(path + " does not exist");
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDONLY | O_DIRECT));
  ASSIGN_OR_RETURN(const LabelReading reading, ReadLabel(fd.get(), path));
  if (reading.state == LabelState::kAbsent) {
    return absl::FailedPreconditionError(
        path + " carries no fscanary label (was it written with `fscanary-agent write`?)");
  }
  if (reading.state == LabelState::kDamaged) {
    return absl::DataLossError(path + " carries a damaged fscanary label");
  }
  // A target shorter than its label (a truncated file) is not an error here:
  // the blocks past its end read short and are reported as such.
  auto state = state::BlockStateFile::Open(state_dir, reading.label.target_id, /*writable=*/false);
  if (absl::IsNotFound(state.status())) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s holds no state for fscanary target %016x (%s)", state_dir,
                        reading.label.target_id, path));
  }
  if (!state.ok()) return state.status();
  ScratchTarget target{.path = path,
                       .fd = std::move(fd),
                       .is_block_device = kind == PathKind::kBlockDevice,
                       .label = reading.label};
  if (state->geometry() != target.geometry()) {
    return absl::DataLossError(
        absl::StrFormat("the state of target %016x in %s does not match the geometry of %s's label",
                        reading.label.target_id, state_dir, path));
  }
  return ReadableTarget{.target = std::move(target), .state = *std::move(state)};
}

}  // namespace fscanary::target
