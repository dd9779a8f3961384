#include "checkers/block/target/take_over.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkers/block/format/format.h"
#include "checkers/block/guard/scratch_decision.h"
#include "checkers/block/target/scratch_target.h"
#include "common/status.h"
#include "io/aligned_buffer.h"

namespace fscanary::target {
namespace {

// Rounds of erasing and looking again: erasing a GPT's primary header makes
// libblkid find its backup at the end next time.
constexpr int kEraseRounds = 4;

absl::StatusOr<std::vector<guard::Signature>> LookForSignatures(const TakeOverPlan& plan) {
  if (!plan.opened.info.is_block_device) {
    return ReadKnownSignatures(plan.opened.fd.get(), plan.opened.info.size, plan.path);
  }
  ASSIGN_OR_RETURN(const guard::DeviceInspection inspection,
                   InspectOpenDevice(plan.path, plan.opened));
  return inspection.signatures;
}

// Zeroes [offset, offset + length) of the device, a 4096-byte aligned chunk
// at a time (O_DIRECT), never past its end.
absl::Status EraseBytes(const TakeOverPlan& plan, uint64_t offset, uint64_t length) {
  const uint64_t size = plan.opened.info.size;
  const uint64_t end = std::min(offset + length, size);
  io::AlignedBuffer chunk(io::kDirectIoAlignment);
  for (uint64_t at = offset / io::kDirectIoAlignment * io::kDirectIoAlignment; at < end;
       at += io::kDirectIoAlignment) {
    const uint64_t chunk_end = std::min(at + io::kDirectIoAlignment, size);
    const std::span<std::byte> bytes = chunk.span().first(chunk_end - at);
    ASSIGN_OR_RETURN(const size_t got, io::ReadAll(plan.opened.fd.get(), bytes, at, plan.path));
    if (got < bytes.size()) {
      return absl::DataLossError(absl::StrCat(plan.path, " read short at byte ", at));
    }
    const uint64_t from = std::max(offset, at);
    const uint64_t to = std::min(end, chunk_end);
    std::fill(bytes.begin() + static_cast<ptrdiff_t>(from - at),
              bytes.begin() + static_cast<ptrdiff_t>(to - at), std::byte{0});
    RETURN_IF_ERROR(io::WriteAll(plan.opened.fd.get(), bytes, at, plan.path));
  }
  return absl::OkStatus();
}

absl::Status EraseSignatures(TakeOverPlan& plan) {
  std::vector<guard::Signature> found = plan.signatures;
  for (int round = 0; round < kEraseRounds && !found.empty(); ++round) {
    for (const guard::Signature& signature : found) {
      if (signature.magic_length == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(guard::SignaturesReason(plan.shown_as, {signature}),
                         ", but libblkid did not say where its magic is; erase it yourself "
                         "(wipefs) and take the device over again"));
      }
      RETURN_IF_ERROR(EraseBytes(plan, signature.magic_offset, signature.magic_length));
    }
    RETURN_IF_ERROR(io::DataSync(plan.opened.fd.get(), plan.path));
    ASSIGN_OR_RETURN(found, LookForSignatures(plan));
  }
  if (!found.empty()) {
    return absl::InternalError(absl::StrCat(guard::SignaturesReason(plan.shown_as, found),
                                            " still, after erasing; not labelling it"));
  }
  return absl::OkStatus();
}

std::string DescribeLabel(const Label& label) {
  return absl::StrFormat("%d-byte blocks, %d blocks from byte %d (%d bytes declared)",
                         label.block_size, label.block_count(), label.data_start,
                         label.declared_size);
}

}  // namespace

