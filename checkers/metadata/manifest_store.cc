#include "checkers/metadata/manifest_store.h"

#include <fcntl.h>
#include <xxhash.h>

#include <algorithm>
#include <span>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/absl_view.h"
#include "checkers/metadata/manifest_codec.h"
#include "common/endian.h"
#include "common/status.h"
#include "io/directory_tree.h"

namespace fscanary::metadata {
namespace {

constexpr size_t kFrameHeader = 12;
// A journal record is an operation (a few KiB at most); a snapshot is the
// whole model. Lengths past these are damage, not a record.
constexpr uint32_t kMaxFrame = 1u << 30;
constexpr uint64_t kMaxSnapshotBytes = 1ull << 30;
constexpr uint64_t kMaxJournalBytes = 1ull << 31;
constexpr std::string_view kSnapshotMagic = "FSCMSNAP";
constexpr std::string_view kJournalMagic = "FSCMJRNL";
constexpr uint32_t kVersion = 1;
constexpr uint32_t kSnapshotVersion = 2;
enum RecordType : uint8_t { kHeader = 1, kIntent = 2, kDone = 3, kNotDone = 4, kFlag = 5 };

uint64_t FrameChecksum(std::string_view payload) {
  return XXH3_64bits_withSeed(payload.data(), payload.size(), payload.size());
}

void PutU32(std::string& out, uint32_t value) {
  std::byte bytes[4];
  StoreLe<uint32_t>(bytes, value);
  out.append(reinterpret_cast<const char*>(bytes), 4);
}
void PutU64(std::string& out, uint64_t value) {
  std::byte bytes[8];
  StoreLe<uint64_t>(bytes, value);
  out.append(reinterpret_cast<const char*>(bytes), 8);
}
uint32_t GetU32(std::string_view bytes, size_t at) {
  return LoadLe<uint32_t>(reinterpret_cast<const std::byte*>(bytes.data() + at));
}
uint64_t GetU64(std::string_view bytes, size_t at) {
  return LoadLe<uint64_t>(reinterpret_cast<const std::byte*>(bytes.data() + at));
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  return absl::StrCat(dir, "/", absl::string_view(name.data(), name.size()));
}

absl::Status DamagedAt(const std::string& path, uint64_t offset, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(path, ": damaged record at offset ", offset, ": ", why));
}

std::string HeaderPayload(uint64_t tree_id, uint64_t snapshot_seq) {
  std::string payload(1, static_cast<char>(kHeader));
  payload.append(kJournalMagic);
  PutU32(payload, kVersion);
  PutU64(payload, tree_id);
  PutU64(payload, snapshot_seq);
  return payload;
}

}  // namespace

std::string EncodeFrame(std::string_view payload) {
  std::string frame;
  frame.reserve(kFrameHeader + payload.size());
  PutU32(frame, static_cast<uint32_t>(payload.size()));
  PutU64(frame, FrameChecksum(payload));
  frame.append(payload);
  return frame;
}

absl::StatusOr<FrameScan> ScanFrames(std::string_view file, const std::string& path) {
  FrameScan scan;
  uint64_t offset = 0;
  while (offset < file.size()) {
    const std::string_view rest = file.substr(offset);
    if (rest.size() < kFrameHeader) {
      scan.torn_tail = true;  // A frame header cut short.
      break;
    }
    const uint32_t length = GetU32(rest, 0);
    if (length == 0 || length > kMaxFrame) {
      // Zeros to the end: an append whose size reached the disk before its
      // bytes (power loss). Anything else is damage.
      if (AllZero(rest)) {
        scan.torn_tail = true;
        break;
      }
      return DamagedAt(path, offset, absl::StrCat("impossible length ", length));
    }
    if (kFrameHeader + length > rest.size()) {
      scan.torn_tail = true;  // The last append, cut short.
      break;
    }
    const std::string_view payload = rest.substr(kFrameHeader, length);
    if (FrameChecksum(payload) != GetU64(rest, 4)) {
      if (kFrameHeader + length == rest.size()) {
        scan.torn_tail = true;  // The last frame: an append that did not reach the disk whole.
        break;
      }
      return DamagedAt(path, offset, "checksum mismatch");
    }
    scan.payloads.push_back(payload);
    scan.offsets.push_back(offset);
    offset += kFrameHeader + length;
    scan.intact_bytes = offset;
  }
  return scan;
}

