#include "checkers/block/guard/signature_probe.h"

#include <blkid/blkid.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"

namespace fscanary::guard {
namespace {

struct ProbeDeleter {
  void operator()(blkid_struct_probe* probe) const { blkid_free_probe(probe); }
};
using ProbePtr = std::unique_ptr<blkid_struct_probe, ProbeDeleter>;

std::string LookupValue(blkid_probe probe, const char* name) {
  const char* data = nullptr;
  size_t length = 0;
  if (blkid_probe_lookup_value(probe, name, &data, &length) != 0 || data == nullptr) return "";
  // libblkid counts the terminating NUL in `length`.
  return std::string(data);
}

// The offset libblkid prints in decimal, and the length of the magic itself.
void AddMagic(blkid_probe probe, const char* magic_name, const char* offset_name,
              Signature& signature) {
  const char* magic = nullptr;
  size_t magic_length = 0;
  if (blkid_probe_lookup_value(probe, magic_name, &magic, &magic_length) != 0) return;
  uint64_t offset = 0;
  if (!absl::SimpleAtoi(LookupValue(probe, offset_name), &offset)) return;
  signature.magic_offset = offset;
  signature.magic_length = magic_length;
}

}  // namespace

absl::StatusOr<std::vector<Signature>> ProbeSignatures(int fd) {
  ProbePtr probe(blkid_new_probe());
  if (probe == nullptr) return absl::ResourceExhaustedError("blkid_new_probe failed");
  if (blkid_probe_set_device(probe.get(), fd, 0, 0) != 0) {
    return absl::InternalError("blkid_probe_set_device failed");
  }
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
                                                     BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
                                                     BLKID_SUBLKS_MAGIC);
  blkid_probe_enable_partitions(probe.get(), 1);
  blkid_probe_set_partitions_flags(probe.get(), BLKID_PARTS_MAGIC);

  // Each successful blkid_do_probe() holds the values of one prober; calling
  // it again moves on to the next one, across the superblock and partition
  // chains, until it returns 1 (nothing more) or -1 (an error).
  std::vector<Signature> signatures;
  int rc;
  while ((rc = blkid_do_probe(probe.get())) == 0) {
    if (std::string type = LookupValue(probe.get(), "TYPE"); !type.empty()) {
      signatures.push_back({.type = std::move(type),
                            .usage = LookupValue(probe.get(), "USAGE"),
                            .uuid = LookupValue(probe.get(), "UUID"),
                            .label = LookupValue(probe.get(), "LABEL")});
      AddMagic(probe.get(), "SBMAGIC", "SBMAGIC_OFFSET", signatures.back());
    } else if (std::string table = LookupValue(probe.get(), "PTTYPE"); !table.empty()) {
      signatures.push_back({.type = std::move(table),
                            .usage = "partition table",
                            .uuid = LookupValue(probe.get(), "PTUUID"),
                            .label = ""});
      AddMagic(probe.get(), "PTMAGIC", "PTMAGIC_OFFSET", signatures.back());
    }
  }
  if (rc < 0) return absl::InternalError("libblkid could not probe the device");
  return signatures;
}

}  // namespace fscanary::guard
