#include "checkers/metadata/metadata_checker.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <span>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkers/metadata/absl_view.h"
#include "checkers/metadata/op_generator.h"
#include "checkers/metadata/recovery.h"
#include "checkers/metadata/tree_mutator.h"
#include "checkers/metadata/tree_observer.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::metadata {
namespace {

constexpr std::string_view kMarkerTempName = ".fscanary-metadata.tmp";
constexpr std::string_view kMarkerMagic = "fscanary-metadata-tree 1\n";
// Compact the journal past these (a snapshot of a 2000-entry tree is a few
// hundred KiB; replaying 8 MiB of journal takes well under a second).
constexpr uint64_t kCompactJournalBytes = 8 << 20;
constexpr uint64_t kCompactJournalRecords = 50'000;
constexpr uint32_t kMetadataFindingKind =
    static_cast<uint32_t>(checker::FindingKind::kMetadataMismatch);

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

bool IsInside(const std::string& path, const std::string& directory) {
  return path == directory || (path.size() > directory.size() && path.starts_with(directory) &&
                               (directory == "/" || path[directory.size()] == '/'));
}

uint64_t NonZeroRandom() {
  for (;;) {
    if (const uint64_t value = io::RandomU64(); value != 0) return value;
  }
}

bool SupportedFilesystem(uint64_t type) {
  return type == EXT4_SUPER_MAGIC || type == XFS_SUPER_MAGIC || type == BTRFS_SUPER_MAGIC ||
         type == TMPFS_MAGIC;
}

// Whether the filesystem takes user xattrs: one set and removed on the
// marker. False for ENOTSUP/EOPNOTSUPP; other errors are returned.
absl::StatusOr<bool> ProbeUserXattrs(const io::DirectoryTree& tree) {
  const std::string shown = tree.Describe(kMarkerName);
  ASSIGN_OR_RETURN(io::UniqueFd fd, tree.OpenFile(kMarkerName, /*writable=*/false));
  const std::string name = "user.fscanary.probe";
  const absl::Status set = io::DirectoryTree::SetXattr(fd.get(), name, "1", shown);
  if (!set.ok()) {
    const int error = fscanary::ErrnoOf(set);
    if (error == ENOTSUP || error == EOPNOTSUPP || absl::IsUnimplemented(set)) return false;
    return set;
  }
  RETURN_IF_ERROR(io::DirectoryTree::RemoveXattr(fd.get(), name, shown));
  return true;
}

std::string TreeIdText(uint64_t id) { return absl::StrFormat("%016x", id); }

std::string MarkerText(uint64_t tree_id) {
  return absl::StrCat(AbslView(kMarkerMagic), TreeIdText(tree_id), "\n");
}

// The tree id in the root's marker; FailedPrecondition when the marker is
// not a regular file holding one.
absl::StatusOr<uint64_t> ReadMarker(const io::DirectoryTree& tree) {
  const std::string shown = tree.Describe(kMarkerName);
  ASSIGN_OR_RETURN(io::UniqueFd fd, tree.OpenFile(kMarkerName, /*writable=*/false));
  std::string text(256, '\0');
  ASSIGN_OR_RETURN(const size_t got,
                   io::ReadAll(fd.get(), std::as_writable_bytes(std::span(text)), 0, shown));
  text.resize(got);
  uint64_t id = 0;
  if (!text.starts_with(kMarkerMagic) || text.size() != kMarkerMagic.size() + 17 ||
      text.back() != '\n' ||
      !absl::SimpleHexAtoi(absl::string_view(text).substr(kMarkerMagic.size(), 16), &id) ||
      id == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(shown, " is not an fscanary metadata tree marker"));
  }
  return id;
}

