#pragma once
// The durable per-block state of one target: the last generation acknowledged
// durable and the write in flight, 16 bytes a block, crash-consistent at every
// instant (docs/FORMAT.md, "State file"). What makes a lost write provable and
// an interrupted write forgivable.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/state/state_format.h"
#include "io/posix.h"

namespace fscanary::state {

// One target's state file under a state directory. Not thread-safe. The file
// is locked (flock) for the object's lifetime: exclusively for a writer,
// shared for readers.
class BlockStateFile {
 public:
  // Creates the state file of a new target; fails if one exists.
  static absl::StatusOr<BlockStateFile> Create(const std::string& state_dir,
                                               const TargetGeometry& geometry);
  // Opens the state of `target_id`. NotFound if the directory holds none.
  static absl::StatusOr<BlockStateFile> Open(const std::string& state_dir, uint64_t target_id,
                                             bool writable);
  static std::string PathFor(const std::string& state_dir, uint64_t target_id);

  const TargetGeometry& geometry() const { return geometry_; }
  const std::string& path() const { return path_; }

  BlockRecord Get(uint64_t block) const;
  // Records of blocks whose checksum failed when the file was opened.
  uint64_t damaged_records() const { return damaged_records_; }
  // The highest generation any record mentions: new generations start above it.
  uint64_t max_generation() const { return max_generation_; }

  // The state format version of the file (kOldestStateVersion..kStateVersion):
  // new files get kStateVersion; an older file keeps its version, so an older
  // agent can still read it.
  uint32_t version() const { return version_; }

  // Marks a write of `generation` in flight; persisted by the next Flush().
  void MarkInFlight(uint64_t block, uint64_t generation);
  // Marks `generation` acknowledged durable (the in-flight write completed).
  // It is the block's first write when nothing was durable in it before and
  // its record was never damaged (version 2 files only).
  void MarkDurable(uint64_t block, uint64_t generation);
  // The write in flight failed and left the block as it was: the record
  // goes back to its durable generation (a never-written block to "never
  // written"), so the failed generation is no longer forgiven there.
  void ClearInFlight(uint64_t block);
  // Writes every changed record and makes them durable (fdatasync).
  absl::Status Flush();

  // The bytes of the file the next Flush() writes (length 0: none), so a
  // failed flush can say which.
  struct ByteRange {
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  ByteRange PendingBytes() const;

  // Reads the records of blocks [first_block, first_block + count) back from
  // the file (its cached pages dropped first, so the device answers) and
  // returns the blocks whose stored record is not what this object last
  // flushed there: a filesystem that lost or damaged the agent's own writes.
  // Those records are written again by the next Flush(). Records not yet
  // flushed are not compared. An error if the file cannot be read.
  absl::StatusOr<std::vector<uint64_t>> CheckStored(uint64_t first_block, uint64_t count);

 private:
  BlockStateFile(std::string path, io::UniqueFd fd, TargetGeometry geometry, uint32_t version)
      : path_(std::move(path)), fd_(std::move(fd)), geometry_(geometry), version_(version) {}
  absl::Status Load();
  void Store(uint64_t block, const BlockRecord& record);

  std::string path_;
  io::UniqueFd fd_;
  TargetGeometry geometry_;
  uint32_t version_;
  // The encoded records, as on disk.
  std::vector<std::byte> records_;
  uint64_t dirty_begin_ = ~uint64_t{0};
  uint64_t dirty_end_ = 0;
  uint64_t damaged_records_ = 0;
  uint64_t max_generation_ = 0;
};

}  // namespace fscanary::state
