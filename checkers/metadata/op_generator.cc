#include "checkers/metadata/op_generator.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/absl_view.h"

namespace fscanary::metadata {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr std::array<const char*, 3> kXattrNames = {"user.fscanary.a", "user.fscanary.b",
                                                    "user.fscanary.c"};
constexpr std::array<uint32_t, 4> kFileModes = {0600, 0640, 0644, 0660};
constexpr std::array<uint32_t, 3> kDirectoryModes = {0700, 0750, 0755};

// splitmix64: small, fast, and the same everywhere (std distributions are not).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n is 0.
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // Uniform in [low, high].
  uint64_t Between(uint64_t low, uint64_t high) { return low + Below(high - low + 1); }
  const std::string& Pick(const std::vector<const std::string*>& items) {
    return *items[Below(items.size())];
  }

 private:
  uint64_t state_;
};

std::string Join(std::string_view parent, std::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(AbslView(parent), "/", AbslView(name));
}

bool IsUnder(std::string_view path, std::string_view ancestor) {
  return path.size() > ancestor.size() && path.starts_with(ancestor) &&
         path[ancestor.size()] == '/';
}

// The model's entries sorted by what operations may do with them (pointers
// into the model's paths, which outlive them).
struct Candidates {
  // Directories a new entry may go in (the root is kRoot), depth-limited.
  std::vector<const std::string*> parents;
  std::vector<const std::string*> files;
  std::vector<const std::string*> single_link_files;
  std::vector<const std::string*> linkable_files;
  std::vector<const std::string*> punchable_files;
  std::vector<const std::string*> symlinks;
  std::vector<const std::string*> directories;
  std::vector<const std::string*> empty_directories;
  std::vector<const std::string*> with_xattrs;
  // Everything but the big directory (symlink targets).
  std::vector<const std::string*> all;
  // Of those, the ones not flagged (xattr changes), and of these the ones no
  // flagged node is beneath (renames).
  std::vector<const std::string*> changeable;
  std::vector<const std::string*> renamable;
  uint64_t big_children = 0;
  bool has_big = false;
};

const std::string kRoot;

Candidates Collect(const TreeModel& model) {
  Candidates c;
  c.parents.push_back(&kRoot);
  const std::string_view big = kBigDirectoryName;
  // The directories above a flagged node's names: never renamed, so the
  // evidence keeps its path.
  std::set<std::string_view> above_flagged;
  for (const auto& [path, id] : model.paths) {
    if (!model.flagged.contains(id)) continue;
    for (std::string_view up = ParentOf(path); !up.empty(); up = ParentOf(up)) {
      if (!above_flagged.insert(up).second) break;
    }
  }
  for (const auto& [path, id] : model.paths) {
    const Node& node = model.nodes.at(id);
    if (path != big) c.all.push_back(&path);
    if (ParentOf(path) == big) ++c.big_children;
    // A flagged node (the evidence of a finding) is left exactly as found:
    // no operation on it, through any of its names, or inside it.
    if (model.flagged.contains(id)) continue;
    if (path != big) {
      c.changeable.push_back(&path);
      if (!above_flagged.contains(path)) c.renamable.push_back(&path);
    }
    if (!node.xattrs.empty()) c.with_xattrs.push_back(&path);
    switch (node.type) {
      case NodeType::kFile:
        c.files.push_back(&path);
        if (node.links == 1) c.single_link_files.push_back(&path);
        if (node.links < 4) c.linkable_files.push_back(&path);
        if (node.layout.size >= 2 * kBlock) c.punchable_files.push_back(&path);
        break;
      case NodeType::kSymlink:
        c.symlinks.push_back(&path);
        break;
      case NodeType::kDirectory: {
        if (path == big) {
          c.has_big = true;
          c.parents.push_back(&path);
          break;
        }
        c.directories.push_back(&path);
        if (DepthOf(path) < kMaxDirectoryDepth) c.parents.push_back(&path);
        break;
      }
    }
  }
  // Children of "d" sort after "d/", and only names like "d-x" ("-" sorts
  // before '/') come between "d" and them.
  for (const std::string* directory : c.directories) {
    auto next = model.paths.upper_bound(*directory);
    while (next != model.paths.end() && next->first.starts_with(*directory) &&
           next->first.size() > directory->size() && next->first[directory->size()] < '/') {
      ++next;
    }
    if (next == model.paths.end() || !IsUnder(next->first, *directory)) {
      c.empty_directories.push_back(directory);
    }
  }
  return c;
}

