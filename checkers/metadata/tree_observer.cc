#include "checkers/metadata/tree_observer.h"

#include <algorithm>
#include <cerrno>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkers/metadata/absl_view.h"
#include "common/status.h"

namespace fscanary::metadata {
namespace {

constexpr size_t kReadChunk = 256 * 1024;

std::string_view TypeName(io::EntryType type) {
  switch (type) {
    case io::EntryType::kRegular:
      return "file";
    case io::EntryType::kDirectory:
      return "directory";
    case io::EntryType::kSymlink:
      return "symlink";
    case io::EntryType::kOther:
      break;
  }
  return "other (device, FIFO or socket)";
}

io::EntryType ExpectedType(NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return io::EntryType::kRegular;
    case NodeType::kDirectory:
      return io::EntryType::kDirectory;
    case NodeType::kSymlink:
      return io::EntryType::kSymlink;
  }
  return io::EntryType::kOther;
}

std::string Quoted(std::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(absl::string_view(text.data(), text.size())), "\"");
}

// Reads the whole file: hash, bytes, and where it first departs from
// `compare_with` (if given).
absl::Status ReadContent(int fd, const std::string& shown, const ObserveOptions& options,
                         const IoBudget& budget, Observation& out) {
  StreamingHash hash;
  std::vector<std::byte> buffer(kReadChunk);
  std::vector<std::byte> expected(options.compare_with != nullptr ? kReadChunk : 0);
  uint64_t offset = 0;
  const uint64_t size = out.stat ? out.stat->size : 0;
  for (;;) {
    // What this read will transfer, as far as the size says (at least the
    // one call that finds the end).
    budget.Charge(offset < size ? std::min<uint64_t>(kReadChunk, size - offset) : 0, 1);
    auto got = io::ReadAll(fd, buffer, offset, shown);
    if (!got.ok()) return got.status();
    const std::span<const std::byte> piece = std::span(buffer).first(*got);
    hash.Update(piece);
    if (options.compare_with != nullptr && !out.first_difference) {
      FillContent(*options.compare_with, offset, std::span(expected).first(*got));
      const auto mismatch = std::mismatch(piece.begin(), piece.end(), expected.begin());
      if (mismatch.first != piece.end()) {
        out.first_difference = offset + static_cast<uint64_t>(mismatch.first - piece.begin());
      }
    }
    offset += *got;
    if (*got < buffer.size()) break;
  }
  if (options.compare_with != nullptr && !out.first_difference &&
      offset != options.compare_with->size) {
    out.first_difference = std::min(offset, options.compare_with->size);
  }
  out.content_hash = hash.Digest();
  out.bytes_read = offset;
  return absl::OkStatus();
}

absl::Status ObserveInto(const io::DirectoryTree& tree, std::string_view path,
                         const ObserveOptions& options, const IoBudget& budget, Observation& out,
                         bool& reading_content) {
  budget.Charge(0, 1);
  auto stat = tree.Stat(path);
  if (!stat.ok()) return stat.status();
  out.stat = *stat;
  if (!out.stat) return absl::OkStatus();
  const std::string shown = tree.Describe(path);
  switch (out.stat->type) {
    case io::EntryType::kRegular: {
      auto fd = tree.OpenFile(path, /*writable=*/false);
      if (!fd.ok()) return fd.status();
      // The open file is what is read: its own stat, not the path's.
      auto fd_stat = io::DirectoryTree::StatFd(fd->get(), shown);
      if (!fd_stat.ok()) return fd_stat.status();
      out.stat = *fd_stat;
      if (options.drop_cache) {
        if (absl::Status dropped = io::DropCachedPages(fd->get(), shown); !dropped.ok()) {
          return dropped;
        }
      }
      reading_content = true;
      if (absl::Status read = ReadContent(fd->get(), shown, options, budget, out); !read.ok()) {
        return read;
      }
      reading_content = false;
      auto xattrs = io::DirectoryTree::ReadXattrs(fd->get(), kXattrPrefix, shown);
      if (!xattrs.ok()) return xattrs.status();
      out.xattrs = *std::move(xattrs);
      return absl::OkStatus();
    }
    case io::EntryType::kDirectory: {
      auto fd = tree.OpenDirectory(path);
      if (!fd.ok()) return fd.status();
      auto xattrs = io::DirectoryTree::ReadXattrs(fd->get(), kXattrPrefix, shown);
      if (!xattrs.ok()) return xattrs.status();
      out.xattrs = *std::move(xattrs);
      return absl::OkStatus();
    }
    case io::EntryType::kSymlink: {
      auto target = tree.ReadSymlink(path);
      if (!target.ok()) return target.status();
      out.target = *std::move(target);
      return absl::OkStatus();
    }
    case io::EntryType::kOther:
      break;
  }
  return absl::OkStatus();
}

