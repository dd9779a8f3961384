#include "checkers/metadata/recovery.h"

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "checkers/metadata/tree_observer.h"
#include "common/status.h"

namespace fscanary::metadata {
namespace {

constexpr uint64_t kSector = 512;

// For a write or punch of `op` on a file that is neither as before nor as
// after: the layout with, sector by sector inside the op's range, whichever
// of the old and new bytes the disk holds, when the whole file then matches
// it; nullopt when some sector (or anything outside the range) is neither.
absl::StatusOr<std::optional<FileLayout>> TornLayout(const io::DirectoryTree& tree,
                                                     const FileLayout& before,
                                                     const FileLayout& after, const Op& op,
                                                     const IoBudget& budget) {
  const std::string shown = tree.Describe(op.path);
  budget.Charge(0, 2);
  ASSIGN_OR_RETURN(io::UniqueFd fd, tree.OpenFile(op.path, /*writable=*/false));
  ASSIGN_OR_RETURN(const io::EntryStat stat, io::DirectoryTree::StatFd(fd.get(), shown));
  FileLayout mixed = before;
  const uint64_t end = op.offset + op.length;
  std::vector<std::byte> disk(kSector);
  std::vector<std::byte> wanted(kSector);
  for (uint64_t sector = op.offset / kSector * kSector; sector < end; sector += kSector) {
    const uint64_t from = std::max(sector, op.offset);
    const uint64_t to = std::min(sector + kSector, end);
    const auto length = static_cast<size_t>(to - from);
    budget.Charge(length, 1);
    ASSIGN_OR_RETURN(const size_t got,
                     io::ReadAll(fd.get(), std::span(disk).first(length), from, shown));
    FillContent(after, from, std::span(wanted).first(length));
    const bool is_new = from + got <= after.size &&
                        got == std::min<uint64_t>(length, after.size - from) &&
                        std::equal(disk.begin(), disk.begin() + got, wanted.begin());
    if (!is_new) continue;  // Old, or neither: the whole-file check decides.
    if (op.kind == OpKind::kWrite) {
      mixed.Write(from, to - from, op.pattern);
    } else {
      mixed.Punch(from, to - from);
    }
  }
  // A write past the end may have grown the size without all its sectors.
  if (stat.size > mixed.size && (stat.size == after.size || stat.size == before.size)) {
    mixed.Truncate(stat.size);
  }
  if (stat.size != mixed.size) return std::nullopt;
  StreamingHash hash;
  std::vector<std::byte> buffer(256 * 1024);
  for (uint64_t offset = 0; offset < stat.size;) {
    budget.Charge(std::min<uint64_t>(buffer.size(), stat.size - offset), 1);
    ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd.get(), buffer, offset, shown));
    if (got == 0) break;
    hash.Update(std::span(buffer).first(got));
    offset += got;
  }
  if (hash.Digest() != ContentHash(mixed)) return std::nullopt;
  return mixed;
}

}  // namespace

absl::StatusOr<Resolution> ResolvePending(const io::DirectoryTree& tree, const TreeModel& model,
                                          const Op& op, const IoBudget& budget) {
  TreeModel after = model;
  RETURN_IF_ERROR(ApplyOp(after, op));
  Resolution resolution;
  resolution.touched = ChangedPaths(model, after);
  // The op's own names even where nothing observable changed.
  for (const std::string* name : {&op.path, &op.to}) {
    if (!name->empty() && std::find(resolution.touched.begin(), resolution.touched.end(), *name) ==
                              resolution.touched.end()) {
      resolution.touched.push_back(*name);
    }
  }
  std::vector<std::string> not_after;
  bool all_before = true;
  for (const std::string& path : resolution.touched) {
    const Observation observed = Observe(tree, path, {}, budget);
    // Not corruption, and not an answer: the caller retries at the next Open.
    if (!observed.failure.ok()) return observed.failure;
    const bool is_after = !Difference(after.Find(path), observed).has_value();
    const bool is_before = !Difference(model.Find(path), observed).has_value();
    if (!is_after) not_after.push_back(path);
    if (!is_before) all_before = false;
  }
  if (!not_after.empty() && !all_before &&
      (op.kind == OpKind::kWrite || op.kind == OpKind::kPunchHole)) {
    // Power loss inside one small write: some sectors old, some new. Only
    // the op's file (through any of its names) may be off.
    const uint64_t node = model.paths.at(op.path);
    const bool only_this_file = std::all_of(not_after.begin(), not_after.end(), [&](const auto& p) {
      const auto it = model.paths.find(p);
      return it != model.paths.end() && it->second == node;
    });
    if (only_this_file) {
      ASSIGN_OR_RETURN(
          std::optional<FileLayout> torn,
          TornLayout(tree, model.nodes.at(node).layout, after.nodes.at(node).layout, op, budget));
      if (torn) {
        resolution.done = true;
        resolution.torn_layout = std::move(torn);
        return resolution;
      }
    }
  }
  if (not_after.empty()) {
    resolution.done = true;
  } else if (all_before) {
    resolution.done = false;
  } else {
    resolution.done = true;
    resolution.unexplained = std::move(not_after);
  }
  return resolution;
}

}  // namespace fscanary::metadata
