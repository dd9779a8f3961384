#include "checkers/metadata/tree_mutator.h"

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/absl_view.h"
#include "common/status.h"

namespace fscanary::metadata {
namespace {

constexpr size_t kWriteChunk = 64 * 1024;

// One operation in progress: the steps before its visible syscall, the
// syscall, and the syncs after it.
class Mutation {
 public:
  Mutation(const io::DirectoryTree& tree, const TreeModel& model, const Op& op,
           const IoBudget& budget)
      : tree_(tree), model_(model), op_(op), budget_(budget) {}

  MutationResult Run() {
    const absl::Status status = Dispatch();
    if (!result_.done) {
      // Whatever was built for it goes; a failure to clean up is reported
      // after the reason the operation was not done.
      if (staged_) {
        if (absl::Status cleaned = tree_.RemoveTree(StagePath(op_.seq)); !cleaned.ok()) {
          result_.status = status.ok() ? cleaned : status;
          return result_;
        }
      }
    }
    result_.status = status;
    return result_;
  }

 private:
  absl::Status Dispatch() {
    switch (op_.kind) {
      case OpKind::kCreateFile:
      case OpKind::kReplaceFile:
        return StageFileAndRename();
      case OpKind::kMakeDirectory:
        return StageDirectoryAndRename();
      case OpKind::kMakeSymlink:
        budget_.Charge(0, 1);
        RETURN_IF_ERROR(Visible(tree_.MakeSymlink(op_.target, op_.path)));
        return SyncParentOf(op_.path);
      case OpKind::kRetargetSymlink:
        return StageSymlinkAndRename();
      case OpKind::kLink:
        return Link();
      case OpKind::kRename:
        return Rename();
      case OpKind::kUnlink:
        return Unlink();
      case OpKind::kRemoveDirectory:
        budget_.Charge(0, 1);
        RETURN_IF_ERROR(Visible(tree_.RemoveDirectory(op_.path)));
        return SyncParentOf(op_.path);
      case OpKind::kTruncate:
      case OpKind::kWrite:
      case OpKind::kPunchHole:
        return ChangeFileInPlace();
      case OpKind::kSetXattr:
      case OpKind::kRemoveXattr:
        return ChangeXattr();
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown operation ", static_cast<int>(op_.kind)));
  }

  // The visible syscall's status; OK marks the operation done.
  absl::Status Visible(absl::Status status) {
    if (status.ok()) result_.done = true;
    return status;
  }

  absl::Status SyncParentOf(std::string_view path) {
    budget_.Charge(0, 1);
    return tree_.SyncDirectory(ParentOf(path));
  }

  absl::Status SyncStage() {
    budget_.Charge(0, 1);
    return tree_.SyncDirectory(kStageName);
  }

  absl::Status WriteLayout(int fd, const FileLayout& layout, const std::string& shown) {
    std::vector<std::byte> chunk(kWriteChunk);
    uint64_t end = 0;
    for (const Extent& extent : layout.extents) {
      for (uint64_t offset = extent.offset; offset < extent.offset + extent.length;) {
        const auto length = static_cast<size_t>(
            std::min<uint64_t>(kWriteChunk, extent.offset + extent.length - offset));
        const std::span<std::byte> piece = std::span(chunk).first(length);
        FillContent(layout, offset, piece);
        budget_.Charge(length, 1);
        RETURN_IF_ERROR(io::WriteAll(fd, piece, offset, shown));
        result_.bytes_written += length;
        offset += length;
      }
      end = extent.offset + extent.length;
    }
    // The rest is a hole (or the whole file is empty).
    if (layout.size > end) RETURN_IF_ERROR(io::DirectoryTree::Truncate(fd, layout.size, shown));
    return absl::OkStatus();
  }

  absl::Status SetXattrs(int fd, const std::string& shown) {
    for (const auto& [name, value] : op_.xattrs) {
      budget_.Charge(value.size(), 1);
      RETURN_IF_ERROR(io::DirectoryTree::SetXattr(fd, name, value, shown));
    }
    return absl::OkStatus();
  }

  absl::Status StageFileAndRename() {
    const std::string stage = StagePath(op_.seq);
    const std::string shown = tree_.Describe(stage);
    {
      budget_.Charge(0, 1);
      staged_ = true;
      ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.CreateFile(stage, op_.mode));
      RETURN_IF_ERROR(WriteLayout(fd.get(), op_.layout, shown));
      RETURN_IF_ERROR(SetXattrs(fd.get(), shown));
      budget_.Charge(0, 1);
      RETURN_IF_ERROR(io::DirectoryTree::Sync(fd.get(), shown));
    }
    budget_.Charge(0, 1);
    const bool replace = op_.kind == OpKind::kReplaceFile;
    if (replace) RETURN_IF_ERROR(CheckInPlaceTarget());
    RETURN_IF_ERROR(Visible(tree_.Rename(stage, op_.path, replace)));
    RETURN_IF_ERROR(SyncParentOf(op_.path));
    return SyncStage();
  }

