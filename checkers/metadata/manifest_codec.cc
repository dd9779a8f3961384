#include "checkers/metadata/manifest_codec.h"

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/absl_view.h"
#include "common/endian.h"

namespace fscanary::metadata {
namespace {

class Writer {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U32(uint32_t value) { Fixed(value); }
  void U64(uint64_t value) { Fixed(value); }
  void Bytes(std::string_view value) {
    U32(static_cast<uint32_t>(value.size()));
    out_.append(value);
  }
  void Layout(const FileLayout& layout) {
    U64(layout.size);
    U32(static_cast<uint32_t>(layout.extents.size()));
    for (const Extent& extent : layout.extents) {
      U64(extent.offset);
      U64(extent.length);
      U64(extent.pattern);
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  template <typename T>
  void Fixed(T value) {
    std::byte bytes[sizeof(T)];
    StoreLe<T>(bytes, value);
    out_.append(reinterpret_cast<const char*>(bytes), sizeof(T));
  }
  std::string out_;
};

// Reads fields in order; once a read runs past the end every later read
// fails too, so a decoder checks ok() once at the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  uint8_t U8() { return Fixed<uint8_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  std::string Bytes() {
    const uint32_t size = U32();
    if (!ok_ || size > rest_.size()) {
      ok_ = false;
      return {};
    }
    std::string value(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return value;
  }
  FileLayout Layout() {
    FileLayout layout;
    layout.size = U64();
    const uint32_t count = U32();
    // Each extent is 24 bytes: a count past what is left is damage.
    if (!ok_ || count > rest_.size() / 24) {
      ok_ = false;
      return layout;
    }
    layout.extents.resize(count);
    for (Extent& extent : layout.extents) {
      extent.offset = U64();
      extent.length = U64();
      extent.pattern = U64();
    }
    return layout;
  }
  bool ok() const { return ok_; }
  bool done() const { return rest_.empty(); }
  size_t left() const { return rest_.size(); }

 private:
  template <typename T>
  T Fixed() {
    if (!ok_ || rest_.size() < sizeof(T)) {
      ok_ = false;
      return 0;
    }
    const T value = LoadLe<T>(reinterpret_cast<const std::byte*>(rest_.data()));
    rest_.remove_prefix(sizeof(T));
    return value;
  }
  std::string_view rest_;
  bool ok_ = true;
};

absl::Status Damaged(std::string_view what) {
  return absl::DataLossError(absl::StrCat("metadata manifest: ", AbslView(what)));
}

}  // namespace

std::string EncodeModel(const TreeModel& model) {
  Writer w;
  w.U64(model.seq);
  w.U64(model.next_node);
  w.U64(model.next_name);
  w.U64(model.nodes.size());
  for (const auto& [id, node] : model.nodes) {
    w.U64(id);
    w.U8(static_cast<uint8_t>(node.type));
    w.U32(node.mode);
    w.U64(node.generation);
    w.Layout(node.layout);
    w.U64(node.content_hash);
    w.Bytes(node.target);
    w.U32(static_cast<uint32_t>(node.xattrs.size()));
    for (const auto& [name, value] : node.xattrs) {
      w.Bytes(name);
      w.Bytes(value);
    }
  }
  w.U64(model.paths.size());
  for (const auto& [path, id] : model.paths) {
    w.Bytes(path);
    w.U64(id);
  }
  w.U64(model.flagged.size());
  for (const uint64_t id : model.flagged) w.U64(id);
  w.U8(model.xattrs_unsupported ? 1 : 0);
  return w.Take();
}

absl::StatusOr<TreeModel> DecodeModel(std::string_view bytes, int format) {
  Reader r(bytes);
  TreeModel model;
  model.seq = r.U64();
  model.next_node = r.U64();
  model.next_name = r.U64();
  const uint64_t node_count = r.U64();
  // Every node takes at least 45 bytes: a count past that is damage.
  if (!r.ok() || node_count > r.left() / 45) return Damaged("node count past the end");
  for (uint64_t i = 0; i < node_count && r.ok(); ++i) {
    const uint64_t id = r.U64();
    Node node;
    const uint8_t type = r.U8();
    if (type < 1 || type > 3) return Damaged(absl::StrCat("node ", id, " has type ", type));
    node.type = static_cast<NodeType>(type);
    node.mode = r.U32();
    node.generation = r.U64();
    node.layout = r.Layout();
    node.content_hash = r.U64();
    node.target = r.Bytes();
    const uint32_t xattr_count = r.U32();
    for (uint32_t x = 0; x < xattr_count && r.ok(); ++x) {
      std::string name = r.Bytes();
      node.xattrs[std::move(name)] = r.Bytes();
    }
    if (!node.layout.Valid()) return Damaged(absl::StrCat("node ", id, " has a bad layout"));
    if (id == 0 || id >= model.next_node || !model.nodes.emplace(id, std::move(node)).second) {
      return Damaged(absl::StrCat("bad or repeated node id ", id));
    }
  }
  const uint64_t path_count = r.U64();
  if (!r.ok() || path_count > r.left() / 12) return Damaged("path count past the end");
  for (uint64_t i = 0; i < path_count && r.ok(); ++i) {
    std::string path = r.Bytes();
    const uint64_t id = r.U64();
    if (!model.nodes.contains(id)) return Damaged(absl::StrCat(path, " names no node"));
    model.paths[std::move(path)] = id;
  }
  if (format >= 2) {
    const uint64_t flagged_count = r.U64();
    if (!r.ok() || flagged_count > r.left() / 8) return Damaged("flagged count past the end");
    for (uint64_t i = 0; i < flagged_count && r.ok(); ++i) {
      const uint64_t id = r.U64();
      if (r.ok() && !model.nodes.contains(id)) {
        return Damaged(absl::StrCat("flagged node ", id, " does not exist"));
      }
      model.flagged.insert(id);
    }
    const uint8_t xattrs = r.U8();
    if (r.ok() && xattrs > 1) return Damaged(absl::StrCat("xattr byte ", xattrs));
    model.xattrs_unsupported = xattrs == 1;
  }
  if (!r.ok()) return Damaged("truncated");
  if (!r.done()) return Damaged("bytes after the model");
  model.CountLinks();
  for (const auto& [id, node] : model.nodes) {
    if (node.links == 0) return Damaged(absl::StrCat("node ", id, " has no name"));
    if (node.type != NodeType::kFile && node.links != 1) {
      return Damaged(absl::StrCat("node ", id, " is not a file but has ", node.links, " names"));
    }
  }
  for (const auto& [path, id] : model.paths) {
    const std::string_view parent = ParentOf(path);
    if (!parent.empty() &&
        (model.Find(parent) == nullptr || model.Find(parent)->type != NodeType::kDirectory)) {
      return Damaged(absl::StrCat(path, " has no parent directory"));
    }
  }
  return model;
}

std::string EncodeOp(const Op& op) {
  Writer w;
  w.U8(static_cast<uint8_t>(op.kind));
  w.U64(op.seq);
  w.Bytes(op.path);
  w.Bytes(op.to);
  w.U64(op.node);
  w.U32(op.mode);
  w.Layout(op.layout);
  w.U32(static_cast<uint32_t>(op.xattrs.size()));
  for (const auto& [name, value] : op.xattrs) {
    w.Bytes(name);
    w.Bytes(value);
  }
  w.Bytes(op.target);
  w.U64(op.offset);
  w.U64(op.length);
  w.U64(op.pattern);
  w.Bytes(op.xattr_name);
  w.Bytes(op.xattr_value);
  return w.Take();
}

absl::StatusOr<Op> DecodeOp(std::string_view bytes) {
  Reader r(bytes);
  Op op;
  const uint8_t kind = r.U8();
  if (kind < 1 || kind > kLastOpKind) return Damaged(absl::StrCat("operation kind ", kind));
  op.kind = static_cast<OpKind>(kind);
  op.seq = r.U64();
  op.path = r.Bytes();
  op.to = r.Bytes();
  op.node = r.U64();
  op.mode = r.U32();
  op.layout = r.Layout();
  const uint32_t xattr_count = r.U32();
  for (uint32_t x = 0; x < xattr_count && r.ok(); ++x) {
    std::string name = r.Bytes();
    op.xattrs.emplace_back(std::move(name), r.Bytes());
  }
  op.target = r.Bytes();
  op.offset = r.U64();
  op.length = r.U64();
  op.pattern = r.U64();
  op.xattr_name = r.Bytes();
  op.xattr_value = r.Bytes();
  if (!r.ok()) return Damaged("operation truncated");
  if (!r.done()) return Damaged("bytes after the operation");
  if (!op.layout.Valid()) return Damaged("operation with a bad layout");
  return op;
}

}  // namespace fscanary::metadata
