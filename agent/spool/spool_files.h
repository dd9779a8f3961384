#pragma once
// The few syscalls the spool needs beyond io/posix.h (directory listing,
// unlink, ftruncate), each turned into a status here and nowhere else.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::spool {

// Names of the entries of `directory` (not "." or ".."), unsorted.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& directory);
// unlink(2); a file that is already gone is not an error.
absl::Status RemoveFile(const std::string& path);
absl::Status TruncateFile(int fd, uint64_t size, const std::string& path);
// The whole content of an open file.
absl::StatusOr<std::string> ReadWholeFile(int fd, const std::string& path);
bool IsRegularFile(const std::string& path);
bool IsDirectory(const std::string& path);
// The `*.record` files in the quarantine `directory`; 0 when it does not exist.
absl::StatusOr<uint64_t> CountQuarantined(const std::string& directory);

}  // namespace fscanary::spool
