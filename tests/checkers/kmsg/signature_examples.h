#pragma once
// Real kernel lines, at least one per signature of checkers/kmsg/signatures.cc,
// with the device each finding must name: the table's specification.

namespace fscanary::kmsg {

// One real kernel line (or more) per signature, as dmesg shows them, with the
// device the finding must name. Lines come from kernel sources' format strings
// filled in as the kernel prints them, and from bug reports and mailing lists.
struct SignatureExample {
  const char* signature;
  const char* line;
  const char* device;
};

inline constexpr SignatureExample kSignatureExamples[] = {
    // ext4
    {"ext4_metadata_checksum",
     "EXT4-fs error (device sda1): ext4_validate_block_bitmap:406: comm kworker/u16:3: bg 74: "
     "bad block bitmap checksum",
     "sda1"},
    {"ext4_metadata_checksum",
     "EXT4-fs error (device vdb): __ext4_iget:4960: inode #12: comm cat: iget: checksum invalid",
     "vdb"},
    {"ext4_metadata_checksum",
     "EXT4-fs error (device sda): htree_dirblock_to_tree:1036: inode #2: comm ls: Directory block "
     "failed checksum",
     "sda"},
    {"ext4_metadata_checksum",
     "EXT4-fs (vda1): VFS: Found ext4 filesystem with invalid superblock checksum.  Run e2fsck?",
     "vda1"},
    {"ext4_metadata_checksum",
     "EXT4-fs (nvme0n1p1): ext4_check_descriptors: Checksum for group 0 failed (50830!=49584)",
     "nvme0n1p1"},
    {"ext4_remount_read_only", "EXT4-fs (vda1): Remounting filesystem read-only", "vda1"},
    {"ext4_remount_read_only", "EXT4-fs (sda2): Remounting filesystem read-only", "sda2"},
    {"ext4_error",
     "EXT4-fs error (device vda1): ext4_lookup:1706: inode #2: comm ls: bad extra_isize 4 "
     "(inode size 256)",
     "vda1"},
    {"ext4_error",
     "EXT4-fs error (device vda1): htree_dirblock_to_tree:1080: inode #2: block 1234: comm ls: "
     "bad entry in directory: rec_len is smaller than minimal - offset=0, inode=0, rec_len=0, "
     "name_len=0, size=4096",
     "vda1"},
    {"ext4_error",
     "EXT4-fs error (device sda1): ext4_validate_block_bitmap:390: comm kworker/u8:2: bg 12: "
     "block 393216: invalid block bitmap",
     "sda1"},
    {"ext4_error", "EXT4-fs error (device sda2) in ext4_reserve_inode_write:5960: IO failure",
     "sda2"},
    {"ext4_error",
     "EXT4-fs error (device sda2): ext4_journal_check_start:83: comm rs:main Q:Reg: Detected "
     "aborted journal",
     "sda2"},
    {"ext4_error",
     "EXT4-fs error (device dm-0): ext4_mb_generate_buddy:1224: group 5, block bitmap and bg "
     "descriptor inconsistent: 32768 vs 32767 free clusters",
     "dm-0"},
    {"ext4_io_warning",
     "EXT4-fs warning (device sda2): ext4_end_bio:250: I/O error writing to inode 14971431 "
     "(offset 4928307200 size 327680 starting block 226708952)",
     "sda2"},
    {"ext4_io_warning",
     "EXT4-fs warning (device sda1): ext4_end_bio:343: I/O error 10 writing to inode 2885 "
     "starting block 1234)",
     "sda1"},
    {"ext4_data_loss", "EXT4-fs (sdc1): This should not happen!! Data will be lost", "sdc1"},
    {"ext4_data_loss",
     "EXT4-fs (vda1): failed to convert unwritten extents to written extents -- potential data "
     "loss!  (inode 393230, error -30)",
     "vda1"},
    {"ext4_data_loss", "EXT4-fs (sdb1): I/O error while writing superblock", "sdb1"},
    {"ext4_data_loss", "EXT4-fs (sdb1): previous I/O error to superblock detected", "sdb1"},
    // jbd2
    {"jbd2_data_flush_error", "JBD2: Detected IO errors while flushing file data on vda1-8",
     "vda1"},
    {"jbd2_data_flush_error", "JBD2: Detected IO errors while flushing file data on dm-11-45",
     "dm-11"},
    {"jbd2_journal_aborted", "Aborting journal on device vda1-8.", "vda1"},
    {"jbd2_journal_aborted", "Aborting journal on device dm-11-45.", "dm-11"},
    {"jbd2_superblock_error",
     "JBD2: Error -5 detected when updating journal superblock for sda2-8.", "sda2"},
    {"jbd2_superblock_error",
     "JBD2: I/O error detected when updating journal superblock for sdc1-8.", "sdc1"},
    {"jbd2_journal_checksum", "JBD2: Invalid checksum recovering data block 8705 in log", ""},
    {"jbd2_journal_checksum", "JBD2: Invalid checksum recovering block 1090 in log", ""},
    // XFS
    {"xfs_metadata_corruption",
     "XFS (vdb): Metadata corruption detected at xfs_dinode_verify.part.0+0x739/0x920 [xfs], "
     "inode 0x427b2d1 dinode",
     "vdb"},
    {"xfs_metadata_corruption",
     "XFS (sda2): Metadata CRC error detected at xfs_agf_read_verify+0xb6/0xd0 [xfs], xfs_agf "
     "block 0x1",
     "sda2"},
    {"xfs_corruption", "XFS (sda4): Corruption detected. Unmount and run xfs_repair", "sda4"},
    {"xfs_corruption",
     "XFS (sdb): Internal error XFS_WANT_CORRUPTED_GOTO at line 1423 of file "
     "fs/xfs/libxfs/xfs_alloc.c.  Caller xfs_free_ag_extent+0x4c2/0x750 [xfs]",
     "sdb"},
    {"xfs_shutdown",
     "XFS (sdb): Corruption of in-memory data (0x8) detected at xfs_trans_cancel+0x16f/0x1a0 "
     "[xfs] (fs/xfs/xfs_trans.c:1097).  Shutting down filesystem.",
     "sdb"},
    {"xfs_shutdown", "XFS (sdb): Filesystem has been shut down due to log error (0x2).", "sdb"},
    {"xfs_shutdown",
     "XFS (dm-0): Log I/O Error (0x2) detected at xlog_ioend_work+0x6e/0x70 [xfs] "
     "(fs/xfs/xfs_log.c:1377).  Shutting down filesystem.",
     "dm-0"},
    {"xfs_shutdown", "XFS (sdb): Corruption of in-memory data detected.  Shutting down filesystem",
     "sdb"},
    {"xfs_io_error",
     "XFS (dm-0): metadata I/O error in \"xfs_da_read_buf+0xf4/0x150 [xfs]\" at daddr 0x1816a90 "
     "len 8 error 5",
     "dm-0"},
    {"xfs_io_error", "XFS (dm-0): log I/O error -5", "dm-0"},
    {"xfs_log_recovery_failed", "XFS (sda2): log mount/recovery failed: error -74", "sda2"},
    // btrfs
    {"btrfs_data_checksum",
     "BTRFS warning (device vdc): csum failed root 5 ino 257 off 0 csum 0x8941f998 expected csum "
     "0x00000000 mirror 1",
     "vdc"},
    {"btrfs_data_checksum",
     "BTRFS warning (device sda state EA): csum failed root 5 ino 259 off 4096 csum 0x98f94189 "
     "expected csum 0x45f09c3a mirror 1",
     "sda"},
    {"btrfs_tree_checksum",
     "BTRFS warning (device sda): checksum verify failed on 30408704 wanted 0x1d5e8a4f found "
     "0x8d7f5c2c level 0",
     "sda"},
    {"btrfs_tree_checksum",
     "BTRFS warning (device dm-0): checksum verify failed on logical 5373952 mirror 1 wanted "
     "0x5ad5b4a8 found 0xaab4e3a5 level 0",
     "dm-0"},
    {"btrfs_device_errors",
     "BTRFS error (device sdb): bdev /dev/sdb errs: wr 0, rd 0, flush 0, corrupt 1, gen 0", "sdb"},
    {"btrfs_device_errors",
     "BTRFS error (device sda1): bdev /dev/sdb1 errs: wr 0, rd 3, flush 0, corrupt 0, gen 0",
     "sdb1"},
    {"btrfs_transid_mismatch",
     "BTRFS error (device sda1): parent transid verify failed on 30736384 wanted 1234 found 1200",
     "sda1"},
    {"btrfs_corrupt_tree",
     "BTRFS critical (device sda1): corrupt leaf: root=1 block=29409280 slot=6 ino=258, invalid "
     "inode generation: has 18446744073709551492 expect [0, 17]",
     "sda1"},
    {"btrfs_corrupt_tree",
     "BTRFS error (device sda1): block=1156841472 read time tree block corruption detected",
     "sda1"},
    {"btrfs_scrub_error",
     "BTRFS error (device sdb): unable to fixup (regular) error at logical 1103101952 on dev "
     "/dev/sdb",
     "sdb"},
    {"btrfs_scrub_error",
     "BTRFS warning (device sdb): checksum error at logical 298844160 on dev /dev/sdb, physical "
     "298844160, root 5, inode 257, offset 0, length 4096, links 1 (path: data.bin)",
     "sdb"},
    {"btrfs_transaction_aborted",
     "BTRFS: error (device sda state EA) in btrfs_run_delayed_refs:2161: errno=-5 IO failure",
     "sda"},
    {"btrfs_transaction_aborted",
     "BTRFS: error (device sda) in btrfs_commit_transaction:2237: errno=-5 IO failure", "sda"},
    {"btrfs_forced_read_only", "BTRFS info (device sda state EA): forced readonly", "sda"},
    // The block layer, in each kernel era's wording.
    {"block_medium_error",
     "blk_update_request: critical medium error, dev sda, sector 1953520064 op 0x0:(READ) flags "
     "0x80700 phys_seg 1 prio class 0",
     "sda"},
    {"block_medium_error",
     "critical medium error, dev sdb, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2",
     "sdb"},
    {"block_io_error",
     "I/O error, dev vda, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2", "vda"},
    {"block_io_error",
     "blk_update_request: I/O error, dev vda, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 "
     "prio class 0",
     "vda"},
    {"block_io_error", "print_req_error: I/O error, dev sdb, sector 123456", "sdb"},
    {"block_io_error", "end_request: I/O error, dev sdc, sector 730081839", "sdc"},
    {"block_io_error",
     "I/O error, dev nvme0n1, sector 4194560 op 0x1:(WRITE) flags 0x0 phys_seg 1 prio class 0",
     "nvme0n1"},
    {"block_request_error",
     "blk_update_request: critical target error, dev sdc, sector 0 op 0x3:(DISCARD) flags 0x800 "
     "phys_seg 1 prio class 0",
     "sdc"},
    {"block_request_error",
     "protection error, dev sdb, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 8 prio class 2",
     "sdb"},
    {"buffer_io_error", "Buffer I/O error on dev sdb1, logical block 0, async page read", "sdb1"},
    {"buffer_io_error", "Buffer I/O error on device sda2, logical block 104612942", "sda2"},
    {"buffer_io_error",
     "Buffer I/O error on dev dm-0, logical block 20639616, lost async page write", "dm-0"},
    {"buffer_io_error", "lost page write due to I/O error on sdc1", "sdc1"},
    // SCSI
    {"scsi_command_failed",
     "sd 2:0:0:0: [sdb] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE", "sdb"},
    {"scsi_command_failed",
     "sd 0:0:0:0: [sda] tag#17 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=3s",
     "sda"},
    {"scsi_medium_error", "sd 2:0:0:0: [sdb] tag#0 Sense Key : Medium Error [current]", "sdb"},
    {"scsi_medium_error", "sd 0:0:0:0: [sda]  Sense Key : Medium Error [current] [descriptor]",
     "sda"},
    {"scsi_medium_error", "sd 1:0:0:0: [sdb] tag#5 Sense Key : Hardware Error [current]", "sdb"},
    {"scsi_timeout", "sd 0:1:8:0: [sdi] tag#312 timing out command, waited 120s", "sdi"},
    {"scsi_timeout", "sd 9:0:0:0: timing out command, waited 20s", "9:0:0:0"},
    {"scsi_timeout", "scsi 0:3:0:0: tag#164 timing out command, waited 120s", "0:3:0:0"},
    {"scsi_device_offline", "sd 2:0:0:0: rejecting I/O to offline device", "2:0:0:0"},
    // virtio-blk
    {"virtio_ring_corruption", "virtio_blk virtio1: req.0:id 5 is not a head!", "virtio1"},
    {"virtio_ring_corruption", "virtio_blk virtio2: req.0:id 260 out of range", "virtio2"},
    {"virtio_blk_error", "virtio_blk virtio1: virtblk_validate failure: config access disabled",
     "virtio1"},
    // NVMe. drivers/nvme/host/pci.c nvme_timeout, 6.1: dev_warn(..., "I/O %d QID %d
    // timeout, aborting\n" / "I/O %d QID %d timeout, reset controller\n"); the first
    // two as reported on linux-nvme, the third as 6.2+ prints it (opcode and tag added).
    {"nvme_timeout", "nvme nvme0: I/O 864 QID 1 timeout, reset controller", "nvme0"},
    {"nvme_timeout", "nvme nvme9: I/O 192 QID 5 timeout, aborting", "nvme9"},
    {"nvme_timeout", "nvme nvme0: I/O 3 (I/O Cmd) QID 2 timeout, aborting", "nvme0"},
    // pci.c nvme_warn_reset: "controller is down; will reset: CSTS=0x%x, PCI_STATUS=0x%hx\n".
    {"nvme_controller_reset",
     "nvme nvme0: controller is down; will reset: CSTS=0x3, PCI_STATUS=0x10", "nvme0"},
    {"nvme_controller_reset",
     "nvme nvme1: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS read failed (134)",
     "nvme1"},
    // core.c nvme_log_error: "%s: %s(0x%x) @ LBA %llu, %u blocks, %s (sct 0x%x / sc 0x%x)
    // %s%s\n"; the first without CONFIG_NVME_VERBOSE_ERRORS (as reported), the second with.
    {"nvme_io_error",
     "nvme0n1: I/O Cmd(0x2) @ LBA 95243456, 104 blocks, I/O Error (sct 0x3 / sc 0x71)", "nvme0n1"},
    {"nvme_io_error",
     "nvme1n1: Read(0x2) @ LBA 2048, 8 blocks, Unrecovered Read Error (sct 0x2 / sc 0x81) DNR ",
     "nvme1n1"},
    // device-mapper. drivers/md/dm-integrity.c integrity_metadata, 6.1:
    // DMERR_LIMIT("%pg: Checksum failed at sector 0x%llx", ...), DM_MSG_PREFIX "integrity".
    {"dm_integrity_checksum", "device-mapper: integrity: dm-1: Checksum failed at sector 0x2e8",
     "dm-1"},
    // drivers/md/dm-verity-target.c verity_handle_err: DMERR_LIMIT("%s: %s block %llu is
    // corrupted", v->data_dev->name, type_str, block); the name is major:minor.
    {"dm_verity_corruption", "device-mapper: verity: 254:0: data block 1324 is corrupted", "254:0"},
    {"dm_verity_corruption", "device-mapper: verity: 7:1: metadata block 17 is corrupted", "7:1"},
    // drivers/md/dm-crypt.c crypt_convert_block_aead: DMERR_LIMIT("%pg: INTEGRITY AEAD ERROR,
    // sector %llu", ...); before 4.14 "INTEGRITY AEAD ERROR, sector %llu" alone.
    {"dm_crypt_integrity_error", "device-mapper: crypt: dm-2: INTEGRITY AEAD ERROR, sector 65536",
     "dm-2"},
    {"dm_crypt_integrity_error", "device-mapper: crypt: INTEGRITY AEAD ERROR, sector 8", ""},
    // md RAID. drivers/md/raid5.c raid5_end_read_request: pr_warn_ratelimited("md/raid:%s:
    // read error not correctable (sector %llu on %pg).\n", ...).
    {"md_read_error_not_correctable",
     "md/raid:md0: read error not correctable (sector 1953520 on sdc1).", "sdc1"},
    // raid1.c raid1_error / raid10.c raid10_error / raid5.c raid5_error: pr_crit("md/raid1:%s:
    // Disk failure on %pg, disabling device.\n" ...) (md/raid10:, md/raid: alike).
    // (The format goes on "\nmd/raid1:%s: Operation continuing on %d devices.\n": one
    // record with an embedded newline; its first line is what matches.)
    {"md_disk_failure", "md/raid1:md127: Disk failure on sdb1, disabling device.", "sdb1"},
    {"md_disk_failure", "md/raid:md0: Disk failure on nvme2n1, disabling device.", "nvme2n1"},
    {"md_disk_failure", "md/raid10:md1: Disk failure on sdd, disabling device.", "sdd"},
    // libata. drivers/ata/libata-eh.c ata_eh_link_report: ata_dev_err(qc->dev, "error: {
    // %s%s%s%s%s}\n", "ICRC ", "UNC ", "AMNF ", "IDNF ", "ABRT ") and ata_dev_err(qc->dev,
    // "failed command: %s\n", ata_get_cmd_name(...)); ata_dev_err prefixes "ata%u.%02u: ".
    {"ata_media_error", "ata1.00: error: { UNC }", "ata1.00"},
    {"ata_media_error", "ata3.00: error: { ICRC ABRT }", "ata3.00"},
    {"ata_media_error", "ata2.01: error: { IDNF }", "ata2.01"},
    {"ata_command_failed", "ata1.00: failed command: READ FPDMA QUEUED", "ata1.00"},
    {"ata_command_failed", "ata4.00: failed command: WRITE DMA EXT", "ata4.00"},
    // Other filesystems giving up after an error.
    {"fs_remount_read_only", "EXT2-fs (sdb1): error: remounting filesystem read-only", "sdb1"},
    {"fs_remount_read_only", "FAT-fs (sdb1): Filesystem has been set read-only", "sdb1"},
};

}  // namespace fscanary::kmsg
