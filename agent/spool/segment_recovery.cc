// SegmentStore::Open: what is on disk after a clean stop or a crash.

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/spool/segment_store.h"
#include "agent/spool/spool_files.h"
#include "common/status.h"

namespace fscanary::spool {
namespace {

constexpr std::string_view kSegmentPrefix = "seg-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kMarksSuffix = ".marks";
// Larger files cannot be segments (segment_bytes is at most 1 GiB).
constexpr uint64_t kMaxSegmentFileBytes = (1ull << 30) + (1ull << 30);

format::Bytes AsBytes(const std::string& content) { return std::as_bytes(std::span(content)); }

// The id in "seg-<16 hex digits><suffix>", if `name` has that form.
std::optional<uint64_t> ParseId(std::string_view name, std::string_view suffix) {
  if (name.size() != kSegmentPrefix.size() + 16 + suffix.size()) return std::nullopt;
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view hex = name.substr(kSegmentPrefix.size(), 16);
  uint64_t id = 0;
  const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), id, 16);
  if (error != std::errc() || end != hex.data() + hex.size() || id == 0) return std::nullopt;
  return id;
}

}  // namespace

absl::StatusOr<SegmentStore::Opened> SegmentStore::Open(const std::string& directory,
                                                        uint64_t segment_bytes,
                                                        std::shared_ptr<SegmentReads> reads) {
  RETURN_IF_ERROR(io::MakeDirectories(directory));
  std::unique_ptr<SegmentStore> store(new SegmentStore(directory, segment_bytes, std::move(reads)));
  const std::string lock_path = directory + "/LOCK";
  const bool existed = IsRegularFile(lock_path);
  ASSIGN_OR_RETURN(store->lock_fd_, io::Open(lock_path, O_RDWR | O_CREAT));
  RETURN_IF_ERROR(io::LockFile(store->lock_fd_.get(), /*exclusive=*/true, lock_path));
  ASSIGN_OR_RETURN(Recovery recovery, store->Recover(existed));
  return Opened{.store = std::move(store), .recovery = std::move(recovery)};
}

absl::StatusOr<Recovery> SegmentStore::Recover(bool existed) {
  Recovery recovery;
  ASSIGN_OR_RETURN(const std::vector<std::string> names, ListDirectory(directory_));
  std::set<uint64_t> segment_ids;
  std::set<uint64_t> marks_ids;
  bool has_state = false;
  for (const std::string& name : names) {
    const std::string path = directory_ + "/" + name;
    if (name == "LOCK") continue;
    if (name == format::kQuarantineDirectory && IsDirectory(path)) continue;
    if (name == "state" && IsRegularFile(path)) {
      has_state = true;
    } else if (auto id = ParseId(name, kSegmentSuffix); id && IsRegularFile(path)) {
      segment_ids.insert(*id);
    } else if (auto marks_id = ParseId(name, kMarksSuffix); marks_id && IsRegularFile(path)) {
      marks_ids.insert(*marks_id);
    } else {
      ++recovery.foreign_files;
      recovery.notes.push_back(absl::StrCat(path, ": not a spool file; left alone"));
    }
  }
  // Even an emptied spool keeps its lock and state files: their absence means new.
  recovery.fresh = !existed && !has_state && segment_ids.empty() && marks_ids.empty();

  const std::string state_path = directory_ + "/state";
  ASSIGN_OR_RETURN(state_fd_, io::Open(state_path, O_RDWR | O_CREAT));
  ASSIGN_OR_RETURN(const std::string state, ReadWholeFile(state_fd_.get(), state_path));
  recovery.state = format::ParseStateFile(AsBytes(state));
  if (!recovery.state && !recovery.fresh) {
    recovery.notes.push_back(
        absl::StrCat(state_path, has_state ? ": both slots damaged" : ": missing"));
  }

  // The newest segment is the only one that may end in a torn append.
  uint64_t newest = 0;
  for (auto it = segment_ids.rbegin(); it != segment_ids.rend() && newest == 0; ++it) {
    ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(SegmentPath(*it), O_RDONLY));
    std::string header(format::kSegmentHeaderBytes, '\0');
    ASSIGN_OR_RETURN(
        const size_t got,
        io::ReadAll(fd.get(), std::as_writable_bytes(std::span(header)), 0, SegmentPath(*it)));
    header.resize(got);
    if (format::ParseSegmentHeader(AsBytes(header)) == std::optional<uint64_t>(*it)) newest = *it;
  }
  for (const uint64_t id : segment_ids) {
    next_id_ = std::max(next_id_, id + 1);
    ASSIGN_OR_RETURN(const bool is_segment,
                     RecoverSegment(id, id == newest, id == *segment_ids.rbegin(), recovery));
    if (!is_segment) marks_ids.erase(id);  // a foreign file's namesake is not ours either
  }

  for (const uint64_t id : marks_ids) {
    const std::string path = MarksPath(id);
    auto segment = segments_.find(id);
    if (segment == segments_.end()) {
      // The segment was reclaimed and a crash came before its marks went.
      RETURN_IF_ERROR(RemoveFile(path));
      continue;
    }
    ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDWR));
    ASSIGN_OR_RETURN(const std::string content, ReadWholeFile(fd.get(), path));
    const format::MarksScan scan = format::ScanMarks(AsBytes(content));
    recovery.removed.insert(recovery.removed.end(), scan.ranges.begin(), scan.ranges.end());
    if (scan.valid_end < content.size())
      RETURN_IF_ERROR(TruncateFile(fd.get(), scan.valid_end, path));
    segment->second.marks_fd = std::move(fd);
    segment->second.marks_bytes = scan.valid_end;
    disk_bytes_ += scan.valid_end;
  }
  recovery.removed = format::Coalesce(std::move(recovery.removed));

  // Keep appending to the newest segment if it is sound and has room.
  if (auto it = segments_.find(newest); it != segments_.end() &&
                                        it->second.file_bytes < segment_bytes_ &&
                                        !std::ranges::count(recovery.damaged_segments, newest)) {
    active_ = newest;
    // What a crashed process wrote there may still be only in the page cache.
    unsynced_bytes_ = it->second.file_bytes;
  }
  return recovery;
}