absl::Status WriteMarker(const io::DirectoryTree& tree, uint64_t tree_id) {
  const std::string temp(kMarkerTempName);
  RETURN_IF_ERROR(tree.RemoveTree(temp));
  {
    ASSIGN_OR_RETURN(io::UniqueFd fd, tree.CreateFile(temp, 0644));
    const std::string text = MarkerText(tree_id);
    RETURN_IF_ERROR(io::WriteAll(fd.get(), std::as_bytes(std::span(text)), 0, tree.Describe(temp)));
    RETURN_IF_ERROR(io::DirectoryTree::Sync(fd.get(), tree.Describe(temp)));
  }
  RETURN_IF_ERROR(tree.Rename(temp, kMarkerName, /*replace=*/false));
  return tree.SyncDirectory("");
}

}  // namespace

MetadataChecker::MetadataChecker(MetadataOptions options, io::RateLimiter* limiter,
                                 io::DirectoryTree tree, io::UniqueFd lock, uint64_t tree_id,
                                 uint64_t seed, TreeModel model)
    : options_(std::move(options)),
      budget_{.limiter = limiter},
      tree_(std::move(tree)),
      lock_(std::move(lock)),
      tree_id_(tree_id),
      seed_(seed),
      model_(std::move(model)) {}

absl::StatusOr<std::unique_ptr<MetadataChecker>> MetadataChecker::Open(
    const MetadataOptions& options, io::RateLimiter* limiter) {
  if (options.root.empty() || options.root.front() != '/' || options.state_dir.empty() ||
      options.state_dir.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("metadata target ", options.name,
                                                   ": root and state_dir must be absolute paths"));
  }
  if (options.entries == 0 || options.verify_entries_per_step == 0) {
    return absl::InvalidArgumentError(absl::StrCat("metadata target ", options.name,
                                                   ": entries and verify_entries_per_step "
                                                   "must be positive"));
  }
  const std::string root = StripTrailingSlashes(options.root);
  const std::string state_dir = StripTrailingSlashes(options.state_dir);
  // Checked by name before anything is created, then again without symlinks.
  if (IsInside(state_dir, root)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state dir ", state_dir, " is inside the metadata root ", root, ": keep it outside"));
  }
  RETURN_IF_ERROR(io::MakeDirectories(state_dir));
  ASSIGN_OR_RETURN(
      io::DirectoryTree tree,
      io::DirectoryTree::Open(root, {.create_root = true, .use_openat2 = options.use_openat2}));
  ASSIGN_OR_RETURN(const uint64_t filesystem, tree.FilesystemType());
  if (!SupportedFilesystem(filesystem)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is on a filesystem of type 0x%x: the metadata checker runs only on ext2/ext3/ext4 "
        "(0x%x), xfs (0x%x), btrfs (0x%x) and tmpfs (0x%x)",
        root, filesystem, EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, TMPFS_MAGIC));
  }
  ASSIGN_OR_RETURN(const std::string real_root, io::RealPath(root));
  ASSIGN_OR_RETURN(const std::string real_state, io::RealPath(state_dir));
  if (IsInside(real_state, real_root)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state dir ", state_dir, " is inside the metadata root ", root, ": keep it outside"));
  }
  const std::string lock_path = absl::StrCat(state_dir, "/", AbslView(kLockFileName));
  ASSIGN_OR_RETURN(io::UniqueFd lock, io::Open(lock_path, O_RDWR | O_CREAT, 0600));
  RETURN_IF_ERROR(io::LockFile(lock.get(), /*exclusive=*/true, lock_path));

  ASSIGN_OR_RETURN(const std::vector<std::string> names, tree.List(""));
  const bool has_marker = std::find(names.begin(), names.end(), kMarkerName) != names.end();
  absl::StatusOr<Manifest> manifest = LoadManifest(state_dir);
  if (!manifest.ok() && !absl::IsNotFound(manifest.status())) return manifest.status();

  uint64_t tree_id = 0;
  uint64_t seed = 0;
  bool write_marker = false;
  if (has_marker) {
    ASSIGN_OR_RETURN(tree_id, ReadMarker(tree));
    if (!manifest.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          root, " holds metadata tree ", TreeIdText(tree_id), " but ", state_dir,
          " has no manifest for it: not reusing a tree whose expected state is unknown"));
    }
    if (manifest->tree_id != tree_id) {
      return absl::FailedPreconditionError(
          absl::StrCat(root, " holds metadata tree ", TreeIdText(tree_id), " but the manifest in ",
                       state_dir, " belongs to tree ", TreeIdText(manifest->tree_id)));
    }
    seed = manifest->seed;
  } else {
    std::vector<std::string> foreign;
    for (const std::string& name : names) {
      if (name != kMarkerTempName) foreign.push_back(absl::StrCat("\"", name, "\""));
    }
    if (!foreign.empty()) {
      if (foreign.size() > 5) foreign.resize(5);
      return absl::FailedPreconditionError(
          absl::StrCat(root, " is not empty and carries no ", AbslView(kMarkerName),
                       " marker: not taking over a directory fscanary did not make (it holds ",
                       absl::StrJoin(foreign, ", "), ")"));
    }
    if (manifest.ok()) {
      if (!manifest->model.paths.empty() || manifest->pending) {
        return absl::FailedPreconditionError(absl::StrCat(
            root, " is empty but the manifest in ", state_dir, " describes metadata tree ",
            TreeIdText(manifest->tree_id), " with ", manifest->model.paths.size(),
            " entries (was the tree removed?): remove the manifest to start a new tree"));
      }
      // Made, but stopped before its marker was written.
      tree_id = manifest->tree_id;
      seed = manifest->seed;
    } else {
      tree_id = NonZeroRandom();
      seed = options.seed != 0 ? options.seed : NonZeroRandom();
      RETURN_IF_ERROR(ManifestJournal::Rewrite(state_dir, tree_id, seed, {}).status());
      manifest = LoadManifest(state_dir);
      if (!manifest.ok()) return manifest.status();
    }
    write_marker = true;
  }
  if (write_marker) RETURN_IF_ERROR(WriteMarker(tree, tree_id));
  ASSIGN_OR_RETURN(const auto stage, tree.Stat(kStageName));
  if (!stage) {
    RETURN_IF_ERROR(tree.MakeDirectory(kStageName, 0700));
    RETURN_IF_ERROR(tree.SyncDirectory(""));
  } else if (stage->type != io::EntryType::kDirectory) {
    return absl::FailedPreconditionError(
        absl::StrCat(tree.Describe(kStageName), " is not a directory"));
  }

  bool user_xattrs = false;
  if (!options.test_no_user_xattrs) {
    ASSIGN_OR_RETURN(user_xattrs, ProbeUserXattrs(tree));
  }

  std::unique_ptr<MetadataChecker> checker(new MetadataChecker(
      options, limiter, std::move(tree), std::move(lock), tree_id, seed, manifest->model));
  checker->options_.root = root;
  checker->options_.state_dir = state_dir;
  RETURN_IF_ERROR(checker->Recover(*manifest));
  // Kept once set (the snapshot written next records it): the generator
  // never picks xattr operations for this tree.
  if (!user_xattrs) checker->model_.xattrs_unsupported = true;
  // Every Open compacts: the journal restarts without a torn tail.
  ASSIGN_OR_RETURN(checker->journal_,
                   ManifestJournal::Rewrite(state_dir, tree_id, seed, checker->model_));
  return checker;
}

