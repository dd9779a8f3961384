#pragma once
// Looking at the metadata tree on disk and saying how it differs from the
// model. Observe() reads one entry (lstat, content, xattrs, link target)
// without following symlinks; Difference() and ExtraNames() are pure, so the
// verification pass and crash recovery judge entries by the same rules.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "checkers/metadata/file_layout.h"
#include "checkers/metadata/io_budget.h"
#include "checkers/metadata/tree_model.h"
#include "io/directory_tree.h"

namespace fscanary::metadata {

// The xattrs the checker sets and checks; others (security.*, ACLs) are not
// its business.
inline constexpr std::string_view kXattrPrefix = "user.fscanary.";

// What one path holds on disk.
struct Observation {
  // nullopt: nothing there (or a non-directory where a parent should be).
  std::optional<io::EntryStat> stat;
  // Regular files: XXH3-64 of the bytes read (holes read as zeros).
  uint64_t content_hash = 0;
  uint64_t bytes_read = 0;
  // Set when the read was compared with an expected layout and differed.
  std::optional<uint64_t> first_difference;
  // Symlinks.
  std::string target;
  // Files and directories: the user.fscanary.* xattrs, sorted.
  std::vector<io::Xattr> xattrs;
  // Reading the entry failed with what the kernel says about a corrupted
  // inode or directory (EIO, EUCLEAN "structure needs cleaning", EBADMSG
  // "bad CRC", ESTALE, and ENODATA while reading content): a finding.
  std::string error;
  // Reading the entry failed for another reason (EMFILE, ENOMEM, EACCES,
  // EINTR, ...): not the filesystem's fault, so never a finding; the caller
  // returns it as an error. The path and errno are in the message.
  absl::Status failure;
};

// Whether `status` (from reading the tree) is what the kernel says about a
// corrupted inode or directory; `reading_content`: it came from reading a
// file's bytes (where ENODATA counts too).
bool IsCorruptionError(const absl::Status& status, bool reading_content);

struct ObserveOptions {
  // POSIX_FADV_DONTNEED before reading a file: the re-check reads the device.
  bool drop_cache = false;
  // When set, the content read is compared with this layout byte by byte
  // (first_difference), besides being hashed.
  const FileLayout* compare_with = nullptr;
};

Observation Observe(const io::DirectoryTree& tree, std::string_view path,
                    const ObserveOptions& options, const IoBudget& budget);

// What differs between `expected` (null: the model has no such entry) and
// the observation, in the words of a finding ("missing", "size: expected
// 4096, found 0", ...); nullopt when they agree. Compares what the checker
// controls: type; for files size, nlink, permission bits, content, xattrs;
// for directories permission bits and xattrs; for symlinks the target.
// Directory link counts and sizes are not compared (filesystems differ).
std::optional<std::string> Difference(const Node* expected, const Observation& observed);

// The names in `listed` (a listing of `directory`) that the model lacks,
// sorted; at the root, the checker's marker and stage are not extra.
std::vector<std::string> ExtraNames(const TreeModel& model, std::string_view directory,
                                    const std::vector<std::string>& listed);

}  // namespace fscanary::metadata
