#include "agent/daemon/to_proto.h"

#include "gtest/gtest.h"

namespace fscanary::daemon {
namespace {

const FindingSource kFileTarget{.checker = "page_cache",
                                .target_name = "scratch",
                                .target = {.path = "/srv/scratch.img",
                                           .kind = "file",
                                           .size_bytes = 1 << 20,
                                           .block_size = 4096,
                                           .engine = "io_uring",
                                           .target_id = 0x1234}};

TEST(FindingToProto, APageCacheMismatchCarriesBothReads) {
  checker::Finding finding;
  finding.kind = checker::FindingKind::kPageCacheMismatch;
  finding.persistent = true;
  finding.block.emplace();
  finding.block->offset = 40960;
  finding.block->expected_generation = 7;
  finding.block->verdict.kind = block::Kind::kChecksumMismatch;
  finding.buffered.emplace();
  finding.buffered->kind = block::Kind::kOk;
  const v1::Finding proto = FindingToProto(finding, kFileTarget, 99);
  EXPECT_EQ(proto.checker(), "page_cache");
  EXPECT_EQ(proto.target(), "scratch");
  EXPECT_EQ(proto.target_id(), "0000000000001234");
  EXPECT_EQ(proto.kind(), v1::PAGE_CACHE_MISMATCH);
  EXPECT_EQ(proto.offset(), 40960u);
  EXPECT_EQ(proto.block_size(), 4096u);
  ASSERT_TRUE(proto.has_buffered_kind());
  EXPECT_EQ(proto.buffered_kind(), v1::FINDING_KIND_UNSPECIFIED);
  EXPECT_EQ(proto.evidence_summary(),
            "page_cache_mismatch at offset 40960 of /srv/scratch.img (persistent), expected "
            "generation 7; buffered read: ok, direct read: checksum_mismatch");
}

TEST(FindingToProto, AMetadataMismatchNamesThePathAndWhatDiffers) {
  checker::Finding finding;
  finding.kind = checker::FindingKind::kMetadataMismatch;
  finding.persistent = true;
  finding.path = "d0/d3/f17";
  finding.detail = "size: expected 4096, found 0";
  const v1::Finding proto =
      FindingToProto(finding,
                     {.checker = "metadata",
                      .target_name = "tree",
                      .target = {.path = "/srv/tree", .kind = "directory", .target_id = 0xfeed}},
                     99);
  EXPECT_EQ(proto.kind(), v1::METADATA_MISMATCH);
  EXPECT_EQ(proto.path(), "d0/d3/f17");
  EXPECT_EQ(proto.message(), "size: expected 4096, found 0");
  EXPECT_FALSE(proto.has_buffered_kind());
  EXPECT_EQ(proto.evidence_summary(),
            "metadata_mismatch: d0/d3/f17 under /srv/tree: size: expected 4096, found 0 "
            "(persistent)");
}

TEST(FindingToProto, AKernelLineHasNoTarget) {
  checker::Finding finding;
  finding.kind = checker::FindingKind::kKernelReported;
  finding.persistent = true;
  finding.kernel = checker::Finding::KernelLine{.signature = "ext4_error",
                                                .subsystem = "ext4",
                                                .device = "vda1",
                                                .message = "EXT4-fs error (device vda1)",
                                                .severity = 3,
                                                .sequence = 812,
                                                .suppressed_before = 4};
  const v1::Finding proto = FindingToProto(finding, {.checker = "kernel_log"}, 99);
  EXPECT_EQ(proto.kind(), v1::KERNEL_REPORTED);
  EXPECT_EQ(proto.target(), "");
  EXPECT_EQ(proto.device(), "vda1");
  EXPECT_EQ(proto.severity(), 3);
  EXPECT_EQ(proto.evidence_summary(),
            "kernel log record 812 (ext4_error), 4 similar lines withheld before it");
}

TEST(FindingToProto, AFailedSyncCarriesTheOperationBytesAndErrno) {
  checker::Finding finding =
      checker::FromIoFailure({.operation = verify::IoOperation::kDataSync,
                              .file = "/srv/scratch.img",
                              .offset = 8192,
                              .length = 32768,
                              .error_number = 5,
                              .detail = "datasync /srv/scratch.img: Input/output error"});
  const v1::Finding proto = FindingToProto(finding, kFileTarget, 99);
  EXPECT_EQ(proto.kind(), v1::IO_ERROR);
  EXPECT_EQ(proto.io_operation(), v1::IO_DATASYNC);
  EXPECT_EQ(proto.offset(), 8192u);
  EXPECT_EQ(proto.io_length(), 32768u);
  EXPECT_EQ(proto.error_number(), 5);
  EXPECT_EQ(proto.path(), "/srv/scratch.img");
  EXPECT_EQ(proto.message(), "datasync /srv/scratch.img: Input/output error");
  EXPECT_EQ(proto.evidence_summary(), "io_error: datasync /srv/scratch.img: Input/output error");
}

TEST(FindingToProto, AStateFileThatCannotBeWrittenIsNamed) {
  const v1::Finding proto = FindingToProto(
      checker::FromIoFailure({.operation = verify::IoOperation::kStateWrite,
                              .file = "/var/lib/fscanary-agent/targets/target-1234.state",
                              .offset = 4096,
                              .length = 1024,
                              .error_number = 28,
                              .detail = "write …: No space left on device"}),
      kFileTarget, 99);
  EXPECT_EQ(proto.io_operation(), v1::IO_STATE_WRITE);
  EXPECT_EQ(proto.path(), "/var/lib/fscanary-agent/targets/target-1234.state");
  EXPECT_EQ(proto.error_number(), 28);
}

TEST(FindingToProto, AStateCorruptionCarriesWhatWasCounted) {
  checker::Finding finding{.kind = checker::FindingKind::kStateCorruption, .persistent = true};
  finding.path = "/var/lib/fscanary-agent/targets/target-1234.state";
  finding.detail = "state …: 0 records damaged when opened, 2 read back other than written";
  finding.state_trouble =
      checker::Finding::StateTrouble{.records_damaged = 1, .records_changed = 2, .blocks_newer = 3};
  const v1::Finding proto = FindingToProto(finding, kFileTarget, 99);
  EXPECT_EQ(proto.kind(), v1::STATE_CORRUPTION);
  EXPECT_EQ(proto.state_records_damaged(), 1u);
  EXPECT_EQ(proto.state_records_changed(), 2u);
  EXPECT_EQ(proto.blocks_newer_than_state(), 3u);
  EXPECT_EQ(proto.path(), finding.path);
  EXPECT_EQ(proto.evidence_summary(), "state_corruption: " + finding.detail);
}

TEST(ActivityToProto, CarriesTheStateTroubleCounters) {
  checker::Activity activity;
  activity.state_records_damaged = 1;
  activity.state_records_changed = 2;
  activity.blocks_newer_than_state = 3;
  const v1::CheckerInterval interval = ActivityToProto(activity, "block", "scratch");
  EXPECT_EQ(interval.state_records_damaged(), 1u);
  EXPECT_EQ(interval.state_records_changed(), 2u);
  EXPECT_EQ(interval.blocks_newer_than_state(), 3u);
  v1::IntervalReport report;
  *report.add_checkers() = interval;
  const v1::IntervalReport merged = MergeReports({report, report});
  EXPECT_EQ(merged.checkers(0).blocks_newer_than_state(), 6u);
}

TEST(ActivityToProto, CarriesTheMetadataCounters) {
  const v1::CheckerInterval interval = ActivityToProto(
      {.bytes_verified = 10, .entries_changed = 3, .entries_verified = 2000}, "metadata", "tree");
  EXPECT_EQ(interval.entries_changed(), 3u);
  EXPECT_EQ(interval.entries_verified(), 2000u);
  EXPECT_EQ(interval.bytes_verified(), 10u);
}

TEST(FindingToProto, TextThatIsNotUtf8OrTooLongIsMadeSafeSoTheRecordParses) {
  checker::Finding finding;
  finding.kind = checker::FindingKind::kMetadataMismatch;
  finding.path = "d0/\xff\xfe";  // a name the filesystem gave back damaged
  finding.detail = std::string(10000, 'x');
  const v1::Finding proto = FindingToProto(
      finding, {.checker = "metadata", .target = {.path = "/srv/tree", .kind = "directory"}}, 99);
  EXPECT_EQ(proto.path(), "d0/??");
  EXPECT_EQ(proto.message().size(), 4096u);
  EXPECT_LE(proto.evidence_summary().size(), 4096u);
  // What the spool and the collector do with it: parse it back.
  v1::Finding parsed;
  EXPECT_TRUE(parsed.ParseFromString(proto.SerializeAsString()));
}

}  // namespace
}  // namespace fscanary::daemon