absl::Status MetadataChecker::Recover(const Manifest& manifest) {
  stats_.journal_torn_tail = manifest.torn_tail;
  if (manifest.pending) {
    const Op& op = *manifest.pending;
    stats_.recovered_pending = true;
    stats_.recovered_op = std::string(OpKindName(op.kind));
    auto resolution = ResolvePending(tree_, model_, op, budget_);
    if (!resolution.ok() && !absl::IsFailedPrecondition(resolution.status())) {
      // Reading the tree failed (EMFILE, EACCES, ...): try again later.
      return resolution.status();
    }
    if (!resolution.ok()) {
      return absl::DataLossError(
          absl::StrCat("metadata target ", options_.name,
                       ": the journal's pending operation: ", resolution.status().message()));
    }
    stats_.recovered_done = resolution->done;
    stats_.recovery_unexplained = resolution->unexplained;
    RETURN_IF_ERROR(resolution->done ? ApplyOp(model_, op) : SkipOp(model_, op));
    if (resolution->torn_layout) {
      // Part old, part new: what is there is what is expected from now on
      // (the snapshot Open writes next holds it).
      stats_.recovered_torn = true;
      Node& node = model_.nodes.at(model_.paths.at(op.path));
      node.layout = *resolution->torn_layout;
      node.content_hash = ContentHash(node.layout);
    }
  }
  // Whatever an operation was building when it stopped.
  ASSIGN_OR_RETURN(const std::vector<std::string> staged, tree_.List(kStageName));
  for (const std::string& name : staged) {
    RETURN_IF_ERROR(tree_.RemoveTree(absl::StrCat(AbslView(kStageName), "/", name)));
  }
  // What the pending operation did is now expected: make it durable before
  // the journal says so.
  if (manifest.pending || !staged.empty()) RETURN_IF_ERROR(tree_.SyncFilesystem());
  return absl::OkStatus();
}

