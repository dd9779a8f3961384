#pragma once
// The filesystem metadata checker: grows a tree of directories, small and
// large files, sparse files, hard links, symlinks and xattrs in its own
// scratch directory, keeps changing it (renames, unlinks, truncates, punched
// holes, rewrites), keeps what the tree should be in a crash-consistent
// manifest outside it, and walks the tree against the manifest. A difference
// (missing or extra entry, wrong type, size, link count, mode, content,
// symlink target or xattr, or an error reading an entry) is a finding with
// the entry's path; a crash of the agent at any instant never is one.
//
// Safety: the checker writes only beneath its root, a real directory that is
// empty or carries the checker's marker (".fscanary-metadata", the tree id)
// matching the manifest; it never follows a symlink (io::DirectoryTree).
// There is no take-over of other directories in this version.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/checker/checker.h"
#include "checkers/metadata/io_budget.h"
#include "checkers/metadata/manifest_store.h"
#include "checkers/metadata/tree_model.h"
#include "io/directory_tree.h"
#include "io/posix.h"
#include "io/rate_limiter.h"

namespace fscanary::metadata {

struct MetadataOptions {
  // The target's name, as configured (for messages).
  std::string name;
  // Absolute path of the scratch directory the tree lives in. Created (mode
  // 0700) when missing; its parent must exist.
  std::string root;
  // Where the manifest lives (metadata.snapshot, metadata.journal,
  // metadata.lock): one state dir per tree, never inside `root`.
  std::string state_dir;
  // Entries (files, directories, symlinks, hard-link names) the tree grows
  // to and then keeps, within a few percent.
  uint64_t entries = 2000;
  // Operations made per mutation round once the tree is grown.
  uint32_t changes_per_round = 64;
  // Operations per step while the tree grows toward `entries` (growth runs
  // step after step, as fast as the agent's budget allows).
  uint32_t growth_changes_per_step = 256;
  // A mutation round is due this often.
  uint64_t change_interval_ns = 600'000'000'000;
  // Every entry is verified once per interval, by a walk in small steps.
  uint64_t verify_interval_ns = 3'600'000'000'000;
  uint32_t verify_entries_per_step = 512;
  // The tree's seed: 0 picks one at random. Kept in the manifest; an existing
  // tree keeps the seed it was made with.
  uint64_t seed = 0;
  // Tests only: some symlinks point here, outside the root, to show that
  // nothing is ever written through them. Empty in production.
  std::string outside_symlink_target;
  // Resolve paths with openat2 where the kernel has it; tests turn this off
  // to run the per-component O_NOFOLLOW fallback.
  bool use_openat2 = true;
  // Tests only: behave as if the filesystem refused user xattrs (ENOTSUP).
  bool test_no_user_xattrs = false;
};

// Counts since Open, for tests, logs and the one-shot CLI.
struct MetadataStats {
  uint64_t ops_done = 0;
  // Journaled but not done: the entry was not as the model said (a
  // corruption the walk reports), or an error.
  uint64_t ops_not_done = 0;
  // Not done because the filesystem lacks them (punch hole: EOPNOTSUPP).
  uint64_t ops_unsupported = 0;
  // An operation found pending at Open (a crash), and how it was resolved.
  bool recovered_pending = false;
  bool recovered_done = false;
  // It was a write or punch torn sector by sector (power loss).
  bool recovered_torn = false;
  // Its kind ("rename", ...).
  std::string recovered_op;
  std::vector<std::string> recovery_unexplained;
  bool journal_torn_tail = false;
  uint64_t compactions = 0;
  // Entries the last finished walk skipped: a mount inside the tree over
  // them or above them (logged as a warning).
  uint64_t skipped_under_mounts = 0;
  std::string last_error;
};

// Findings one walk reports before summing up the rest in one.
inline constexpr uint64_t kMaxFindingsPerWalk = 64;

class MetadataChecker final : public checker::Checker {
 public:
  // Opens (or starts) the tree at options.root with its manifest in
  // options.state_dir, resolving an operation a crash left pending, and
  // schedules a mutation round and a verification pass at once. `limiter`
  // may be null (no limit); it must outlive the checker.
  // FailedPrecondition, naming the path and why, for a root that is a
  // symlink or not a directory, that holds anything without the checker's
  // marker, whose marker names another tree than the manifest, or that is
  // empty while the manifest describes a grown tree; a state dir inside the
  // root; a state dir another checker has open; a root not owned by the
  // agent's euid or writable by group or others; a filesystem other than
  // ext2/3/4, xfs, btrfs or tmpfs (its type in hex). DataLoss for a damaged
  // manifest (never guessed around). Where user xattrs are refused
  // (ENOTSUP), the tree is grown without them (recorded in the manifest).
  static absl::StatusOr<std::unique_ptr<MetadataChecker>> Open(const MetadataOptions& options,
                                                               io::RateLimiter* limiter);