absl::StatusOr<Manifest> LoadManifest(const std::string& state_dir) {
  const std::string snapshot_path = JoinPath(state_dir, kSnapshotFileName);
  ASSIGN_OR_RETURN(const std::string snapshot, io::ReadWholeFile(snapshot_path, kMaxSnapshotBytes));
  ASSIGN_OR_RETURN(const FrameScan snapshot_frames, ScanFrames(snapshot, snapshot_path));
  if (snapshot_frames.torn_tail || snapshot_frames.payloads.size() != 1) {
    return absl::DataLossError(
        absl::StrCat(snapshot_path, ": not one intact snapshot (damaged or truncated)"));
  }
  const std::string_view body = snapshot_frames.payloads[0];
  constexpr size_t kSnapshotHeader = 8 + 4 + 8 + 8;
  const uint32_t version = body.size() >= kSnapshotHeader ? GetU32(body, 8) : 0;
  if (body.size() < kSnapshotHeader || body.substr(0, 8) != kSnapshotMagic || version < 1 ||
      version > kSnapshotVersion) {
    return absl::DataLossError(
        absl::StrCat(snapshot_path, ": not a version 1 or 2 snapshot (version ", version, ")"));
  }
  Manifest manifest;
  manifest.tree_id = GetU64(body, 12);
  manifest.seed = GetU64(body, 20);
  auto model = DecodeModel(body.substr(kSnapshotHeader), static_cast<int>(version));
  if (!model.ok()) {
    return absl::DataLossError(absl::StrCat(snapshot_path, ": ", model.status().message()));
  }
  manifest.model = *std::move(model);
  const uint64_t snapshot_seq = manifest.model.seq;

  const std::string journal_path = JoinPath(state_dir, kJournalFileName);
  auto journal = io::ReadWholeFile(journal_path, kMaxJournalBytes);
  if (absl::IsNotFound(journal.status())) return manifest;
  if (!journal.ok()) return journal.status();
  ASSIGN_OR_RETURN(const FrameScan frames, ScanFrames(*journal, journal_path));
  manifest.torn_tail = frames.torn_tail;
  if (frames.payloads.empty()) return manifest;  // Torn while being made.

  const std::string_view header = frames.payloads[0];
  const std::string expected_start = HeaderPayload(manifest.tree_id, 0).substr(0, 13);
  if (header.size() != 1 + 8 + 4 + 8 + 8 || header.substr(0, 13) != expected_start ||
      GetU64(header, 13) != manifest.tree_id) {
    return absl::DataLossError(absl::StrCat(
        journal_path, ": header is not a version 1 journal of tree ", manifest.tree_id));
  }
  const uint64_t journal_base = GetU64(header, 21);
  if (journal_base > snapshot_seq) {
    return DamagedAt(journal_path, 0, "journal continues a snapshot newer than the one there");
  }
  // An older journal (compaction stopped between its two renames) holds only
  // operations the snapshot already has.
  const bool stale = journal_base != snapshot_seq;
  TreeModel& m = manifest.model;
  for (size_t i = 1; i < frames.payloads.size(); ++i) {
    const std::string_view record = frames.payloads[i];
    const uint64_t offset = frames.offsets[i];
    ++manifest.journal_records;
    const uint8_t type = static_cast<uint8_t>(record[0]);
    if (type == kIntent) {
      auto op = DecodeOp(record.substr(1));
      if (!op.ok()) return DamagedAt(journal_path, offset, op.status().message());
      if (stale) {
        if (op->seq > snapshot_seq)
          return DamagedAt(journal_path, offset, "operation past the snapshot");
        continue;
      }
      if (manifest.pending) {
        return DamagedAt(journal_path, offset, "a second intent before the first one's outcome");
      }
      if (op->seq != m.seq + 1) {
        return DamagedAt(journal_path, offset,
                         absl::StrCat("intent for seq ", op->seq, ", expected ", m.seq + 1));
      }
      manifest.pending = *std::move(op);
    } else if (type == kDone || type == kNotDone) {
      if (record.size() != 9) return DamagedAt(journal_path, offset, "bad outcome record");
      const uint64_t seq = GetU64(record, 1);
      if (stale) {
        if (seq > snapshot_seq) return DamagedAt(journal_path, offset, "outcome past the snapshot");
        continue;
      }
      if (!manifest.pending || manifest.pending->seq != seq) {
        return DamagedAt(journal_path, offset,
                         absl::StrCat("outcome for seq ", seq, " without its intent"));
      }
      const absl::Status applied =
          type == kDone ? ApplyOp(m, *manifest.pending) : SkipOp(m, *manifest.pending);
      if (!applied.ok()) return DamagedAt(journal_path, offset, applied.message());
      manifest.pending.reset();
    } else if (type == kFlag) {
      if (record.size() != 9) return DamagedAt(journal_path, offset, "bad flag record");
      if (stale) continue;
      const uint64_t node = GetU64(record, 1);
      if (!m.nodes.contains(node)) {
        return DamagedAt(journal_path, offset, absl::StrCat("flag for unknown node ", node));
      }
      FlagNode(m, node);
    } else {
      return DamagedAt(journal_path, offset, absl::StrCat("unknown record type ", type));
    }
  }
  if (stale) manifest.pending.reset();
  return manifest;
}