checker::TargetDescription MetadataChecker::Describe() const {
  uint64_t bytes = 0;
  for (const auto& [id, node] : model_.nodes) bytes += node.layout.size;
  return {.path = options_.root,
          .kind = "directory",
          .size_bytes = bytes,
          .block_size = 0,
          .engine = "",
          .target_id = tree_id_};
}

uint64_t MetadataChecker::next_due_ns() const {
  // Nothing changes before the first walk after Open has looked at the tree.
  if (first_pass_) return next_verify_ns_;
  return std::min(next_change_ns_, next_verify_ns_);
}

absl::StatusOr<std::vector<checker::Finding>> MetadataChecker::Step(uint64_t now_ns) {
  RETURN_IF_ERROR(broken_);
  std::vector<checker::Finding> findings;
  if (now_ns >= next_verify_ns_) {
    if (!pass_) pass_ = StartPass(now_ns, /*spread=*/!first_pass_);
    absl::StatusOr<bool> finished = VerifySome(*pass_, options_.verify_entries_per_step, findings);
    if (!finished.ok()) {
      // Not corruption (EMFILE, EACCES, ...): an error, the walk resumes at
      // the same entry next time. Findings found before it go out, and the
      // error with them (a step returns findings or an error, not both).
      activity_.findings += findings.size();
      if (findings.empty()) return finished.status();
      findings.push_back(checker::FromStepError(options_.root, finished.status()));
      return findings;
    }
    if (*finished) {
      ++activity_.passes_completed;
      next_verify_ns_ = std::max(now_ns, pass_->started_ns + options_.verify_interval_ns);
      pass_.reset();
      first_pass_ = false;
    } else {
      next_verify_ns_ = now_ns + pass_->spacing_ns;
    }
  }
  absl::Status trouble;
  if (!first_pass_ && now_ns >= next_change_ns_) {
    const bool growing = model_.paths.size() * 10 < options_.entries * 9;
    trouble = RunOps(growing ? options_.growth_changes_per_step : options_.changes_per_round);
    const bool still_growing = model_.paths.size() * 10 < options_.entries * 9;
    next_change_ns_ = still_growing ? now_ns : now_ns + options_.change_interval_ns;
  }
  if (trouble.ok()) trouble = CompactIfLarge();
  activity_.findings += findings.size();
  // Findings found go out even when the rest of the step failed, and the
  // error as an io_error finding beside them: dropped, it would show only at
  // the next round, if that failed without findings.
  if (!trouble.ok() && findings.empty()) return trouble;
  if (!trouble.ok()) findings.push_back(checker::FromStepError(options_.root, trouble));
  return findings;
}

absl::Status MetadataChecker::Mutate(uint64_t count) {
  RETURN_IF_ERROR(broken_);
  RETURN_IF_ERROR(RunOps(count));
  return CompactIfLarge();
}

