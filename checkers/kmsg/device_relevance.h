#pragma once
// Whether a kernel log line about a block device concerns this host's data:
// the seam between the watcher and sysfs/procfs (sysfs_device_relevance.h
// for the real one), so the watcher is tested with a fake.
//
// The rule (docs/CHECKERS.md, "Kernel log watcher"): a device is relevant when
// its whole disk, a partition of it, or a dm/md device stacked on either backs
// a mounted filesystem, an active swap area or one of the agent's targets.
// Errors of other devices (QEMU's empty floppy drive fd0, a CD-ROM, a disk
// nobody uses) are counted, not reported. When in doubt, relevant: a device
// that cannot be found or a table that cannot be read never hides a line.

#include <string>
#include <string_view>

namespace fscanary::kmsg {

struct Relevance {
  bool relevant = true;
  // Why, for the agent's log: "sdb1 is mounted at /data", "no block device
  // named sdq under /sys", "fd0 backs no mounted filesystem, swap area or
  // target".
  std::string reason;
};

// Lifetime: owned by (shared with) the watcher that asks it. Not thread-safe
// unless an implementation says so; the watcher asks from its one thread.
class DeviceRelevance {
 public:
  virtual ~DeviceRelevance() = default;
  // `device` as a signature captured it (KernelEvent::device), never empty: a
  // kernel name ("vda1", "dm-0", "fd0"), a SCSI address ("2:0:0:0") or a
  // virtio device ("virtio1"). Judged from the system as it is at the call;
  // never fails: whatever keeps it from telling makes the answer relevant.
  virtual Relevance Judge(std::string_view device) = 0;
};

}  // namespace fscanary::kmsg