absl::StatusOr<bool> SegmentStore::RecoverSegment(uint64_t id, bool newest, bool last_file,
                                                  Recovery& recovery) {
  const std::string path = SegmentPath(id);
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDWR));
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd.get(), path));
  if (info.size > kMaxSegmentFileBytes) {
    ++recovery.foreign_files;
    recovery.notes.push_back(absl::StrCat(path, ": too large for a spool segment; left alone"));
    return false;
  }
  ASSIGN_OR_RETURN(const std::string content, ReadWholeFile(fd.get(), path));
  const format::Bytes bytes = AsBytes(content);
  const bool header_ok = format::ParseSegmentHeader(bytes) == std::optional<uint64_t>(id);
  if (!header_ok && last_file && content.size() <= format::kSegmentHeaderBytes) {
    // The newest file, cut short while it was being created: nothing was in it yet.
    RETURN_IF_ERROR(RemoveFile(path));
    RETURN_IF_ERROR(RemoveFile(MarksPath(id)));
    return false;
  }
  const format::SegmentScan scan =
      format::ScanSegment(bytes, format::kSegmentHeaderBytes, newest && header_ok);
  if (!header_ok && scan.records.empty()) {
    ++recovery.foreign_files;
    recovery.notes.push_back(
        absl::StrCat(path, ": not a spool segment (no valid header or record); left alone"));
    return false;
  }
  if (!header_ok) {
    recovery.notes.push_back(
        absl::StrCat(path, ": segment header damaged; its records were recovered"));
  }
  uint64_t file_bytes = content.size();
  if (scan.valid_end < content.size() && newest && header_ok) {
    RETURN_IF_ERROR(TruncateFile(fd.get(), scan.valid_end, path));
    recovery.notes.push_back(absl::StrCat(path, ": torn tail of ", content.size() - scan.valid_end,
                                          " bytes after the last complete record truncated"));
    file_bytes = scan.valid_end;
  }
  if (scan.damaged > 0) {
    recovery.notes.push_back(absl::StrCat(path, ": ", scan.damaged, " damaged record(s) skipped"));
  }
  if (scan.damaged > 0 || !header_ok) recovery.damaged_segments.push_back(id);
  recovery.damaged_records += scan.damaged;
  recovery.damaged_sequences.insert(recovery.damaged_sequences.end(),
                                    scan.damaged_sequences.begin(), scan.damaged_sequences.end());

  for (const format::ScannedRecord& record : scan.records) {
    RecoveredRecord recovered{.header = record.header,
                              .location = {.segment = id,
                                           .offset = static_cast<uint32_t>(record.offset),
                                           .body_length = record.header.body_length}};
    if (record.header.flags & format::kFlagSummary) {
      recovered.summary = format::ParseSummaryPrefix(
          bytes.subspan(record.offset + format::kRecordHeaderBytes, record.header.body_length));
      if (!recovered.summary) continue;  // checksummed yet malformed: not written by us
    }
    recovery.records.push_back(std::move(recovered));
  }
  Segment& segment = segments_[id];
  segment.path = path;
  segment.fd = std::move(fd);
  segment.file_bytes = file_bytes;
  segment.marks_path = MarksPath(id);
  disk_bytes_ += file_bytes;
  return true;
}

}  // namespace fscanary::spool