  absl::Status StageDirectoryAndRename() {
    const std::string stage = StagePath(op_.seq);
    const std::string shown = tree_.Describe(stage);
    {
      budget_.Charge(0, 1);
      staged_ = true;
      RETURN_IF_ERROR(tree_.MakeDirectory(stage, op_.mode));
      ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.OpenDirectory(stage));
      RETURN_IF_ERROR(SetXattrs(fd.get(), shown));
      budget_.Charge(0, 1);
      RETURN_IF_ERROR(io::DirectoryTree::Sync(fd.get(), shown));
    }
    budget_.Charge(0, 1);
    RETURN_IF_ERROR(Visible(tree_.Rename(stage, op_.path, /*replace=*/false)));
    RETURN_IF_ERROR(SyncParentOf(op_.path));
    return SyncStage();
  }

  absl::Status StageSymlinkAndRename() {
    const std::string stage = StagePath(op_.seq);
    budget_.Charge(0, 2);
    staged_ = true;
    RETURN_IF_ERROR(tree_.MakeSymlink(op_.target, stage));
    // Replacing works only over what the model says is a symlink there.
    ASSIGN_OR_RETURN(const auto stat, tree_.Stat(op_.path));
    if (!stat || stat->type != io::EntryType::kSymlink) {
      return absl::FailedPreconditionError(
          absl::StrCat(tree_.Describe(op_.path), " is not a symlink as the model says"));
    }
    RETURN_IF_ERROR(Visible(tree_.Rename(stage, op_.path, /*replace=*/true)));
    RETURN_IF_ERROR(SyncParentOf(op_.path));
    return SyncStage();
  }

  absl::Status Link() {
    budget_.Charge(0, 1);
    RETURN_IF_ERROR(CheckInPlaceTarget());
    RETURN_IF_ERROR(Visible(tree_.Link(op_.path, op_.to)));
    // The inode's link count changed: fsync it, then the new name's directory.
    budget_.Charge(0, 2);
    ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.OpenFile(op_.to, /*writable=*/false));
    RETURN_IF_ERROR(io::DirectoryTree::Sync(fd.get(), tree_.Describe(op_.to)));
    return SyncParentOf(op_.to);
  }

  absl::Status Rename() {
    budget_.Charge(0, 1);
    RETURN_IF_ERROR(Visible(tree_.Rename(op_.path, op_.to, /*replace=*/false)));
    RETURN_IF_ERROR(SyncParentOf(op_.path));
    if (ParentOf(op_.path) != ParentOf(op_.to)) RETURN_IF_ERROR(SyncParentOf(op_.to));
    if (model_.Find(op_.path)->type == NodeType::kDirectory) {
      // Its ".." changed.
      budget_.Charge(0, 1);
      RETURN_IF_ERROR(tree_.SyncDirectory(op_.to));
    }
    return absl::OkStatus();
  }