  std::string_view name() const override { return "metadata"; }
  checker::TargetDescription Describe() const override;
  uint64_t next_due_ns() const override;
  absl::StatusOr<std::vector<checker::Finding>> Step(uint64_t now_ns) override;
  checker::Activity TakeActivity() override;

  // A whole verification pass now, outside the schedule (tests, the one-shot
  // CLI). Every finding was re-checked once (`persistent`).
  absl::StatusOr<std::vector<checker::Finding>> VerifyAll();
  // `count` operations now, outside the schedule.
  absl::Status Mutate(uint64_t count);

  uint64_t tree_id() const { return tree_id_; }
  uint64_t seed() const { return seed_; }
  // The manifest's model: what the tree should be.
  const TreeModel& model() const { return model_; }
  const MetadataStats& stats() const { return stats_; }
  bool uses_openat2() const { return tree_.uses_openat2(); }

 private:
  // A verification walk in progress: the paths the model had at its start
  // ("" first, for the root's listing); entries gone since are skipped.
  struct Pass {
    std::vector<std::string> paths;
    size_t next = 0;
    uint64_t started_ns = 0;
    uint64_t spacing_ns = 0;
    // Findings reported by this walk, and those past kMaxFindingsPerWalk
    // (reported as one "tree diverged" finding when the walk ends).
    uint64_t reported = 0;
    uint64_t withheld = 0;
    // Nodes this walk already named in a persistent finding: a hard-linked
    // file is one finding however many of its names differ.
    std::set<uint64_t> reported_nodes;
    // Entries the walk could not look at for a mount over them or above them
    // (EXDEV), and the first few of their paths.
    uint64_t skipped_under_mounts = 0;
    std::vector<std::string> under_mounts;
  };

  MetadataChecker(MetadataOptions options, io::RateLimiter* limiter, io::DirectoryTree tree,
                  io::UniqueFd lock, uint64_t tree_id, uint64_t seed, TreeModel model);

  absl::Status Recover(const Manifest& manifest);
  absl::Status RunOps(uint64_t count);
  absl::Status CompactIfLarge();
  Pass StartPass(uint64_t now_ns, bool spread) const;
  // Verifies up to `limit` entries of `pass`; true when it is finished. An
  // error reading the tree that is not corruption (EMFILE, EACCES, ...)
  // stops it before that entry (retried next time) and is returned.
  absl::StatusOr<bool> VerifySome(Pass& pass, uint64_t limit,
                                  std::vector<checker::Finding>& findings);
  // A hard-linked file found with a name missing or a link count changed: the
  // finding names the missing name (what was removed) when there is one, and
  // says what the other names show.
  std::pair<std::string, std::string> AttributeLinks(const std::string& path, const Node& node,
                                                     uint64_t node_id, const std::string& detail);
  absl::Status VerifyPath(const std::string& path, Pass& pass,
                          std::vector<checker::Finding>& findings);
  // A finding about `path`: keyed on (tree, node, kind) when the model has a
  // node there (`node` != 0), else on (tree, the path's hash, kind); the
  // expected generation is always 0, so changes elsewhere never re-key it.
  checker::Finding MakeFinding(const std::string& path, std::string detail, bool persistent,
                               uint64_t node);
  // Adds `finding` unless the walk has reported kMaxFindingsPerWalk already;
  // a persistent finding's node (and an extra entry's directory) is flagged:
  // no operation touches it again.
  void Report(Pass& pass, checker::Finding finding, uint64_t node, uint64_t directory_node,
              std::vector<checker::Finding>& findings);
  // Journals the nodes flagged since the last call.
  absl::Status FlushFlags();

  MetadataOptions options_;
  IoBudget budget_;
  io::DirectoryTree tree_;
  io::UniqueFd lock_;
  uint64_t tree_id_ = 0;
  uint64_t seed_ = 0;
  TreeModel model_;
  std::unique_ptr<ManifestJournal> journal_;
  uint64_t next_change_ns_ = 0;
  uint64_t next_verify_ns_ = 0;
  std::optional<Pass> pass_;
  // Flagged in the model, not yet journaled.
  std::vector<uint64_t> unjournaled_flags_;
  bool first_pass_ = true;
  checker::Activity activity_;
  MetadataStats stats_;
  // Set when the journal could not be written or did not fit the model: the
  // checker stops changing the tree until it is opened again (which resolves
  // the journal's last operation from the disk).
  absl::Status broken_;
};

}  // namespace fscanary::metadata
