#include "agent/spool/segment_store.h"

#include <fcntl.h>

#include "absl/strings/str_format.h"
#include "agent/spool/spool_files.h"
#include "common/endian.h"
#include "common/status.h"

namespace fscanary::spool {
namespace {

std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace

SegmentStore::~SegmentStore() = default;

std::string SegmentStore::SegmentPath(uint64_t id) const {
  return absl::StrFormat("%s/seg-%016x.log", directory_, id);
}

std::string SegmentStore::MarksPath(uint64_t id) const {
  return absl::StrFormat("%s/seg-%016x.marks", directory_, id);
}

absl::Status SegmentStore::StartSegment() {
  const uint64_t id = next_id_++;
  const std::string path = SegmentPath(id);
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDWR | O_CREAT | O_EXCL));
  const std::string header = format::EncodeSegmentHeader(id);
  absl::Status written = io::WriteAll(fd.get(), AsBytes(header), 0, path);
  // The header and the directory entry are durable before any record in the
  // segment can count as durable.
  if (written.ok()) written = io::DataSync(fd.get(), path);
  if (written.ok()) written = io::SyncDirectory(directory_);
  if (!written.ok()) {
    (void)RemoveFile(path);
    return written;
  }
  Segment& segment = segments_[id];
  segment.path = path;
  segment.fd = std::move(fd);
  segment.file_bytes = header.size();
  segment.marks_path = MarksPath(id);
  disk_bytes_ += header.size();
  active_ = id;
  return absl::OkStatus();
}

absl::StatusOr<Location> SegmentStore::Append(std::string_view record, bool sync) {
  // A record larger than a segment (relocated after segment_bytes was lowered)
  // gets a segment of its own.
  if (active_ != 0 && segments_[active_].file_bytes + record.size() > segment_bytes_ &&
      segments_[active_].file_bytes > format::kSegmentHeaderBytes) {
    RETURN_IF_ERROR(Roll());
  }
  if (active_ == 0) RETURN_IF_ERROR(StartSegment());
  Segment& segment = segments_[active_];
  const uint64_t offset = segment.file_bytes;
  absl::Status written = io::WriteAll(segment.fd.get(), AsBytes(record), offset, segment.path);
  if (written.ok() && sync) written = io::DataSync(segment.fd.get(), segment.path);
  if (!written.ok()) {
    // Leave no half record for the next append to follow.
    (void)TruncateFile(segment.fd.get(), offset, segment.path);
    return written;
  }
  segment.file_bytes += record.size();
  segment.live_bytes += record.size();
  ++segment.live_records;
  disk_bytes_ += record.size();
  unsynced_bytes_ = sync ? 0 : unsynced_bytes_ + record.size();
  return Location{.segment = active_,
                  .offset = static_cast<uint32_t>(offset),
                  .body_length = LoadLe<uint32_t>(AsBytes(record).data() + 4)};
}

absl::StatusOr<std::string> SegmentStore::ReadRecord(const Location& location) const {
  auto it = segments_.find(location.segment);
  if (it == segments_.end()) return absl::InternalError("reading from a reclaimed segment");
  std::string record(location.bytes(), '\0');
  ASSIGN_OR_RETURN(const size_t got,
                   reads_->ReadAt(it->second.fd.get(), std::as_writable_bytes(std::span(record)),
                                  location.offset, it->second.path));
  if (got != record.size() || !format::ParseRecord(AsBytes(record))) {
    return absl::DataLossError(
        absl::StrFormat("%s: record at offset %d is damaged", it->second.path, location.offset));
  }
  return record;
}

absl::StatusOr<Location> SegmentStore::Relocate(const Location& from) {
  ASSIGN_OR_RETURN(const std::string record, ReadRecord(from));
  return Append(record, /*sync=*/false);
}

absl::StatusOr<std::string> SegmentStore::ReadBody(const Location& location) const {
  ASSIGN_OR_RETURN(std::string record, ReadRecord(location));
  return record.substr(format::kRecordHeaderBytes, location.body_length);
}