absl::Status MetadataChecker::RunOps(uint64_t count) {
  const TreeShape shape{.entries = options_.entries,
                        .outside_symlink_target = options_.outside_symlink_target};
  uint64_t failures = 0;
  absl::Status last_failure;
  // Journal and model errors stop the checker (broken_): the journal then
  // ends with the op pending, which the next Open resolves from the disk.
  const auto stop = [this](absl::Status status) {
    broken_ = status;
    return status;
  };
  for (uint64_t i = 0; i < count; ++i) {
    const Op op = NextOp(model_, seed_, shape);
    if (absl::Status logged = journal_->AppendIntent(op); !logged.ok()) return stop(logged);
    const MutationResult result = Perform(tree_, model_, op, budget_);
    if (result.done) {
      // The generator made it from this model: a misfit here is a bug.
      if (absl::Status applied = ApplyOp(model_, op); !applied.ok()) return stop(applied);
      ++stats_.ops_done;
      ++activity_.entries_changed;
    } else {
      if (absl::Status skipped = SkipOp(model_, op); !skipped.ok()) return stop(skipped);
      ++stats_.ops_not_done;
      if (result.unsupported) ++stats_.ops_unsupported;
    }
    if (absl::Status logged = journal_->AppendOutcome(op.seq, result.done); !logged.ok()) {
      return stop(logged);
    }
    activity_.bytes_written += result.bytes_written;
    if (!result.status.ok() && !result.unsupported) {
      ++failures;
      last_failure = result.status;
      stats_.last_error = std::string(result.status.message());
      const absl::StatusCode code = result.status.code();
      if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kAlreadyExists &&
          code != absl::StatusCode::kFailedPrecondition) {
        ++activity_.io_errors;
      }
    }
  }
  // A round in which nothing could be done is an error; single failures are
  // entries not as the model says, which the walk reports.
  if (count > 0 && failures == count) return last_failure;
  return absl::OkStatus();
}

absl::Status MetadataChecker::CompactIfLarge() {
  if (journal_->bytes() < kCompactJournalBytes && journal_->records() < kCompactJournalRecords) {
    return absl::OkStatus();
  }
  auto rewritten = ManifestJournal::Rewrite(options_.state_dir, tree_id_, seed_, model_);
  if (!rewritten.ok()) {
    // The old journal may be half replaced: stop until reopened.
    broken_ = rewritten.status();
    return broken_;
  }
  journal_ = *std::move(rewritten);
  ++stats_.compactions;
  return absl::OkStatus();
}

MetadataChecker::Pass MetadataChecker::StartPass(uint64_t now_ns, bool spread) const {
  Pass pass{.started_ns = now_ns};
  pass.paths.reserve(model_.paths.size() + 1);
  pass.paths.emplace_back();
  for (const auto& [path, id] : model_.paths) pass.paths.push_back(path);
  if (spread) {
    const uint64_t steps = (pass.paths.size() + options_.verify_entries_per_step - 1) /
                           options_.verify_entries_per_step;
    pass.spacing_ns = options_.verify_interval_ns / (steps + 1);
  }
  return pass;
}