absl::StatusOr<std::unique_ptr<ManifestJournal>> ManifestJournal::Rewrite(
    const std::string& state_dir, uint64_t tree_id, uint64_t seed, const TreeModel& model) {
  std::string snapshot(kSnapshotMagic);
  PutU32(snapshot, kSnapshotVersion);
  PutU64(snapshot, tree_id);
  PutU64(snapshot, seed);
  snapshot.append(EncodeModel(model));
  const std::string snapshot_frame = EncodeFrame(snapshot);
  RETURN_IF_ERROR(io::ReplaceFileDurably(JoinPath(state_dir, kSnapshotFileName),
                                         std::as_bytes(std::span(snapshot_frame))));
  const std::string journal_path = JoinPath(state_dir, kJournalFileName);
  const std::string header = EncodeFrame(HeaderPayload(tree_id, model.seq));
  RETURN_IF_ERROR(io::ReplaceFileDurably(journal_path, std::as_bytes(std::span(header))));
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(journal_path, O_WRONLY));
  return std::unique_ptr<ManifestJournal>(
      new ManifestJournal(journal_path, std::move(fd), header.size()));
}

absl::Status ManifestJournal::Append(std::string_view payload, bool sync) {
  RETURN_IF_ERROR(broken_);
  const std::string frame = EncodeFrame(payload);
  absl::Status written = io::WriteAll(fd_.get(), std::as_bytes(std::span(frame)), end_, path_);
  if (written.ok() && sync) written = io::DataSync(fd_.get(), path_);
  if (!written.ok()) {
    broken_ = written;
    return written;
  }
  end_ += frame.size();
  ++records_;
  return absl::OkStatus();
}

absl::Status ManifestJournal::AppendIntent(const Op& op) {
  return Append(absl::StrCat(std::string(1, static_cast<char>(kIntent)), EncodeOp(op)), true);
}

absl::Status ManifestJournal::AppendFlag(uint64_t node) {
  std::string payload(1, static_cast<char>(kFlag));
  PutU64(payload, node);
  return Append(payload, true);
}

absl::Status ManifestJournal::AppendOutcome(uint64_t seq, bool done) {
  std::string payload(1, static_cast<char>(done ? kDone : kNotDone));
  PutU64(payload, seq);
  return Append(payload, false);
}

}  // namespace fscanary::metadata
