#include "checkers/evidence/evidence_store.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "io/posix.h"

namespace fscanary::evidence {
namespace {

namespace fs = std::filesystem;

constexpr char kPartialPrefix[] = ".partial-";

absl::Status FilesystemError(const std::error_code& error, std::string_view what) {
  return ErrnoToStatus(error.value(), what);
}

std::optional<uint64_t> ParseNumber(std::string_view text, int base = 10) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsKindName(std::string_view kind) {
  return !kind.empty() &&
         std::ranges::all_of(kind, [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

std::string DirectoryName(const EvidenceKey& key, uint64_t created_ns) {
  std::string name = absl::StrFormat("%d-%s-%d", key.offset, key.kind, created_ns);
  if (key.generation) absl::StrAppend(&name, "-g", *key.generation);
  return name;
}

struct ParsedName {
  EvidenceKey key;
  uint64_t created_ns = 0;
};

// "<offset>-<kind>-<ns>-g<generation>", or "<offset>-<kind>-<ns>" (before the
// generation was in the name).
std::optional<ParsedName> ParseDirectoryName(uint64_t target_id, std::string_view name) {
  std::vector<std::string_view> parts;
  for (const absl::string_view part :
       absl::StrSplit(absl::string_view(name.data(), name.size()), '-')) {
    parts.emplace_back(part.data(), part.size());
  }
  if (parts.size() != 3 && parts.size() != 4) return std::nullopt;
  ParsedName parsed{.key = {.target_id = target_id, .kind = std::string(parts[1])}};
  const std::optional<uint64_t> offset = ParseNumber(parts[0]);
  const std::optional<uint64_t> created = ParseNumber(parts[2]);
  if (!offset || !created || !IsKindName(parts[1])) return std::nullopt;
  parsed.key.offset = *offset;
  parsed.created_ns = *created;
  if (parts.size() == 4) {
    if (!parts[3].starts_with('g')) return std::nullopt;
    parsed.key.generation = ParseNumber(parts[3].substr(1));
    if (!parsed.key.generation) return std::nullopt;
  }
  return parsed;
}

absl::StatusOr<uint64_t> BytesOfFiles(const fs::path& directory) {
  std::error_code error;
  uint64_t bytes = 0;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file(error)) bytes += it->file_size(error);
    if (error) break;
  }
  if (error) return FilesystemError(error, "reading " + directory.string());
  return bytes;
}

absl::Status WriteFile(const std::string& path, std::span<const std::byte> data) {
  // 0600: the umask can only take bits away from it.
  ASSIGN_OR_RETURN(io::UniqueFd fd,
                   io::Open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600));
  RETURN_IF_ERROR(io::WriteAll(fd.get(), data, 0, path));
  return io::DataSync(fd.get(), path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EvidenceStore>> EvidenceStore::Open(const Options& options) {
  if (options.root.empty()) return absl::InvalidArgumentError("evidence directory not set");
  std::unique_ptr<EvidenceStore> store(new EvidenceStore(options));
  RETURN_IF_ERROR(store->TakeStock());
  return store;
}

absl::Status EvidenceStore::TakeStock() {
  std::error_code error;
  // A root that exists may be the operator's (`verify --evidence-dir /tmp`):
  // its mode is left alone; the store's own directories are 0700.
  if (fs::is_directory(options_.root, error)) {
    error.clear();
  } else {
    RETURN_IF_ERROR(io::MakePrivateDirectory(options_.root));
  }
  for (fs::directory_iterator target(options_.root, error), end; !error && target != end;
       target.increment(error)) {
    const std::string target_name = target->path().filename().string();
    const std::optional<uint64_t> target_id =
        target_name.size() == 16 ? ParseNumber(target_name, 16) : std::nullopt;
    if (!target_id || !target->is_directory(error)) continue;  // not ours: left alone
    for (fs::directory_iterator entry(target->path(), error); !error && entry != end;
         entry.increment(error)) {
      const std::string name = entry->path().filename().string();
      if (name.starts_with(kPartialPrefix)) {
        // Cut short by a crash: never named by a finding.
        fs::remove_all(entry->path(), error);
        if (error) return FilesystemError(error, "removing " + entry->path().string());
        continue;
      }
      const std::optional<ParsedName> parsed = ParseDirectoryName(*target_id, name);
      if (!parsed || !entry->is_directory(error)) continue;
      ASSIGN_OR_RETURN(const uint64_t bytes, BytesOfFiles(entry->path()));
      kept_[parsed->key].push_back(
          {.directory = entry->path().string(), .created_ns = parsed->created_ns, .bytes = bytes});
      bytes_ += bytes;
      ++directories_;
    }
  }
  if (error) return FilesystemError(error, "reading " + options_.root);
  for (auto& [key, kept] : kept_) {
    std::ranges::sort(kept, {}, &Kept::created_ns);
  }
  return absl::OkStatus();
}

absl::StatusOr<EvidenceStore::Saved> EvidenceStore::Save(const EvidenceKey& key, bool persistent,
                                                         std::span<const EvidenceFile> files) {
  std::lock_guard lock(mutex_);
  if (auto it = kept_.find(key); it != kept_.end() && !it->second.empty() && persistent) {
    // The same damage read again: its evidence is kept already.
    return Saved{.directory = it->second.front().directory, .written = false};
  }
  uint64_t bytes = 0;
  for (const EvidenceFile& file : files) bytes += file.data.size();
  if (absl::Status room = MakeRoom(bytes); !room.ok()) {
    ++refused_;
    return room;
  }
  uint64_t created_ns = io::WallClockNanos();
  if (auto it = kept_.find(key); it != kept_.end() && !it->second.empty()) {
    created_ns = std::max(created_ns, it->second.back().created_ns + 1);  // a name of its own
  }
  ASSIGN_OR_RETURN(std::string directory, Write(key, files, created_ns));
  kept_[key].push_back({.directory = directory, .created_ns = created_ns, .bytes = bytes});
  bytes_ += bytes;
  ++directories_;
  return Saved{.directory = std::move(directory), .written = true};
}

absl::Status EvidenceStore::MakeRoom(uint64_t bytes) {
  while (bytes_ + bytes > options_.quota_bytes) {
    // The oldest routine evidence: any but the first of its key.
    std::vector<Kept>* oldest_of = nullptr;
    for (auto& [key, kept] : kept_) {
      if (kept.size() < 2) continue;
      if (oldest_of == nullptr || kept[1].created_ns < (*oldest_of)[1].created_ns) {
        oldest_of = &kept;
      }
    }
    if (oldest_of == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat("evidence quota of ", options_.quota_bytes, " bytes in ", options_.root,
                       " is held by the first evidence of findings (", bytes_, " bytes); ", bytes,
                       " more bytes of evidence not kept"));
    }
    const Kept evicted = (*oldest_of)[1];
    std::error_code error;
    fs::remove_all(evicted.directory, error);
    if (error) return FilesystemError(error, "removing " + evicted.directory);
    oldest_of->erase(oldest_of->begin() + 1);
    bytes_ -= evicted.bytes;
    --directories_;
    ++evicted_;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EvidenceStore::Write(const EvidenceKey& key,
                                                 std::span<const EvidenceFile> files,
                                                 uint64_t created_ns) {
  const std::string target_dir = absl::StrFormat("%s/%016x", options_.root, key.target_id);
  RETURN_IF_ERROR(io::MakePrivateDirectory(target_dir));
  const std::string name = DirectoryName(key, created_ns);
  const std::string partial = absl::StrCat(target_dir, "/", kPartialPrefix, name);
  const std::string directory = absl::StrCat(target_dir, "/", name);
  std::error_code error;
  fs::remove_all(partial, error);
  RETURN_IF_ERROR(io::MakePrivateDirectory(partial));
  for (const EvidenceFile& file : files) {
    RETURN_IF_ERROR(WriteFile(absl::StrCat(partial, "/", file.name), file.data));
  }
  RETURN_IF_ERROR(io::SyncDirectory(partial));
  fs::rename(partial, directory, error);
  if (error) return FilesystemError(error, absl::StrCat("rename ", partial, " to ", directory));
  RETURN_IF_ERROR(io::SyncDirectory(target_dir));
  RETURN_IF_ERROR(io::SyncDirectory(options_.root));
  return directory;
}

EvidenceStats EvidenceStore::Stats() const {
  std::lock_guard lock(mutex_);
  return {.bytes = bytes_, .directories = directories_, .evicted = evicted_, .refused = refused_};
}

namespace {

std::mutex shared_mutex;
uint64_t shared_quota = kDefaultQuotaBytes;

std::map<std::string, std::shared_ptr<EvidenceStore>>& SharedStores() {
  static auto* stores = new std::map<std::string, std::shared_ptr<EvidenceStore>>();
  return *stores;
}

}  // namespace

absl::StatusOr<std::shared_ptr<EvidenceStore>> SharedStore(const std::string& root) {
  std::lock_guard lock(shared_mutex);
  std::shared_ptr<EvidenceStore>& store = SharedStores()[root];
  if (store == nullptr) {
    ASSIGN_OR_RETURN(std::unique_ptr<EvidenceStore> opened,
                     EvidenceStore::Open({.root = root, .quota_bytes = shared_quota}));
    store = std::move(opened);
  }
  return store;
}

void SetSharedQuota(uint64_t quota_bytes) {
  std::lock_guard lock(shared_mutex);
  shared_quota = quota_bytes;
}

}  // namespace fscanary::evidence