absl::StatusOr<bool> MetadataChecker::VerifySome(Pass& pass, uint64_t limit,
                                                 std::vector<checker::Finding>& findings) {
  uint64_t verified = 0;
  absl::Status trouble;
  while (pass.next < pass.paths.size() && verified < limit) {
    const std::string& path = pass.paths[pass.next];
    if (!path.empty() && !model_.paths.contains(path)) {  // Gone since the pass began.
      ++pass.next;
      continue;
    }
    trouble = VerifyPath(path, pass, findings);
    if (fscanary::ErrnoOf(trouble) == EXDEV) {
      // Something is mounted over the entry (or above it): not the tree's,
      // neither read nor reported; the rest of the tree is still walked.
      if (pass.under_mounts.size() < 4) pass.under_mounts.push_back(path);
      ++pass.skipped_under_mounts;
      trouble = absl::OkStatus();
      ++pass.next;
      continue;
    }
    if (!trouble.ok()) break;
    ++pass.next;
    ++verified;
    ++activity_.entries_verified;
  }
  if (absl::Status flushed = FlushFlags(); !flushed.ok()) return flushed;
  RETURN_IF_ERROR(trouble);
  const bool finished = pass.next >= pass.paths.size();
  if (finished) {
    stats_.skipped_under_mounts = pass.skipped_under_mounts;
    if (pass.skipped_under_mounts > 0) {
      spdlog::warn("metadata target {}: {} entries not checked: a mount inside the tree, at {}",
                   options_.name, pass.skipped_under_mounts,
                   absl::StrJoin(pass.under_mounts, ", "));
    }
  }
  if (finished && pass.withheld > 0) {
    findings.push_back(MakeFinding(
        "", absl::StrCat("tree diverged: ", pass.withheld, " more differences not listed"),
        /*persistent=*/true, 0));
    // One key per tree, whatever the count.
    findings.back().key.offset = 0;
    pass.withheld = 0;
  }
  return finished;
}

absl::Status MetadataChecker::FlushFlags() {
  for (size_t i = 0; i < unjournaled_flags_.size(); ++i) {
    if (absl::Status logged = journal_->AppendFlag(unjournaled_flags_[i]); !logged.ok()) {
      // The model has flags the journal lacks: stop until reopened.
      unjournaled_flags_.clear();
      broken_ = logged;
      return logged;
    }
  }
  unjournaled_flags_.clear();
  return absl::OkStatus();
}

void MetadataChecker::Report(Pass& pass, checker::Finding finding, uint64_t node,
                             uint64_t directory_node, std::vector<checker::Finding>& findings) {
  if (finding.persistent) {
    for (const uint64_t id : {node, directory_node}) {
      if (id != 0 && model_.nodes.contains(id) && !model_.flagged.contains(id)) {
        FlagNode(model_, id);
        unjournaled_flags_.push_back(id);
      }
    }
  }
  if (pass.reported >= kMaxFindingsPerWalk) {
    ++pass.withheld;
    return;
  }
  ++pass.reported;
  findings.push_back(std::move(finding));
}

absl::Status MetadataChecker::VerifyPath(const std::string& path, Pass& pass,
                                         std::vector<checker::Finding>& findings) {
  const Node* node = path.empty() ? nullptr : model_.Find(path);
  const uint64_t node_id = node != nullptr ? model_.paths.at(path) : 0;
  if (node != nullptr) {
    if (pass.reported_nodes.contains(node_id)) return absl::OkStatus();
    const Observation first = Observe(tree_, path, {}, budget_);
    activity_.bytes_verified += first.bytes_read;
    RETURN_IF_ERROR(first.failure);
    const std::optional<std::string> detail = Difference(node, first);
    if (detail) {
      if (!first.error.empty()) ++activity_.io_errors;
      // Once more from the device: a difference only the page cache had is
      // transient, and the byte compare says where the content departs.
      const Observation again =
          Observe(tree_, path,
                  {.drop_cache = true,
                   .compare_with = node->type == NodeType::kFile ? &node->layout : nullptr},
                  budget_);
      activity_.bytes_verified += again.bytes_read;
      RETURN_IF_ERROR(again.failure);
      const std::optional<std::string> second = Difference(node, again);
      if (!second) {
        Report(pass, MakeFinding(path, *detail, /*persistent=*/false, node_id), node_id, 0,
               findings);
        return absl::OkStatus();
      }
      auto [where, what] = AttributeLinks(path, *node, node_id, *second);
      Report(pass, MakeFinding(where, std::move(what), /*persistent=*/true, node_id), node_id, 0,
             findings);
      pass.reported_nodes.insert(node_id);
      return absl::OkStatus();
    }
    if (node->type != NodeType::kDirectory) return absl::OkStatus();
  }
  budget_.Charge(0, 1);
  auto listed = tree_.List(path);
  if (!listed.ok()) {
    if (!IsCorruptionError(listed.status(), /*reading_content=*/false)) {
      const int error = fscanary::ErrnoOf(listed.status());
      return fscanary::WithMessage(
          listed.status(),
          absl::StrCat("metadata target ", options_.name, ": listing ", tree_.Describe(path), ": ",
                       listed.status().message(), " (errno ", error, ")"));
    }
    ++activity_.io_errors;
    const bool persistent = !tree_.List(path).ok();
    Report(
        pass,
        MakeFinding(path, absl::StrCat("error: ", listed.status().message()), persistent, node_id),
        node_id, 0, findings);
    return absl::OkStatus();
  }
  for (const std::string& name : ExtraNames(model_, path, *listed)) {
    const std::string child = path.empty() ? name : absl::StrCat(path, "/", name);
    auto again = tree_.Stat(child);
    const bool persistent = !again.ok() || again->has_value();
    // Its directory is flagged: a rename above would change its path.
    Report(pass, MakeFinding(child, "extra entry", persistent, 0), 0, node_id, findings);
  }
  return absl::OkStatus();
}

