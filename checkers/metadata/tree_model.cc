#include "checkers/metadata/tree_model.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/absl_view.h"
#include "common/status.h"

namespace fscanary::metadata {
namespace {

absl::Status Misfit(const Op& op, std::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("operation ", op.seq, " (", AbslView(OpKindName(op.kind)), " ", op.path,
                   ") does not fit the model: ", absl::string_view(why.data(), why.size())));
}

bool IsDirectory(const TreeModel& model, std::string_view path) {
  if (path.empty()) return true;
  const Node* node = model.Find(path);
  return node != nullptr && node->type == NodeType::kDirectory;
}

// Checks that `path` may be created: absent, its parent a directory.
absl::Status CheckNewName(const TreeModel& model, const Op& op, const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return Misfit(op, "bad name");
  if (model.paths.contains(path)) return Misfit(op, "name exists");
  if (!IsDirectory(model, ParentOf(path))) return Misfit(op, "parent is not a directory");
  return absl::OkStatus();
}

// Whether what a path shows on disk is the same in `a` and `b`.
bool SameObservable(const Node& a, const Node& b) {
  if (a.type != b.type || a.mode != b.mode || a.target != b.target || a.xattrs != b.xattrs) {
    return false;
  }
  if (a.type != NodeType::kFile) return true;
  return a.layout == b.layout && a.links == b.links;
}

}  // namespace

std::string_view NodeTypeName(NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return "file";
    case NodeType::kDirectory:
      return "directory";
    case NodeType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kCreateFile:
      return "create_file";
    case OpKind::kMakeDirectory:
      return "make_directory";
    case OpKind::kMakeSymlink:
      return "make_symlink";
    case OpKind::kLink:
      return "link";
    case OpKind::kRename:
      return "rename";
    case OpKind::kUnlink:
      return "unlink";
    case OpKind::kRemoveDirectory:
      return "remove_directory";
    case OpKind::kReplaceFile:
      return "replace_file";
    case OpKind::kTruncate:
      return "truncate";
    case OpKind::kWrite:
      return "write";
    case OpKind::kPunchHole:
      return "punch_hole";
    case OpKind::kSetXattr:
      return "set_xattr";
    case OpKind::kRemoveXattr:
      return "remove_xattr";
    case OpKind::kRetargetSymlink:
      return "retarget_symlink";
  }
  return "unknown";
}

std::string_view ParentOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view NameOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int DepthOf(std::string_view path) {
  return static_cast<int>(std::count(path.begin(), path.end(), '/'));
}

const Node* TreeModel::Find(std::string_view path) const {
  const auto entry = paths.find(std::string(path));
  if (entry == paths.end()) return nullptr;
  const auto node = nodes.find(entry->second);
  return node == nodes.end() ? nullptr : &node->second;
}