  absl::Status Unlink() {
    budget_.Charge(0, 1);
    RETURN_IF_ERROR(Visible(tree_.Unlink(op_.path)));
    RETURN_IF_ERROR(SyncParentOf(op_.path));
    // The inode lives on under another name with one link less: fsync it.
    for (const std::string& other : model_.PathsOf(model_.paths.at(op_.path))) {
      if (other == op_.path) continue;
      budget_.Charge(0, 2);
      ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.OpenFile(other, /*writable=*/false));
      return io::DirectoryTree::Sync(fd.get(), tree_.Describe(other));
    }
    return absl::OkStatus();
  }

  // The file at op_.path must be a regular file with the model's link count
  // before anything is done to it or through it.
  absl::Status CheckInPlaceTarget() {
    ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.OpenFile(op_.path, /*writable=*/false));
    return CheckLinks(fd.get());
  }

  absl::Status CheckLinks(int fd) {
    const std::string shown = tree_.Describe(op_.path);
    ASSIGN_OR_RETURN(const io::EntryStat stat, io::DirectoryTree::StatFd(fd, shown));
    const uint32_t links = model_.Find(op_.path)->links;
    if (stat.nlink != links) {
      return absl::FailedPreconditionError(absl::StrCat(
          shown, " has ", stat.nlink, " links where the model has ", links, ": not touching it"));
    }
    if (links < 2) return absl::OkStatus();
    // A name swapped for a hard link to a file elsewhere (same filesystem,
    // same link count) must not be written through: every other name the
    // model has for the node must be this very inode.
    for (const std::string& other : model_.PathsOf(model_.paths.at(op_.path))) {
      if (other == op_.path) continue;
      budget_.Charge(0, 1);
      ASSIGN_OR_RETURN(const std::optional<io::EntryStat> seen, tree_.Stat(other));
      if (!seen || seen->type != io::EntryType::kRegular || seen->inode != stat.inode ||
          seen->device != stat.device) {
        return absl::FailedPreconditionError(
            absl::StrCat(shown, " is not the same inode as ", tree_.Describe(other),
                         ", another name the model has for it: not touching it"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ChangeFileInPlace() {
    const std::string shown = tree_.Describe(op_.path);
    budget_.Charge(0, 1);
    ASSIGN_OR_RETURN(io::UniqueFd fd, tree_.OpenFile(op_.path, /*writable=*/true));
    RETURN_IF_ERROR(CheckLinks(fd.get()));
    if (op_.kind == OpKind::kTruncate) {
      budget_.Charge(0, 1);
      RETURN_IF_ERROR(Visible(io::DirectoryTree::Truncate(fd.get(), op_.length, shown)));
    } else if (op_.kind == OpKind::kPunchHole) {
      budget_.Charge(0, 1);
      const absl::Status punched =
          io::DirectoryTree::PunchHole(fd.get(), op_.offset, op_.length, shown);
      if (absl::IsUnimplemented(punched)) result_.unsupported = true;
      RETURN_IF_ERROR(Visible(punched));
    } else {
      FileLayout written;
      written.Write(op_.offset, op_.length, op_.pattern);
      std::vector<std::byte> bytes(op_.length);
      FillContent(written, op_.offset, bytes);
      budget_.Charge(bytes.size(), 1);
      // One pwrite inside one 4 KiB block: all of it or none of it lands.
      RETURN_IF_ERROR(Visible(io::WriteAll(fd.get(), bytes, op_.offset, shown)));
      result_.bytes_written += bytes.size();
    }
    budget_.Charge(0, 1);
    return io::DirectoryTree::Sync(fd.get(), shown);
  }

  absl::Status ChangeXattr() {
    const std::string shown = tree_.Describe(op_.path);
    const bool directory = model_.Find(op_.path)->type == NodeType::kDirectory;
    budget_.Charge(op_.xattr_value.size(), 2);
    io::UniqueFd fd;
    if (directory) {
      ASSIGN_OR_RETURN(fd, tree_.OpenDirectory(op_.path));
    } else {
      ASSIGN_OR_RETURN(fd, tree_.OpenFile(op_.path, /*writable=*/false));
      RETURN_IF_ERROR(CheckLinks(fd.get()));
    }
    if (op_.kind == OpKind::kSetXattr) {
      RETURN_IF_ERROR(
          Visible(io::DirectoryTree::SetXattr(fd.get(), op_.xattr_name, op_.xattr_value, shown)));
    } else {
      RETURN_IF_ERROR(Visible(io::DirectoryTree::RemoveXattr(fd.get(), op_.xattr_name, shown)));
    }
    budget_.Charge(0, 1);
    return io::DirectoryTree::Sync(fd.get(), shown);
  }

  const io::DirectoryTree& tree_;
  const TreeModel& model_;
  const Op& op_;
  const IoBudget& budget_;
  MutationResult result_;
  bool staged_ = false;
};

}  // namespace

std::string StagePath(uint64_t seq) { return absl::StrCat(AbslView(kStageName), "/s", seq); }

MutationResult Perform(const io::DirectoryTree& tree, const TreeModel& model, const Op& op,
                       const IoBudget& budget) {
  return Mutation(tree, model, op, budget).Run();
}

}  // namespace fscanary::metadata
