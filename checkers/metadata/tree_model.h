#pragma once
// The metadata tree as it should be (the manifest's model) and the operations
// that change it. Every entry is a node (file, directory or symlink) reached by
// one or more paths (more than one only for hard-linked files); a file's
// content is its FileLayout. Applying an operation to the model is pure: the
// same model and operation give the same model, which is what makes the
// journal replayable and a crash resolvable.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "checkers/metadata/file_layout.h"

namespace fscanary::metadata {

enum class NodeType : uint8_t { kFile = 1, kDirectory = 2, kSymlink = 3 };
// "file", "directory", "symlink".
std::string_view NodeTypeName(NodeType type);

struct Node {
  NodeType type = NodeType::kFile;
  // Permission bits as set (files and directories).
  uint32_t mode = 0;
  // The seq of the last operation that changed this node (its content,
  // xattrs, links or name): the "generation" a finding about it names.
  uint64_t generation = 0;
  FileLayout layout;
  // ContentHash(layout), kept so verification needs no regeneration.
  uint64_t content_hash = 0;
  std::string target;
  // user.fscanary.* name -> value.
  std::map<std::string, std::string> xattrs;
  // Paths naming this node (derived, not stored): a file's expected nlink.
  uint32_t links = 0;
  friend bool operator==(const Node&, const Node&) = default;
};

// Names the checker keeps at the root beside the model's entries.
inline constexpr std::string_view kMarkerName = ".fscanary-metadata";
inline constexpr std::string_view kStageName = ".fscanary-stage";
// The directory grown to several hundred long names (ext4 htree, XFS
// block/leaf/node directories, btrfs dir index); never renamed or removed.
inline constexpr std::string_view kBigDirectoryName = "htree";

struct TreeModel {
  // The seq of the last operation journaled (applied or aborted).
  uint64_t seq = 0;
  uint64_t next_node = 1;
  // Names are made unique by a counter, so no name is ever reused.
  uint64_t next_name = 1;
  // Every entry but the root, path -> node id. Ordered so that a directory's
  // descendants are the contiguous range after "dir/".
  std::map<std::string, uint64_t> paths;
  std::map<uint64_t, Node> nodes;
  // Nodes a persistent finding named: the evidence. No operation is made on
  // them, on their names, or on the directories above them (op_generator);
  // journaled (FLAG records) and kept in the snapshot.
  std::set<uint64_t> flagged;
  // The filesystem refused user xattrs at Open: no xattr operations.
  bool xattrs_unsupported = false;

  // The node at `path`, or null.
  const Node* Find(std::string_view path) const;
  // Direct children of `directory` ("" is the root), by name.
  std::vector<std::string> ChildNames(std::string_view directory) const;
  // Every path naming `node`.
  std::vector<std::string> PathsOf(uint64_t node) const;
  // Recomputes each node's `links` from `paths`.
  void CountLinks();
  friend bool operator==(const TreeModel&, const TreeModel&) = default;
};

// "a/b/c" -> "a/b"; "c" -> "".
std::string_view ParentOf(std::string_view path);
// "a/b/c" -> "c".
std::string_view NameOf(std::string_view path);
// Directories between the root and `path` ("c" is 0, "a/b/c" is 2).
int DepthOf(std::string_view path);

enum class OpKind : uint8_t {
  kCreateFile = 1,
  kMakeDirectory = 2,
  kMakeSymlink = 3,
  kLink = 4,
  kRename = 5,
  kUnlink = 6,
  kRemoveDirectory = 7,
  kReplaceFile = 8,
  kTruncate = 9,
  kWrite = 10,
  kPunchHole = 11,
  kSetXattr = 12,
  kRemoveXattr = 13,
  kRetargetSymlink = 14,
};
inline constexpr uint8_t kLastOpKind = 14;
std::string_view OpKindName(OpKind kind);

// One change to the tree, self-contained: applying it needs only the model.
struct Op {
  OpKind kind = OpKind::kCreateFile;
  uint64_t seq = 0;
  std::string path;
  // kLink, kRename: the new name.
  std::string to;
  // kCreateFile, kMakeDirectory, kMakeSymlink, kReplaceFile: the new node's
  // id and what it is made with.
  uint64_t node = 0;
  uint32_t mode = 0;
  FileLayout layout;
  std::vector<std::pair<std::string, std::string>> xattrs;
  // kMakeSymlink, kRetargetSymlink.
  std::string target;
  // kWrite: `length` bytes of `pattern` at `offset`; kPunchHole: the range;
  // kTruncate: the new size in `length`.
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t pattern = 0;
  // kSetXattr (name and value), kRemoveXattr (name).
  std::string xattr_name;
  std::string xattr_value;
  friend bool operator==(const Op&, const Op&) = default;
};

// Applies `op` (its seq must be model.seq + 1). FailedPrecondition, leaving
// the model unchanged, when the op does not fit the model (a journal that
// does not belong to this model).
absl::Status ApplyOp(TreeModel& model, const Op& op);
// Marks `node` as the evidence of a finding (no-op for an unknown node).
void FlagNode(TreeModel& model, uint64_t node);
// Records `op` as journaled but not done (the model only advances its seq).
absl::Status SkipOp(TreeModel& model, const Op& op);

// The paths whose expected state differs between `before` and `after`.
std::vector<std::string> ChangedPaths(const TreeModel& before, const TreeModel& after);

}  // namespace fscanary::metadata