std::vector<std::string> TreeModel::ChildNames(std::string_view directory) const {
  std::vector<std::string> names;
  const std::string prefix = directory.empty() ? "" : absl::StrCat(AbslView(directory), "/");
  for (auto it = paths.lower_bound(prefix); it != paths.end(); ++it) {
    const std::string_view path = it->first;
    if (!path.starts_with(prefix)) break;
    const std::string_view rest = path.substr(prefix.size());
    if (rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  }
  return names;
}

std::vector<std::string> TreeModel::PathsOf(uint64_t node) const {
  std::vector<std::string> names;
  for (const auto& [path, id] : paths) {
    if (id == node) names.push_back(path);
  }
  return names;
}

void TreeModel::CountLinks() {
  for (auto& [id, node] : nodes) node.links = 0;
  for (const auto& [path, id] : paths) {
    if (auto node = nodes.find(id); node != nodes.end()) ++node->second.links;
  }
}

void FlagNode(TreeModel& model, uint64_t node) {
  if (model.nodes.contains(node)) model.flagged.insert(node);
}

absl::Status SkipOp(TreeModel& model, const Op& op) {
  if (op.seq != model.seq + 1) return Misfit(op, absl::StrCat("expected seq ", model.seq + 1));
  model.seq = op.seq;
  return absl::OkStatus();
}

absl::Status ApplyOp(TreeModel& model, const Op& op) {
  if (op.seq != model.seq + 1) return Misfit(op, absl::StrCat("expected seq ", model.seq + 1));
  const auto entry = model.paths.find(op.path);
  Node* node = nullptr;
  if (entry != model.paths.end()) node = &model.nodes.at(entry->second);
  const auto needs = [&](NodeType type) -> absl::Status {
    if (node == nullptr) return Misfit(op, "no such entry");
    if (node->type != type) return Misfit(op, "wrong type");
    return absl::OkStatus();
  };

  switch (op.kind) {
    case OpKind::kCreateFile:
    case OpKind::kMakeDirectory:
    case OpKind::kMakeSymlink: {
      RETURN_IF_ERROR(CheckNewName(model, op, op.path));
      if (model.nodes.contains(op.node) || op.node == 0) return Misfit(op, "node id in use");
      if (!op.layout.Valid()) return Misfit(op, "invalid layout");
      Node made{.type = op.kind == OpKind::kCreateFile      ? NodeType::kFile
                        : op.kind == OpKind::kMakeDirectory ? NodeType::kDirectory
                                                            : NodeType::kSymlink,
                .mode = op.kind == OpKind::kMakeSymlink ? 0u : op.mode,
                .generation = op.seq,
                .target = op.target,
                .xattrs = {op.xattrs.begin(), op.xattrs.end()},
                .links = 1};
      if (made.type == NodeType::kFile) {
        made.layout = op.layout;
        made.content_hash = ContentHash(made.layout);
      }
      model.nodes.emplace(op.node, std::move(made));
      model.paths.emplace(op.path, op.node);
      model.next_node = std::max(model.next_node, op.node + 1);
      ++model.next_name;
      break;
    }
    case OpKind::kLink: {
      RETURN_IF_ERROR(needs(NodeType::kFile));
      RETURN_IF_ERROR(CheckNewName(model, op, op.to));
      model.paths.emplace(op.to, entry->second);
      ++node->links;
      node->generation = op.seq;
      ++model.next_name;
      break;
    }
    case OpKind::kRename: {
      if (node == nullptr) return Misfit(op, "no such entry");
      RETURN_IF_ERROR(CheckNewName(model, op, op.to));
      const std::string prefix = op.path + "/";
      if (op.to.starts_with(prefix)) return Misfit(op, "into its own subtree");
      std::vector<std::pair<std::string, uint64_t>> moved;
      moved.emplace_back(op.to, entry->second);
      for (auto it = model.paths.lower_bound(prefix);
           it != model.paths.end() && it->first.starts_with(prefix);) {
        moved.emplace_back(op.to + it->first.substr(op.path.size()), it->second);
        it = model.paths.erase(it);
      }
      model.paths.erase(op.path);
      for (auto& [path, id] : moved) model.paths.emplace(std::move(path), id);
      node->generation = op.seq;
      ++model.next_name;
      break;
    }
    case OpKind::kUnlink: {
      if (node == nullptr || node->type == NodeType::kDirectory) {
        return Misfit(op, "not a file or symlink");
      }
      const uint64_t id = entry->second;
      model.paths.erase(entry);
      if (--node->links == 0) {
        model.nodes.erase(id);
        model.flagged.erase(id);
      } else {
        node->generation = op.seq;
      }
      break;
    }
    case OpKind::kRemoveDirectory: {
      RETURN_IF_ERROR(needs(NodeType::kDirectory));
      if (!model.ChildNames(op.path).empty()) return Misfit(op, "directory not empty");
      const uint64_t id = entry->second;
      model.paths.erase(entry);
      model.nodes.erase(id);
      model.flagged.erase(id);
      break;
    }
    case OpKind::kReplaceFile: {
      RETURN_IF_ERROR(needs(NodeType::kFile));
      if (node->links != 1) return Misfit(op, "replacing a hard-linked file");
      if (model.nodes.contains(op.node) || op.node == 0) return Misfit(op, "node id in use");
      if (!op.layout.Valid()) return Misfit(op, "invalid layout");
      Node made{.type = NodeType::kFile,
                .mode = op.mode,
                .generation = op.seq,
                .layout = op.layout,
                .content_hash = ContentHash(op.layout),
                .xattrs = {op.xattrs.begin(), op.xattrs.end()},
                .links = 1};
      model.nodes.erase(entry->second);
      model.flagged.erase(entry->second);
      entry->second = op.node;
      model.nodes.emplace(op.node, std::move(made));
      model.next_node = std::max(model.next_node, op.node + 1);
      break;
    }
    case OpKind::kTruncate:
    case OpKind::kWrite:
    case OpKind::kPunchHole: {
      RETURN_IF_ERROR(needs(NodeType::kFile));
      if (op.kind == OpKind::kTruncate) node->layout.Truncate(op.length);
      if (op.kind == OpKind::kWrite) node->layout.Write(op.offset, op.length, op.pattern);
      if (op.kind == OpKind::kPunchHole) node->layout.Punch(op.offset, op.length);
      node->content_hash = ContentHash(node->layout);
      node->generation = op.seq;
      break;
    }
    case OpKind::kSetXattr:
    case OpKind::kRemoveXattr: {
      if (node == nullptr || node->type == NodeType::kSymlink) {
        return Misfit(op, "xattrs only on files and directories");
      }
      if (op.kind == OpKind::kSetXattr) {
        node->xattrs[op.xattr_name] = op.xattr_value;
      } else if (node->xattrs.erase(op.xattr_name) == 0) {
        return Misfit(op, "no such xattr");
      }
      node->generation = op.seq;
      break;
    }
    case OpKind::kRetargetSymlink: {
      RETURN_IF_ERROR(needs(NodeType::kSymlink));
      node->target = op.target;
      node->generation = op.seq;
      break;
    }
    default:
      return Misfit(op, "unknown operation");
  }
  model.seq = op.seq;
  return absl::OkStatus();
}

std::vector<std::string> ChangedPaths(const TreeModel& before, const TreeModel& after) {
  std::set<std::string> all;
  for (const auto& [path, id] : before.paths) all.insert(path);
  for (const auto& [path, id] : after.paths) all.insert(path);
  std::vector<std::string> changed;
  for (const std::string& path : all) {
    const Node* was = before.Find(path);
    const Node* is = after.Find(path);
    if (was == nullptr || is == nullptr) {
      changed.push_back(path);
    } else if (!SameObservable(*was, *is)) {
      changed.push_back(path);
    }
  }
  return changed;
}

}  // namespace fscanary::metadata