std::optional<std::string> XattrDifference(const std::map<std::string, std::string>& expected,
                                           const std::vector<io::Xattr>& observed) {
  std::map<std::string, std::string> found(observed.begin(), observed.end());
  for (const auto& [name, value] : expected) {
    const auto it = found.find(name);
    if (it == found.end()) return absl::StrCat("xattr ", name, ": missing");
    if (it->second != value) {
      return absl::StrCat("xattr ", name, ": expected ", Quoted(value), ", found ",
                          Quoted(it->second));
    }
  }
  for (const auto& [name, value] : found) {
    if (!expected.contains(name)) return absl::StrCat("xattr ", name, ": unexpected");
  }
  return std::nullopt;
}

}  // namespace

Observation Observe(const io::DirectoryTree& tree, std::string_view path,
                    const ObserveOptions& options, const IoBudget& budget) {
  Observation observation;
  bool reading_content = false;
  if (absl::Status status = ObserveInto(tree, path, options, budget, observation, reading_content);
      !status.ok()) {
    if (IsCorruptionError(status, reading_content)) {
      observation.error = std::string(status.message());
    } else {
      const int error = fscanary::ErrnoOf(status);
      // The errno stays readable too (EXDEV: a mount inside the tree).
      observation.failure = fscanary::WithMessage(
          status, error != 0 ? absl::StrCat(status.message(), " (errno ", error, ")")
                             : std::string(status.message()));
    }
  }
  return observation;
}

bool IsCorruptionError(const absl::Status& status, bool reading_content) {
  switch (fscanary::ErrnoOf(status)) {
    case EIO:
    case EUCLEAN:  // EFSCORRUPTED
    case EBADMSG:  // EFSBADCRC
    case ESTALE:
      return true;
    case ENODATA:
      return reading_content;
    default:
      return false;
  }
}

std::optional<std::string> Difference(const Node* expected, const Observation& observed) {
  if (!observed.error.empty()) return absl::StrCat("error: ", observed.error);
  if (expected == nullptr) {
    if (observed.stat) return std::string("extra entry");
    return std::nullopt;
  }
  if (!observed.stat) return std::string("missing");
  const io::EntryStat& stat = *observed.stat;
  if (stat.type != ExpectedType(expected->type)) {
    return absl::StrCat("type: expected ", AbslView(NodeTypeName(expected->type)), ", found ",
                        AbslView(TypeName(stat.type)));
  }
  if (expected->type == NodeType::kSymlink) {
    if (observed.target != expected->target) {
      return absl::StrCat("symlink target: expected ", Quoted(expected->target), ", found ",
                          Quoted(observed.target));
    }
    return std::nullopt;
  }
  if (expected->type == NodeType::kFile) {
    if (stat.size != expected->layout.size) {
      return absl::StrCat("size: expected ", expected->layout.size, ", found ", stat.size);
    }
    if (stat.nlink != expected->links) {
      return absl::StrCat("nlink: expected ", expected->links, ", found ", stat.nlink);
    }
  }
  // Only the permission bits: a setgid parent directory may add S_ISGID.
  if ((stat.mode & 0777) != (expected->mode & 0777)) {
    return absl::StrFormat("mode: expected %04o, found %04o", expected->mode & 0777,
                           stat.mode & 0777);
  }
  if (expected->type == NodeType::kFile && observed.content_hash != expected->content_hash) {
    std::string detail = absl::StrFormat("content: expected XXH3 %016x, found %016x",
                                         expected->content_hash, observed.content_hash);
    if (observed.first_difference) {
      absl::StrAppend(&detail, ", first difference at byte ", *observed.first_difference);
    }
    return detail;
  }
  return XattrDifference(expected->xattrs, observed.xattrs);
}

std::vector<std::string> ExtraNames(const TreeModel& model, std::string_view directory,
                                    const std::vector<std::string>& listed) {
  const std::vector<std::string> children = model.ChildNames(directory);
  const std::set<std::string_view> known(children.begin(), children.end());
  std::vector<std::string> extra;
  for (const std::string& name : listed) {
    if (known.contains(name)) continue;
    if (directory.empty() && (name == kMarkerName || name == kStageName)) continue;
    extra.push_back(name);
  }
  std::sort(extra.begin(), extra.end());
  return extra;
}

}  // namespace fscanary::metadata
