// The known-bug table. Every entry was checked against the sources it lists
// (docs/KNOWN-BUGS.md says how, and how to add one). Releases are upstream
// numbers; where a source pins a fix only to "before release X", the range
// ends at X, so release candidates before X count as affected: the table errs
// toward "possibly affected", never toward silence.

#include "collector/knownbugs/known_bugs.h"

namespace fscanary::knownbugs {
namespace {

// Drivers of SCSI host adapters, as the agent names a SCSI disk's driver
// (agent/facts/block_device_facts.h): SATA disks go through libata and SCSI
// too. "sd" is what a SCSI disk reports when no adapter driver is found.
const std::vector<std::string_view> kScsiDrivers = {
    "sd",      "virtio_scsi",  "hv_storvsc", "vmw_pvscsi", "mpt3sas",    "mptspi",
    "mptsas",  "megaraid_sas", "ahci",       "ata_piix",   "smartpqi",   "hpsa",
    "aacraid", "qla2xxx",      "lpfc",       "uas",        "usb-storage"};
// Disks that are known not to be SCSI; any other driver is "not known".
const std::vector<std::string_view> kNonScsiDrivers = {
    "virtio_blk", "nvme",   "vbd",  "xen-blkfront", "loop", "device-mapper",
    "md",         "mmcblk", "zram", "nbd",          "rbd",  "null_blk"};

std::vector<KnownBug> BuildTable() {
  std::vector<KnownBug> table;

  table.push_back({
      .id = "blk-mq-direct-issue-merge",
      .title = "blk-mq direct issue to a busy SCSI disk: a request merged after its SG table "
               "was built transfers only its original part",
      // Fixed in mainline before 4.20 (LKML, 8 Dec 2018); the -rc is not pinned.
      .affected = {{.introduced = "4.19-rc1", .fixed = "4.20"}},
      .backports = {"4.19.8"},
      .conditions =
          {
              {.attribute = "blk_mq", .any_of = {"on"}, .text = "the disk's queue is blk-mq"},
              {.attribute = "scheduler",
               .any_of = {"none"},
               .text = "the disk has no I/O scheduler (none)"},
              {.attribute = "driver",
               .any_of = kScsiDrivers,
               .none_of = kNonScsiDrivers,
               .text = "the disk is a SCSI disk (its adapter driver is a SCSI host driver)"},
              // One-hit merges only (nomerges 1) are neither: whether the
              // merge that lost data was a one-hit merge is not in the sources.
              {.attribute = "merges",
               .any_of = {"all"},
               .none_of = {"none"},
               .text = "request merging is on (queue/nomerges 0, the default)"},
          },
      .fix_commit = "ffe81d45322cc3cb140f0db080a4727ea284661e",
      .introduced_by = "6ce3dd6eec1",
      .sources =
          {
              {"bug tracker", "https://bugzilla.kernel.org/show_bug.cgi?id=201685"},
              {"commit",
               "ffe81d45322c blk-mq: fix corruption with direct issue "
               "(Fixes: 6ce3dd6eec1 blk-mq: issue directly if hw queue isn't busy "
               "in case of 'none')"},
              {"stable release",
               "4.19.8: releases/4.19.8/blk-mq-fix-corruption-with-direct-"
               "issue.patch in the stable queue"},
              {"mailing list",
               "LKML 2018-12-08, Greg KH, Re: Process for severe early stable "
               "bugs? (fixed by ffe81d45322c, then c616cbee97ae)"},
              {"article",
               "https://lwn.net/Articles/774440/ A filesystem corruption bug breaks "
               "loose"},
          },
      .verified = "Read the 4.19.8 stable patch: upstream ffe81d45322c, its Fixes tag "
                  "(6ce3dd6eec1, 4.19 merge window per LWN) and the bugzilla link; the commit "
                  "text names SCSI, BUSY on direct issue and a later merge. LWN dates the "
                  "introduction to the 4.19 merge window and the 'none' scheduler; the LKML "
                  "thread shows the fix in Linus' tree before 4.20.",
  });

  table.push_back({
      .id = "ext4-dio-write-position-6.1",
      .title = "ext4 direct I/O writes land at the wrong file offset: 6.1.64 took an ext4 "
               "fix (91562895f803) without the iomap change it relies on (936e114a245b)",
      .affected = {{.introduced = "6.1.64", .fixed = "6.1.66"}},
      .conditions =
          {
              {.attribute = "fs", .any_of = {"ext4"}, .text = "the filesystem is ext4"},
              {.text = "the workload writes files with O_DIRECT"},
          },
      .fix_commit = "936e114a245b6e38e0dbf706a67e7611fc993da1",
      .introduced_by = "91562895f8030cb9a0470b1db49de79346a69f91",
      .sources =
          {
              {"commit",
               "936e114a245b iomap: update ki_pos a little later in "
               "iomap_dio_complete (6.5-rc1), the prerequisite of 91562895f803 ext4: "
               "properly sync file size update after O_SYNC direct IO"},
              {"bug tracker",
               "https://bugs.debian.org/1057843 (found in linux/6.1.64-1, "
               "fixed in linux/6.1.66-1)"},
              {"mailing list",
               "stable@vger.kernel.org, Jan Kara, Dec 2023: ext4 data "
               "corruption in 6.1 stable tree (was Re: 5.15.140-rc1 review)"},
              {"stable release",
               "6.1.66: releases/6.1.66/series lists iomap-update-ki_pos-a-"
               "little-later-in-iomap_dio_complete.patch"},
              {"article",
               "https://lwn.net/Articles/954770/ Ext4 data corruption hits the "
               "stable kernels"},
          },
      .verified = "Jan Kara's analysis (quoted on the stable list and by the Debian bug): "
                  "without 936e114a245b the file position is not updated after a direct I/O "
                  "write, so writes land in the wrong place; every stable kernel before 6.5 "
                  "carrying 91562895f803 is affected. Debian #1057843 gives 6.1.64-1 found, "
                  "6.1.66-1 fixed; the 6.1.66 stable series file carries the iomap patch. "
                  "Other stable series that took 91562895f803 are not listed: not verified.",
  });

  table.push_back({
      .id = "btrfs-5.2-unwritten-extent-buffers",
      .title = "btrfs 5.2: writeback of some btree blocks may never start and a transaction "
               "commits without them (\"parent transid verify failed\")",
      // Pulled for 5.3 ("for-5.3-rc8-tag", 12 Sep 2019); the -rc is not pinned.
      .affected = {{.introduced = "5.2-rc1", .fixed = "5.3"}},
      .backports = {"5.2.15"},
      .conditions = {{.attribute = "fs", .any_of = {"btrfs"}, .text = "the filesystem is btrfs"}},
      .fix_commit = "18dfa7117a3f379862dcd3f67cadd678013bb9dd",
      .introduced_by = "2e3c25136adfb",
      .sources =
          {
              {"commit",
               "18dfa7117a3f Btrfs: fix unwritten extent buffers and hangs on future "
               "writeback attempts (Fixes: 2e3c25136adfb, f4340622e0226; 'a "
               "regression introduced in the 5.2 kernel')"},
              {"stable release",
               "5.2.15: releases/5.2.15/btrfs-fix-unwritten-extent-buffers-"
               "and-hangs-on-future-writeback-attempts.patch"},
              {"mailing list",
               "linux-btrfs 2019-09-12, David Sterba, [GIT PULL] Last btrfs "
               "fixes for 5.3"},
              {"bug tracker", "https://bugzilla.kernel.org/show_bug.cgi?id=204377"},
          },
      .verified = "Read the 5.2.15 stable patch (upstream 18dfa7117a3f, Fixes tags, 'regression "
                  "introduced in the 5.2 kernel'); the pull request for 5.3 states the "
                  "corruption outcome: writeback for some btree nodes never started and a "
                  "transaction committed without noticing, leading to 'parent transid verify "
                  "failed'.",
  });

  table.push_back({
      .id = "swapfile-offset-5.12-rc1",
      .title = "5.12-rc1 loses the start offset of a swap file: swapping overwrites other "
               "parts of the filesystem",
      .affected = {{.introduced = "5.12-rc1", .fixed = "5.12-rc2"}},
      .conditions = {{.text = "a swap file (not a swap partition) is in use"}},
      .fix_commit = "caf6912f3f4af7232340d500a4a2008f81b93f14",
      .sources =
          {
              {"mailing list",
               "LKML 2021-03-03, Linus Torvalds, A note on the 5.12-rc1 tag "
               "(renamed v5.12-rc1-dontuse)"},
              {"commit", "caf6912f3f4a swap: fix swapfile read/write offset"},
              {"stable release",
               "5.11.4: releases/5.11.4/swap-fix-swapfile-read-write-"
               "offset.patch"},
              {"article", "https://www.phoronix.com/news/Linux-5.12-rc2-Likely-Soon"},
          },
      .verified = "Linus' note: a 5.12 merge-window cleanup lost the swap file's start offset, "
                  "swapping went to the wrong part of the filesystem, swap partitions are not "
                  "affected, fixed in the current tree; rc2 followed early. The stable copy of "
                  "caf6912f3f4a gives the fix. Its Fixes tag (dd6bd0d9c7db) points at an older "
                  "path (bdev_read_page/bdev_write_page) backported to 4.4-5.11: those older "
                  "ranges are not listed, the devices that used that path are not pinned here.",
  });

  table.push_back({
      .id = "block-multipage-bvec-gap",
      .title = "Multi-page bvecs defeat the gap check on merge: the SG list gets offsets in "
               "intermediate pages and wrong pages are written (hv_storvsc)",
      // The fix reached 5.13 stable (5.13.2-rc1), so 5.13 itself is affected.
      .affected = {{.introduced = "5.1-rc1", .fixed = "5.14-rc1"}},
      .backports = {"5.4.132", "5.12.17"},
      .conditions =
          {
              {.attribute = "driver",
               .any_of = {"hv_storvsc"},
               .text = "the disk's driver assumes no offsets in intermediate SG pages "
                       "(hv_storvsc, the one the sources name)"},
              {.text = "requests smaller than 4 KiB (512-byte I/O)"},
          },
      .fix_commit = "c9c9762d4d44dcb1b2ba90cfb4122dc11ceebf31",
      .introduced_by = "07173c3ec276",
      .sources =
          {
              {"commit",
               "c9c9762d4d44 block: return the correct bvec when checking for gaps "
               "(Fixes: 07173c3ec276 block: enable multipage bvecs)"},
              {"stable release",
               "5.12.17: releases/5.12.17/block-return-the-correct-bvec-"
               "when-checking-for-gaps.patch"},
              {"stable release", "5.4.132: in the 5.4.132 release's revision list"},
              {"mailing list",
               "Ubuntu kernel-team 2021-07-06, Tim Gardner, block: return the "
               "correct bvec when checking for gaps (SRU: introduced in 5.1, "
               "hv_storvsc, 512-byte requests)"},
          },
      .verified = "Read the 5.12.17 stable patch: 'incorrect pages written to the disk' for "
                  "drivers assuming no offsets in intermediate pages, Fixes 07173c3ec276; the "
                  "Ubuntu SRU names hv_storvsc, 512-byte requests and Linux 5.1. 5.10.50 and "
                  "5.13.2 took it according to their -rc1 reviews, not confirmed in a release: "
                  "those series are treated as unfixed.",
  });

  table.push_back({
      .id = "bdev-dio-short-pin-fallback",
      .title = "O_DIRECT on a block device pins only one iovec segment; the short write falls "
               "back to buffered I/O and can silently corrupt data",
      .affected = {{.introduced = "4.10-rc1", .fixed = "4.18-rc7"}},
      .backports = {"4.14.132"},
      .conditions =
          {
              {.attribute = "fs",
               .any_of = {"raw"},
               .text = "the target is a block device written with O_DIRECT (not a file)"},
              {.text = "multi-segment (vectored or AIO) O_DIRECT writes"},
          },
      .fix_commit = "17d51b10d7773e4618bcac64648f30f12d4078fb",
      .introduced_by = "72ecad22d9f198aafee64218512e02ffa7818671",
      .sources =
          {
              {"commit",
               "17d51b10d777 block: bio_iov_iter_get_pages: pin more pages for "
               "multi-segment IOs (Fixes: 72ecad22d9f1)"},
              {"mailing list",
               "stable@vger.kernel.org 2019-06-25, Jack Wang, [stable-4.14 "
               "0/2] block layer fixes for silent data corruption (introduced "
               "v4.10-rc1, fixed v4.18-rc7)"},
              {"stable release",
               "4.14.132: releases/4.14.132/block-bio_iov_iter_get_pages-"
               "pin-more-pages-for-mult.patch"},
              {"bug tracker", "https://bugs.launchpad.net/ubuntu/+source/linux/+bug/1796542"},
              {"article",
               "https://storpool.com/blog/beware-silent-data-corruption-discovered-"
               "in-linux-kernels-4-10-4-17"},
          },
      .verified = "The commit text: __blkdev_direct_IO_simple() calls bio_iov_iter_get_pages() "
                  "once, a short write falls back to buffered writes, 'which may lead to data "
                  "corruption'. Jack Wang's stable request pins v4.10-rc1 and v4.18-rc7; the "
                  "4.14.132 stable series carries the fix (with 'block: add a lower-level "
                  "bio_add_page interface'). No backport to 4.15-4.17 was "
                  "found: those series are treated as unfixed.",
  });

  return table;
}

}  // namespace

std::span<const KnownBug> KnownBugs() {
  static const std::vector<KnownBug>* const table = new std::vector<KnownBug>(BuildTable());
  return *table;
}

}  // namespace fscanary::knownbugs