// A name never used before in this tree; long ones in the big directory, to
// spread its entries over many directory blocks.
std::string NewName(const TreeModel& model, std::string_view parent, char prefix) {
  const uint64_t id = model.next_name;
  if (parent == kBigDirectoryName) {
    std::string name = absl::StrCat("entry-", id, "-");
    const size_t length = 48 + (id * 37) % 160;
    for (size_t i = 0; name.size() < length; ++i) {
      name.push_back(static_cast<char>('a' + (id + i * 7) % 26));
    }
    return name;
  }
  return absl::StrCat(std::string(1, prefix), id);
}

std::string PickParent(Random& random, const Candidates& c, uint64_t big_target) {
  // Three new entries in four go to the big directory until it is full, so
  // it reaches its size before the tree does.
  if (c.has_big && c.big_children < big_target && random.Below(4) != 0) {
    return std::string(kBigDirectoryName);
  }
  return random.Pick(c.parents);
}

std::string XattrValue(Random& random) {
  std::string value(random.Between(1, 48), ' ');
  for (char& c : value) c = static_cast<char>('!' + random.Below(94));
  return value;
}

std::vector<std::pair<std::string, std::string>> InitialXattrs(Random& random) {
  std::vector<std::pair<std::string, std::string>> xattrs;
  if (random.Below(100) >= 35) return xattrs;
  const uint64_t count = random.Between(1, 2);
  for (uint64_t i = 0; i < count; ++i) xattrs.emplace_back(kXattrNames[i], XattrValue(random));
  return xattrs;
}

// Small (ext4 inline data when enabled), medium, large, sparse or empty.
FileLayout NewLayout(Random& random, uint64_t pattern) {
  FileLayout layout;
  const uint64_t kind = random.Below(100);
  if (kind < 3) return layout;
  if (kind < 38) {
    layout.Write(0, random.Between(1, 60), pattern);
  } else if (kind < 75) {
    layout.Write(0, random.Between(61, 16 * 1024), pattern);
  } else if (kind < 92) {
    layout.Write(0, random.Between(16 * 1024 + 1, 256 * 1024), pattern);
  } else {
    // Data only at a large offset: a hole, then a few KiB.
    const uint64_t offset = (256 * 1024 + random.Below(768 * 1024)) / kBlock * kBlock;
    layout.Write(offset, random.Between(1, 2 * kBlock), pattern);
    if (random.Below(2) == 0) layout.Truncate(layout.size + random.Below(64 * 1024));
  }
  return layout;
}

// A new file's node, mode, contents and xattrs (create and replace alike).
void DescribeNewFile(const TreeModel& model, uint64_t seed, Random& random, Op& op) {
  op.node = model.next_node;
  op.mode = kFileModes[random.Below(kFileModes.size())];
  op.layout = NewLayout(random, PatternFor(seed, op.node, op.seq));
  op.xattrs = InitialXattrs(random);
  if (model.xattrs_unsupported) op.xattrs.clear();
}

// A relative target for a symlink at `link`: an existing entry, a name that
// does not exist (dangling), or (tests) the outside target.
std::string NewTarget(Random& random, const TreeModel& model, const Candidates& c,
                      std::string_view link, const TreeShape& shape) {
  const uint64_t kind = random.Below(100);
  if (!shape.outside_symlink_target.empty() && kind < 25) return shape.outside_symlink_target;
  std::string up;
  for (int i = 0; i < DepthOf(link); ++i) up += "../";
  if (kind < 40 || c.all.empty()) return absl::StrCat(up, "missing-", model.next_name);
  return up + random.Pick(c.all);
}

Op Fallback(const TreeModel& model, uint64_t seed, Random& random) {
  Op op{.kind = OpKind::kCreateFile, .seq = model.seq + 1};
  op.path = NewName(model, "", 'f');
  op.node = model.next_node;
  op.mode = kFileModes[random.Below(kFileModes.size())];
  op.layout = NewLayout(random, PatternFor(seed, op.node, op.seq));
  return op;
}

}  // namespace

uint64_t BigDirectoryTarget(uint64_t entries) { return std::min<uint64_t>(400, entries / 2); }

