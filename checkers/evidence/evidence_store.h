#pragma once
// Where the agent keeps the evidence of its findings (the blocks as found and
// as expected, a summary): one directory per finding, written once, under a
// total quota, readable by the agent only.
//
// Contract:
// - A finding is named by its key (target, offset, generation, kind). The
//   first evidence saved for a key is its *first* evidence: never evicted, it
//   shows the onset. A persistent corruption read again (every scrub of the
//   same damage) writes nothing: Save names the directory already kept. A
//   transient sighting of a key already kept is an event of its own: its
//   evidence is saved as *routine* evidence.
// - Quota: before writing, routine evidence is evicted, oldest first, until
//   the new evidence fits. When only first evidence is left, the new
//   evidence is refused (ResourceExhausted, counted): the finding is still
//   reported, with its summary, and nothing kept is given up for it.
// - Files are 0600 and directories 0700 whatever the umask. A directory is
//   written under a temporary name and renamed when complete and durable;
//   a crash leaves a `.partial-*` directory, removed at Open.
//
// Layout: <root>/<target id, 16 hex digits>/<offset>-<kind>-<unix ns>-g<generation>/
// (directories from before the generation was in the name, <offset>-<kind>-<ns>,
// are read as a key of their own per offset and kind). Which evidence of a
// key is first is not stored: it is the oldest directory of the key.
//
// Thread-safety: every method may be called from any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::evidence {

inline constexpr uint64_t kDefaultQuotaBytes = 64ull << 20;

struct EvidenceKey {
  uint64_t target_id = 0;
  uint64_t offset = 0;
  // The generation last written there; nullopt for directories of the old layout.
  std::optional<uint64_t> generation;
  // Lower-case kind name ("torn_write").
  std::string kind;
  auto operator<=>(const EvidenceKey&) const = default;
};

struct EvidenceFile {
  std::string name;
  std::span<const std::byte> data;
};

struct EvidenceStats {
  uint64_t bytes = 0;
  uint64_t directories = 0;
  // Routine directories evicted to make room, and evidence refused for want
  // of it, since Open.
  uint64_t evicted = 0;
  uint64_t refused = 0;
};

class EvidenceStore {
 public:
  struct Options {
    std::string root;
    uint64_t quota_bytes = kDefaultQuotaBytes;
  };
  // Creates `root` (0700) if needed and takes stock of what it holds.
  static absl::StatusOr<std::unique_ptr<EvidenceStore>> Open(const Options& options);

  struct Saved {
    std::string directory;
    // False when the key's evidence was already kept (nothing written).
    bool written = false;
  };
  // Keeps the evidence of one sighting of `key` (see the contract).
  // `persistent`: every re-read showed the corruption.
  absl::StatusOr<Saved> Save(const EvidenceKey& key, bool persistent,
                             std::span<const EvidenceFile> files);

  EvidenceStats Stats() const;

 private:
  struct Kept {
    std::string directory;
    uint64_t created_ns = 0;
    uint64_t bytes = 0;
  };
  explicit EvidenceStore(Options options) : options_(std::move(options)) {}
  absl::Status TakeStock();
  // Evicts routine evidence, oldest first, until `bytes` more fit.
  absl::Status MakeRoom(uint64_t bytes);
  absl::StatusOr<std::string> Write(const EvidenceKey& key, std::span<const EvidenceFile> files,
                                    uint64_t created_ns);

  const Options options_;
  mutable std::mutex mutex_;
  // Per key, oldest first: the front is the key's first evidence.
  std::map<EvidenceKey, std::vector<Kept>> kept_;
  uint64_t bytes_ = 0;
  uint64_t directories_ = 0;
  uint64_t evicted_ = 0;
  uint64_t refused_ = 0;
};

// The store of `root` shared by every checker of the process, opened on its
// first use with the quota last given to SetSharedQuota (kDefaultQuotaBytes
// if none). The agent sets the quota from its config before any checker runs.
absl::StatusOr<std::shared_ptr<EvidenceStore>> SharedStore(const std::string& root);
void SetSharedQuota(uint64_t quota_bytes);

}  // namespace fscanary::evidence