absl::Status SegmentStore::Mark(uint64_t id, const format::SequenceRanges& ranges, bool sync) {
  auto it = segments_.find(id);
  if (it == segments_.end() || ranges.empty()) return absl::OkStatus();
  Segment& segment = it->second;
  const bool created = !segment.marks_fd.valid();
  if (created) {
    ASSIGN_OR_RETURN(segment.marks_fd, io::Open(segment.marks_path, O_RDWR | O_CREAT));
  }
  const std::string marks = format::EncodeMarks(ranges);
  RETURN_IF_ERROR(io::WriteAll(segment.marks_fd.get(), AsBytes(marks), segment.marks_bytes,
                               segment.marks_path));
  segment.marks_bytes += marks.size();
  disk_bytes_ += marks.size();
  if (sync) {
    RETURN_IF_ERROR(io::DataSync(segment.marks_fd.get(), segment.marks_path));
    if (created) RETURN_IF_ERROR(io::SyncDirectory(directory_));
  }
  return absl::OkStatus();
}

void SegmentStore::Adopt(const Location& location) {
  auto it = segments_.find(location.segment);
  if (it == segments_.end()) return;
  it->second.live_bytes += location.bytes();
  ++it->second.live_records;
}

absl::Status SegmentStore::Release(const Location& location) {
  auto it = segments_.find(location.segment);
  if (it == segments_.end()) return absl::OkStatus();
  it->second.live_bytes -= location.bytes();
  --it->second.live_records;
  if (it->second.live_records == 0 && location.segment != active_) return Reclaim(location.segment);
  return absl::OkStatus();
}

absl::Status SegmentStore::ReclaimEmpty() {
  std::vector<uint64_t> empty;
  for (const auto& [id, segment] : segments_) {
    if (segment.live_records == 0 && id != active_) empty.push_back(id);
  }
  for (const uint64_t id : empty) RETURN_IF_ERROR(Reclaim(id));
  return absl::OkStatus();
}

absl::Status SegmentStore::Reclaim(uint64_t id) {
  Segment& segment = segments_[id];
  // The segment goes first and for good: its marks then protect nothing. The
  // other order could bring its records back after a crash.
  RETURN_IF_ERROR(RemoveFile(segment.path));
  RETURN_IF_ERROR(io::SyncDirectory(directory_));
  RETURN_IF_ERROR(RemoveFile(segment.marks_path));
  disk_bytes_ -= segment.file_bytes + segment.marks_bytes;
  segments_.erase(id);
  return absl::OkStatus();
}

absl::Status SegmentStore::Sync() {
  if (active_ == 0 || unsynced_bytes_ == 0) return absl::OkStatus();
  const Segment& segment = segments_[active_];
  RETURN_IF_ERROR(io::DataSync(segment.fd.get(), segment.path));
  unsynced_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status SegmentStore::Roll() {
  if (active_ == 0) return absl::OkStatus();
  RETURN_IF_ERROR(Sync());
  const uint64_t sealed = active_;
  active_ = 0;
  if (segments_[sealed].live_records == 0) return Reclaim(sealed);
  return absl::OkStatus();
}

absl::Status SegmentStore::WriteState(format::StateSlot& slot) {
  ++slot.generation;
  const std::string encoded = format::EncodeStateSlot(slot);
  const std::string path = directory_ + "/state";
  RETURN_IF_ERROR(io::WriteAll(state_fd_.get(), AsBytes(encoded),
                               (slot.generation % 2) * format::kStateSlotBytes, path));
  RETURN_IF_ERROR(io::DataSync(state_fd_.get(), path));
  if (!state_entry_durable_) {
    RETURN_IF_ERROR(io::SyncDirectory(directory_));
    state_entry_durable_ = true;
  }
  return absl::OkStatus();
}

uint64_t SegmentStore::DiskBytesAfterAppend(uint64_t record_bytes) const {
  const bool new_segment =
      active_ == 0 || segments_.at(active_).file_bytes + record_bytes > segment_bytes_;
  return disk_bytes_ + record_bytes + (new_segment ? format::kSegmentHeaderBytes : 0);
}

std::vector<SegmentUsage> SegmentStore::Usage() const {
  std::vector<SegmentUsage> usage;
  for (const auto& [id, segment] : segments_) {
    usage.push_back({.id = id,
                     .file_bytes = segment.file_bytes + segment.marks_bytes,
                     .live_bytes = segment.live_bytes,
                     .active = id == active_});
  }
  return usage;
}

}  // namespace fscanary::spool
