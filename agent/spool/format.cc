#include "agent/spool/format.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "common/endian.h"

namespace fscanary::spool::format {
namespace {

constexpr char kSegmentMagic[8] = {'F', 'S', 'C', 'S', 'P', 'O', 'O', 'L'};
constexpr uint32_t kRecordMagic = 0x52435346;  // "FSCR"
constexpr uint32_t kMarksMagic = 0x4D435346;   // "FSCM"
constexpr uint32_t kStateMagic = 0x54435346;   // "FSCT"
constexpr size_t kStateSlotUsed = 64;          // [0,56) fields, [56,64) checksum

uint64_t Hash(const std::byte* data, size_t size) { return XXH3_64bits(data, size); }

std::byte* Raw(std::string& buffer) { return reinterpret_cast<std::byte*>(buffer.data()); }

uint32_t HeaderChecksum(const std::byte* header) { return static_cast<uint32_t>(Hash(header, 20)); }

// The header at `pos`, if its magic and header checksum hold and its body
// length is plausible.
std::optional<RecordHeader> ParseHeader(Bytes file, uint64_t pos) {
  if (pos + kRecordHeaderBytes > file.size()) return std::nullopt;
  const std::byte* p = file.data() + pos;
  if (LoadLe<uint32_t>(p) != kRecordMagic) return std::nullopt;
  if (LoadLe<uint32_t>(p + 20) != HeaderChecksum(p)) return std::nullopt;
  RecordHeader header{.sequence = LoadLe<uint64_t>(p + 8),
                      .record_class = static_cast<uint8_t>(p[16]),
                      .flags = static_cast<uint8_t>(p[17]),
                      .body_length = LoadLe<uint32_t>(p + 4)};
  if (header.body_length > kMaxBodyBytes || header.record_class > 1 || header.sequence == 0) {
    return std::nullopt;
  }
  return header;
}

bool BodyChecksumHolds(Bytes file, uint64_t pos, const RecordHeader& header) {
  const uint64_t covered = RecordBytes(header.body_length) - kRecordChecksumBytes;
  return LoadLe<uint64_t>(file.data() + pos + covered) == Hash(file.data() + pos, covered);
}

void AppendU64(std::string& out, uint64_t value) {
  std::byte bytes[8];
  StoreLe<uint64_t>(bytes, value);
  out.append(reinterpret_cast<const char*>(bytes), 8);
}

void AppendU32(std::string& out, uint32_t value) {
  std::byte bytes[4];
  StoreLe<uint32_t>(bytes, value);
  out.append(reinterpret_cast<const char*>(bytes), 4);
}

}  // namespace

std::string EncodeSegmentHeader(uint64_t segment_id) {
  std::string header(kSegmentHeaderBytes, '\0');
  std::memcpy(header.data(), kSegmentMagic, 8);
  StoreLe<uint32_t>(Raw(header) + 8, kVersion);
  StoreLe<uint64_t>(Raw(header) + 16, segment_id);
  StoreLe<uint64_t>(Raw(header) + 24, Hash(Raw(header), 24));
  return header;
}

std::optional<uint64_t> ParseSegmentHeader(Bytes file) {
  if (file.size() < kSegmentHeaderBytes) return std::nullopt;
  if (std::memcmp(file.data(), kSegmentMagic, 8) != 0) return std::nullopt;
  if (LoadLe<uint64_t>(file.data() + 24) != Hash(file.data(), 24)) return std::nullopt;
  if (LoadLe<uint32_t>(file.data() + 8) != kVersion) return std::nullopt;
  return LoadLe<uint64_t>(file.data() + 16);
}

std::string EncodeSummaryPrefix(const SummaryPrefix& prefix) {
  std::string out;
  AppendU32(out, static_cast<uint32_t>(prefix.replaces.size()));
  AppendU32(out, prefix.reports_represented);
  for (const auto& [first, last] : prefix.replaces) {
    AppendU64(out, first);
    AppendU64(out, last);
  }
  return out;
}

std::optional<SummaryPrefix> ParseSummaryPrefix(Bytes body) {
  if (body.size() < 8) return std::nullopt;
  const uint32_t count = LoadLe<uint32_t>(body.data());
  if (SummaryPrefixBytes(count) > body.size()) return std::nullopt;
  SummaryPrefix prefix{.reports_represented = LoadLe<uint32_t>(body.data() + 4)};
  for (uint32_t i = 0; i < count; ++i) {
    const std::byte* range = body.data() + 8 + 16 * i;
    prefix.replaces.emplace_back(LoadLe<uint64_t>(range), LoadLe<uint64_t>(range + 8));
  }
  return prefix;
}

std::string EncodeRecord(const RecordHeader& header, std::string_view body_prefix,
                         std::string_view payload) {
  const uint64_t body_length = body_prefix.size() + payload.size();
  std::string record(RecordBytes(body_length), '\0');
  std::byte* p = Raw(record);
  StoreLe<uint32_t>(p, kRecordMagic);
  StoreLe<uint32_t>(p + 4, static_cast<uint32_t>(body_length));
  StoreLe<uint64_t>(p + 8, header.sequence);
  p[16] = static_cast<std::byte>(header.record_class);
  p[17] = static_cast<std::byte>(header.flags);
  StoreLe<uint32_t>(p + 20, HeaderChecksum(p));
  std::memcpy(p + kRecordHeaderBytes, body_prefix.data(), body_prefix.size());
  std::memcpy(p + kRecordHeaderBytes + body_prefix.size(), payload.data(), payload.size());
  const size_t covered = record.size() - kRecordChecksumBytes;
  StoreLe<uint64_t>(p + covered, Hash(p, covered));
  return record;
}

std::optional<RecordHeader> ParseRecord(Bytes record) {
  const std::optional<RecordHeader> header = ParseHeader(record, 0);
  if (!header || RecordBytes(header->body_length) != record.size()) return std::nullopt;
  if (!BodyChecksumHolds(record, 0, *header)) return std::nullopt;
  return header;
}

SegmentScan ScanSegment(Bytes file, uint64_t start, bool newest) {
  SegmentScan scan{.valid_end = start};
  uint64_t pos = start;
  while (pos < file.size()) {
    if (const std::optional<RecordHeader> header = ParseHeader(file, pos)) {
      const uint64_t end = pos + RecordBytes(header->body_length);
      if (end > file.size()) break;  // runs past the end: a torn tail
      if (BodyChecksumHolds(file, pos, *header)) {
        scan.records.push_back({.header = *header, .offset = pos});
      } else {
        ++scan.damaged;
        scan.damaged_sequences.push_back(header->sequence);
      }
      pos = end;
      scan.valid_end = pos;
      continue;
    }
    // No readable header here: skip to the next one, if any.
    uint64_t next = pos + 8;
    while (next < file.size() && !ParseHeader(file, next)) next += 8;
    if (next >= file.size()) break;  // nothing readable follows: a tail
    ++scan.damaged;
    pos = next;
    scan.valid_end = pos;
  }
  if (!newest && scan.valid_end < file.size()) {
    // An older segment was complete when its successor was started.
    ++scan.damaged;
    scan.valid_end = file.size();
  }
  return scan;
}

std::string EncodeMarks(const SequenceRanges& ranges) {
  std::string out;
  AppendU32(out, kMarksMagic);
  AppendU32(out, static_cast<uint32_t>(ranges.size()));
  for (const auto& [first, last] : ranges) {
    AppendU64(out, first);
    AppendU64(out, last);
  }
  AppendU64(out, Hash(reinterpret_cast<const std::byte*>(out.data()), out.size()));
  return out;
}

MarksScan ScanMarks(Bytes file) {
  MarksScan scan;
  uint64_t pos = 0;
  while (pos + 16 <= file.size()) {
    const std::byte* p = file.data() + pos;
    const uint64_t count = LoadLe<uint32_t>(p + 4);
    const uint64_t size = 8 + 16 * count + 8;
    if (LoadLe<uint32_t>(p) == kMarksMagic && pos + size <= file.size() &&
        LoadLe<uint64_t>(p + size - 8) == Hash(p, size - 8)) {
      for (uint64_t i = 0; i < count; ++i) {
        scan.ranges.emplace_back(LoadLe<uint64_t>(p + 8 + 16 * i),
                                 LoadLe<uint64_t>(p + 16 + 16 * i));
      }
      pos += size;
      scan.valid_end = pos;
    } else {
      pos += 8;
    }
  }
  return scan;
}

std::string EncodeStateSlot(const StateSlot& slot) {
  std::string out;
  AppendU32(out, kStateMagic);
  AppendU32(out, kVersion);
  AppendU64(out, slot.generation);
  AppendU64(out, slot.sequence_limit);
  AppendU64(out, slot.reports_summarised);
  AppendU64(out, slot.reports_dropped);
  AppendU64(out, slot.findings_dropped);
  AppendU64(out, slot.damaged_records_skipped);
  AppendU64(out, Hash(reinterpret_cast<const std::byte*>(out.data()), out.size()));
  out.resize(kStateSlotBytes, '\0');
  return out;
}

std::optional<StateSlot> ParseStateFile(Bytes file) {
  std::optional<StateSlot> best;
  for (size_t base = 0; base + kStateSlotUsed <= file.size(); base += kStateSlotBytes) {
    const std::byte* p = file.data() + base;
    if (LoadLe<uint32_t>(p) != kStateMagic || LoadLe<uint32_t>(p + 4) != kVersion) continue;
    if (LoadLe<uint64_t>(p + 56) != Hash(p, 56)) continue;
    const StateSlot slot{.generation = LoadLe<uint64_t>(p + 8),
                         .sequence_limit = LoadLe<uint64_t>(p + 16),
                         .reports_summarised = LoadLe<uint64_t>(p + 24),
                         .reports_dropped = LoadLe<uint64_t>(p + 32),
                         .findings_dropped = LoadLe<uint64_t>(p + 40),
                         .damaged_records_skipped = LoadLe<uint64_t>(p + 48)};
    if (!best || slot.generation > best->generation) best = slot;
  }
  return best;
}

SequenceRanges Coalesce(SequenceRanges ranges) {
  std::sort(ranges.begin(), ranges.end());
  SequenceRanges merged;
  for (const auto& [first, last] : ranges) {
    if (first > last) continue;
    if (!merged.empty() &&
        (merged.back().second == UINT64_MAX || first <= merged.back().second + 1)) {
      merged.back().second = std::max(merged.back().second, last);
    } else {
      merged.emplace_back(first, last);
    }
  }
  return merged;
}

bool Contains(const SequenceRanges& coalesced, uint64_t sequence) {
  auto it = std::upper_bound(coalesced.begin(), coalesced.end(), sequence,
                             [](uint64_t s, const auto& range) { return s < range.first; });
  return it != coalesced.begin() && sequence <= std::prev(it)->second;
}

}  // namespace fscanary::spool::format