absl::StatusOr<TakeOverPlan> PlanTakeOver(const TakeOverOptions& options) {
  constexpr int kFlags = O_RDWR | O_DIRECT;
  absl::StatusOr<OpenedPath> opened = OpenPath(options.path, kFlags, /*create=*/false);
  if (absl::IsNotFound(opened.status())) {
    return absl::NotFoundError(
        absl::StrCat(options.path,
                     " does not exist; a new file target needs no take-over: the agent creates "
                     "it (with a size)"));
  }
  if (!opened.ok()) return opened.status();
  TakeOverPlan plan{.path = options.path, .shown_as = options.path, .opened = *std::move(opened)};
  const io::FileInfo& info = plan.opened.info;
  std::optional<guard::DeviceInspection> inspection;
  if (info.is_block_device) {
    ASSIGN_OR_RETURN(inspection, InspectOpenDevice(options.path, plan.opened));
    RETURN_IF_ERROR(guard::DecideScratchUse(*inspection, {.take_over_foreign_signature = true}));
    RETURN_IF_ERROR(ClaimDevice(options.path, kFlags, plan.opened));
    plan.shown_as = inspection->DisplayName();
    plan.signatures = inspection->signatures;
  } else {
    ASSIGN_OR_RETURN(plan.signatures,
                     ReadKnownSignatures(plan.opened.fd.get(), info.size, options.path));
  }
  ASSIGN_OR_RETURN(plan.existing, ReadLabel(plan.opened.fd.get(), options.path));
  const bool valid = plan.existing.state == LabelState::kValid;
  if (valid) {
    // Locked: a running agent holding this target is not taken over under it.
    auto state = state::BlockStateFile::Open(options.state_dir, plan.existing.label.target_id,
                                             /*writable=*/true);
    if (state.ok()) {
      plan.existing_state.emplace(*std::move(state));
    } else if (!absl::IsNotFound(state.status())) {
      return state.status();
    }
  }

  const uint64_t size = options.size.value_or(
      info.is_block_device ? info.size : (valid ? plan.existing.label.declared_size : info.size));
  const uint32_t block_size = options.block_size.value_or(valid ? plan.existing.label.block_size
                                                                : block::kDefaultBlockSize);
  if (inspection) RETURN_IF_ERROR(guard::CheckWithinDevice(*inspection, size));
  plan.nothing_to_do = valid && plan.existing_state && plan.signatures.empty() &&
                       plan.existing.label.block_size == block_size &&
                       (!options.size || plan.existing.label.declared_size == *options.size);
  if (!plan.nothing_to_do) {
    ASSIGN_OR_RETURN(plan.label, NewLabel(options.path, size, block_size));
  }
  return plan;
}

std::string DescribeTakeOver(const TakeOverPlan& plan, const std::string& state_dir) {
  std::string text = absl::StrFormat("%s: %s of %d bytes\n", plan.shown_as,
                                     plan.opened.info.is_block_device ? "block device" : "file",
                                     plan.opened.info.size);
  const LabelReading& existing = plan.existing;
  switch (existing.state) {
    case LabelState::kAbsent:
      text += "  found: no fscanary label\n";
      break;
    case LabelState::kDamaged:
      absl::StrAppendFormat(&text, "  found: a damaged fscanary label (version %d)\n",
                            existing.version);
      break;
    case LabelState::kValid:
      absl::StrAppendFormat(&text, "  found: fscanary target %016x (label version %d, %s), %s\n",
                            existing.label.target_id, existing.version,
                            DescribeLabel(existing.label),
                            plan.existing_state ? "its state in " + state_dir
                                                : "but no state for it in " + state_dir);
      break;
  }
  for (const guard::Signature& signature : plan.signatures) {
    absl::StrAppend(&text, "  found: ", guard::DescribeSignature(signature), "\n");
  }
  if (plan.nothing_to_do) {
    return text + "  nothing to do: it is already fscanary's scratch, with its state\n";
  }
  if (plan.opened.info.is_block_device) {
    for (const guard::Signature& signature : plan.signatures) {
      absl::StrAppendFormat(&text, "  will: erase %d bytes at byte %d (the %s magic)\n",
                            signature.magic_length, signature.magic_offset, signature.type);
    }
  } else {
    absl::StrAppendFormat(&text, "  will: empty the file and allocate %d bytes\n",
                          plan.label.declared_size);
  }
  absl::StrAppendFormat(
      &text,
      "  will: label it fscanary target %016x (label version %d, %s) and "
      "start its state in %s%s\n",
      plan.label.target_id, kLabelVersion, DescribeLabel(plan.label), state_dir,
      existing.state == LabelState::kValid
          ? absl::StrFormat("; the history of target %016x ends", existing.label.target_id)
          : "");
  return text;
}

absl::Status CarryOutTakeOver(TakeOverPlan& plan, const std::string& state_dir) {
  if (plan.nothing_to_do) return absl::OkStatus();
  const int fd = plan.opened.fd.get();
  if (plan.opened.info.is_block_device) {
    RETURN_IF_ERROR(EraseSignatures(plan));
  } else {
    RETURN_IF_ERROR(io::Truncate(fd, 0, plan.path));
    RETURN_IF_ERROR(io::Preallocate(fd, plan.label.declared_size, plan.path));
  }
  ASSIGN_OR_RETURN(const state::BlockStateFile state,
                   state::BlockStateFile::Create(state_dir, GeometryOf(plan.label)));
  return WriteLabel(fd, plan.label, plan.path);
}

}  // namespace fscanary::target