Op NextOp(const TreeModel& model, uint64_t seed, const TreeShape& shape) {
  Random random(seed ^ (model.seq + 1) * 0xd1b54a32d192ed03ull);
  const Candidates c = Collect(model);
  const uint64_t count = model.paths.size();
  Op op{.seq = model.seq + 1};

  if (!c.has_big) {
    op.kind = OpKind::kMakeDirectory;
    op.path = std::string(kBigDirectoryName);
    op.node = model.next_node;
    op.mode = 0755;
    return op;
  }

  // Weights by OpKind (index = kind). While growing, mostly creations; then
  // as many removals as creations, more of either to stay near `entries`.
  std::array<uint64_t, kLastOpKind + 1> weights{};
  const bool growing = count * 10 < shape.entries * 9;
  const auto set = [&](OpKind kind, uint64_t weight) {
    weights[static_cast<uint8_t>(kind)] = weight;
  };
  if (growing) {
    set(OpKind::kCreateFile, 45), set(OpKind::kMakeDirectory, 8), set(OpKind::kMakeSymlink, 7);
    set(OpKind::kLink, 6), set(OpKind::kRename, 3), set(OpKind::kReplaceFile, 3);
    set(OpKind::kTruncate, 4), set(OpKind::kWrite, 6), set(OpKind::kPunchHole, 3);
    set(OpKind::kSetXattr, 5), set(OpKind::kRemoveXattr, 1), set(OpKind::kRetargetSymlink, 2);
  } else {
    const uint64_t create = count > shape.entries ? 1 : 2;
    const uint64_t remove = count > shape.entries ? 2 : 1;
    set(OpKind::kCreateFile, 7 * create), set(OpKind::kMakeDirectory, 2 * create);
    set(OpKind::kMakeSymlink, 3 * create), set(OpKind::kLink, 3 * create);
    set(OpKind::kUnlink, 10 * remove), set(OpKind::kRemoveDirectory, 2 * remove);
    set(OpKind::kRename, 8), set(OpKind::kReplaceFile, 8), set(OpKind::kTruncate, 8);
    set(OpKind::kWrite, 12), set(OpKind::kPunchHole, 6), set(OpKind::kSetXattr, 8);
    set(OpKind::kRemoveXattr, 4), set(OpKind::kRetargetSymlink, 4);
  }
  if (model.xattrs_unsupported) set(OpKind::kSetXattr, 0), set(OpKind::kRemoveXattr, 0);
  uint64_t total = 0;
  for (const uint64_t weight : weights) total += weight;
  uint64_t draw = random.Below(total);
  uint8_t chosen = 1;
  while (draw >= weights[chosen]) draw -= weights[chosen++];
  op.kind = static_cast<OpKind>(chosen);
  const uint64_t big_target = BigDirectoryTarget(shape.entries);

  switch (op.kind) {
    case OpKind::kCreateFile: {
      const std::string parent = PickParent(random, c, big_target);
      op.path = Join(parent, NewName(model, parent, 'f'));
      DescribeNewFile(model, seed, random, op);
      return op;
    }
    case OpKind::kMakeDirectory: {
      std::vector<const std::string*> parents;
      for (const std::string* parent : c.parents) {
        if (*parent != kBigDirectoryName) parents.push_back(parent);
      }
      // A third of the time the deepest: the tree gets deep early.
      std::string parent = random.Pick(parents);
      if (random.Below(3) == 0) {
        parent = **std::max_element(parents.begin(), parents.end(),
                                    [](const std::string* a, const std::string* b) {
                                      const int da = a->empty() ? -1 : DepthOf(*a);
                                      const int db = b->empty() ? -1 : DepthOf(*b);
                                      return da < db;
                                    });
      }
      op.path = Join(parent, NewName(model, parent, 'd'));
      op.node = model.next_node;
      op.mode = kDirectoryModes[random.Below(kDirectoryModes.size())];
      op.xattrs = InitialXattrs(random);
      if (model.xattrs_unsupported) op.xattrs.clear();
      return op;
    }
    case OpKind::kMakeSymlink: {
      const std::string parent = PickParent(random, c, big_target);
      op.path = Join(parent, NewName(model, parent, 'l'));
      op.node = model.next_node;
      op.target = NewTarget(random, model, c, op.path, shape);
      return op;
    }
    case OpKind::kLink: {
      if (c.linkable_files.empty()) break;
      op.path = random.Pick(c.linkable_files);
      const std::string parent = PickParent(random, c, big_target);
      op.to = Join(parent, NewName(model, parent, 'h'));
      return op;
    }
    case OpKind::kRename: {
      if (c.renamable.empty()) break;
      op.path = random.Pick(c.renamable);
      const Node& node = *model.Find(op.path);
      std::string parent(ParentOf(op.path));
      if (random.Below(2) == 0) {
        if (node.type != NodeType::kDirectory) {
          parent = PickParent(random, c, big_target);
        } else {
          // A directory moves only where its subtree gets no deeper, never
          // into itself, never into the big directory.
          std::vector<const std::string*> parents;
          for (const std::string* candidate : c.parents) {
            if (*candidate == op.path || IsUnder(*candidate, op.path)) continue;
            if (*candidate == kBigDirectoryName) continue;
            const int depth = candidate->empty() ? 0 : DepthOf(*candidate) + 1;
            if (depth <= DepthOf(op.path)) parents.push_back(candidate);
          }
          if (!parents.empty()) parent = random.Pick(parents);
        }
      }
      op.to = Join(parent, NewName(model, parent, 'r'));
      return op;
    }
    case OpKind::kUnlink: {
      std::vector<const std::string*> removable = c.files;
      removable.insert(removable.end(), c.symlinks.begin(), c.symlinks.end());
      if (removable.empty()) break;
      op.path = random.Pick(removable);
      return op;
    }
    case OpKind::kRemoveDirectory: {
      if (c.empty_directories.empty()) break;
      op.path = random.Pick(c.empty_directories);
      return op;
    }
    case OpKind::kReplaceFile: {
      if (c.single_link_files.empty()) break;
      op.path = random.Pick(c.single_link_files);
      DescribeNewFile(model, seed, random, op);
      return op;
    }
    case OpKind::kTruncate: {
      if (c.files.empty()) break;
      op.path = random.Pick(c.files);
      const uint64_t size = model.Find(op.path)->layout.size;
      const bool grow = size == 0 || (random.Below(2) == 0 && size < kMaxFileSize);
      op.length =
          grow ? std::min(kMaxFileSize, size + random.Between(1, 64 * 1024)) : random.Below(size);
      return op;
    }
    case OpKind::kWrite: {
      if (c.files.empty()) break;
      op.path = random.Pick(c.files);
      const uint64_t size = model.Find(op.path)->layout.size;
      // Inside the file, or past its end (leaving a hole); never crossing a
      // 4 KiB boundary, so a kill cannot leave the write half done.
      op.offset = size > 0 && random.Below(10) < 7
                      ? random.Below(size)
                      : std::min(size + random.Below(256 * 1024), kMaxFileSize - kBlock);
      op.length = random.Between(1, kBlock - op.offset % kBlock);
      op.pattern = PatternFor(seed, model.paths.at(op.path), op.seq);
      return op;
    }
    case OpKind::kPunchHole: {
      if (c.punchable_files.empty()) break;
      op.path = random.Pick(c.punchable_files);
      const uint64_t blocks = model.Find(op.path)->layout.size / kBlock;
      op.offset = random.Below(blocks) * kBlock;
      op.length = kBlock;
      return op;
    }
    case OpKind::kSetXattr: {
      if (c.changeable.empty()) break;
      op.path = random.Pick(c.changeable);
      if (model.Find(op.path)->type == NodeType::kSymlink) break;
      op.xattr_name = kXattrNames[random.Below(kXattrNames.size())];
      op.xattr_value = XattrValue(random);
      return op;
    }
    case OpKind::kRemoveXattr: {
      if (c.with_xattrs.empty()) break;
      op.path = random.Pick(c.with_xattrs);
      const auto& xattrs = model.Find(op.path)->xattrs;
      auto it = xattrs.begin();
      std::advance(it, random.Below(xattrs.size()));
      op.xattr_name = it->first;
      return op;
    }
    case OpKind::kRetargetSymlink: {
      if (c.symlinks.empty()) break;
      op.path = random.Pick(c.symlinks);
      op.target = NewTarget(random, model, c, op.path, shape);
      return op;
    }
  }
  return Fallback(model, seed, random);
}

}  // namespace fscanary::metadata