std::pair<std::string, std::string> MetadataChecker::AttributeLinks(const std::string& path,
                                                                    const Node& node,
                                                                    uint64_t node_id,
                                                                    const std::string& detail) {
  if (node.type != NodeType::kFile || node.links < 2) return {path, detail};
  if (detail != "missing" && !detail.starts_with("nlink:")) return {path, detail};
  std::vector<std::string> missing;
  std::string present;  // A name still there, with a link count not the model's.
  for (const std::string& name : model_.PathsOf(node_id)) {
    budget_.Charge(0, 1);
    absl::StatusOr<std::optional<io::EntryStat>> stat = tree_.Stat(name);
    if (!stat.ok()) continue;  // Its own walk step reports what is wrong with it.
    if (!stat->has_value()) {
      missing.push_back(name);
    } else if (present.empty() && (*stat)->nlink != node.links) {
      present =
          absl::StrCat(name, " has nlink ", (*stat)->nlink, " where ", node.links, " is expected");
    }
  }
  if (missing.empty()) return {path, detail};
  std::string what = "missing";
  if (missing.size() > 1) {
    absl::StrAppend(&what, ", as are ", absl::StrJoin(missing.begin() + 1, missing.end(), ", "));
  }
  if (!present.empty()) absl::StrAppend(&what, " (a hard link: ", present, ")");
  return {missing.front(), what};
}

checker::Finding MetadataChecker::MakeFinding(const std::string& path, std::string detail,
                                              bool persistent, uint64_t node) {
  checker::Finding finding;
  finding.kind = checker::FindingKind::kMetadataMismatch;
  finding.persistent = persistent;
  finding.path = path;
  finding.detail = std::move(detail);
  // Node ids are small counters; a path's hash has the top bit set, so the
  // two never meet (and 0 is the tree-wide "diverged" finding).
  const uint64_t offset =
      node != 0 ? node : (XXH3_64bits(path.data(), path.size()) | (uint64_t{1} << 63));
  finding.key = {.target_id = tree_id_,
                 .offset = offset,
                 .expected_generation = 0,
                 .kind = kMetadataFindingKind};
  return finding;
}

absl::StatusOr<std::vector<checker::Finding>> MetadataChecker::VerifyAll() {
  std::vector<checker::Finding> findings;
  Pass pass = StartPass(io::MonotonicNanos(), /*spread=*/false);
  RETURN_IF_ERROR(VerifySome(pass, std::numeric_limits<uint64_t>::max(), findings).status());
  ++activity_.passes_completed;
  activity_.findings += findings.size();
  return findings;
}

checker::Activity MetadataChecker::TakeActivity() {
  checker::Activity taken = activity_;
  activity_ = {};
  return taken;
}

}  // namespace fscanary::metadata
