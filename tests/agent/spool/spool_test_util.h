#pragma once
// Shared helpers for the spool tests: small spools, a summariser that sums
// report counts, and readers for what a spool directory holds.

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "agent/spool/spool.h"

namespace fscanary::spool::testing {

// A routine payload standing for `reports` interval reports, padded to `bytes`.
inline std::string Reports(uint64_t reports, size_t bytes = 0) {
  std::string payload = std::to_string(reports) + ";";
  if (payload.size() < bytes) payload.resize(bytes, '.');
  return payload;
}

inline uint64_t ReportCount(const std::string& payload) {
  uint64_t value = 0;
  std::from_chars(payload.data(), payload.data() + payload.size(), value);
  return value;
}

// Sums the report counts: what the agent does with interval reports.
inline std::string SumReports(std::span<const Record> routine) {
  uint64_t total = 0;
  for (const Record& record : routine) total += ReportCount(record.payload);
  return Reports(total);
}

inline SpoolOptions SmallOptions(const std::string& directory) {
  return {.directory = directory, .max_bytes = 64 << 10, .segment_bytes = 8 << 10};
}

inline std::unique_ptr<Spool> OpenOrDie(const SpoolOptions& options,
                                        Summarizer summarizer = SumReports) {
  auto spool = Spool::Open(options, std::move(summarizer));
  if (!spool.ok()) {
    ADD_FAILURE() << spool.status();
    return nullptr;
  }
  return std::move(spool).value();
}

inline std::vector<Record> AllPending(Spool& spool) { return spool.Pending(SIZE_MAX); }

inline std::vector<uint64_t> Sequences(const std::vector<Record>& records) {
  std::vector<uint64_t> sequences;
  for (const Record& record : records) sequences.push_back(record.sequence);
  return sequences;
}

// seg-*.log files in `directory`, oldest first.
inline std::vector<std::string> SegmentFiles(const std::string& directory) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("seg-") && name.ends_with(".log")) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

}  // namespace fscanary::spool::testing
