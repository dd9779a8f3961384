#pragma once
// What sysfs says about one block device: its kind, its driver, its request
// queue (blk-mq, scheduler, queues, cache mode, geometry, discard) and size.
//
// Driver naming: the driver that reaches the hardware, as a correlation wants
// it. A virtio_blk or nvme disk reports virtio_blk or nvme. A SCSI disk
// reports the driver of the SCSI host adapter it hangs off (virtio_scsi,
// mpt3sas, ahci, hv_storvsc, usb-storage, ...), found by walking its sysfs
// device up past the hostN node; "sd", the upper driver of every SCSI disk,
// only when no adapter driver is found (iSCSI, for one). So virtio_scsi and
// virtio_blk disks are told apart by `driver` alone. A partition reports its
// disk's driver; dm, md and loop devices report device-mapper, md and loop;
// anything else without a device/ link reports its major's name from
// /proc/devices (zram, nbd, ...).
//
// A partition has no queue of its own: its queue facts are its disk's.

#include <filesystem>

#include "common/sysfs/system_files.h"
#include "fscanary/v1/facts.pb.h"

namespace fscanary::facts {

// Reads the device whose sysfs directory (symlinks resolved) is `dir`: every
// field but `lower` and `target`. Missing attributes stay empty/0;
// blk_mq is "unknown" when the device has no queue directory at all.
// `model` is the hardware model for disks; for dm the subsystem prefix of its
// uuid (LVM, CRYPT, mpath, ...), for md its RAID level.
v1::BlockDeviceFacts ReadBlockDeviceFacts(const sysfs::SystemRoots& roots,
                                          const std::filesystem::path& dir);

}  // namespace fscanary::facts
