#include "collector/service/validate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

constexpr int64_t kNow = 1'790'000'000'000'000'000;

v1::AgentMessage FindingMessage(v1::FindingKind kind) {
  v1::AgentMessage message;
  message.set_sequence(1);
  message.set_created_unix_nanos(kNow);
  v1::Finding& finding = *message.mutable_finding();
  finding.set_checker("metadata");
  finding.set_kind(kind);
  finding.set_detected_unix_nanos(kNow);
  return message;
}

TEST(ValidateAgentMessage, AcceptsAMetadataFindingWithItsPath) {
  v1::AgentMessage message = FindingMessage(v1::METADATA_MISMATCH);
  message.mutable_finding()->set_path("d0/f1");
  message.mutable_finding()->set_message("missing");
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "");
}

TEST(ValidateAgentMessage, AcceptsAPageCacheMismatchWhoseBufferedReadWasRight) {
  v1::AgentMessage message = FindingMessage(v1::PAGE_CACHE_MISMATCH);
  message.mutable_finding()->set_buffered_kind(v1::FINDING_KIND_UNSPECIFIED);
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "");
}

TEST(ValidateAgentMessage, RefusesAnUnknownBufferedKind) {
  v1::AgentMessage message = FindingMessage(v1::PAGE_CACHE_MISMATCH);
  message.mutable_finding()->set_buffered_kind(static_cast<v1::FindingKind>(77));
  const Rejection rejection = ValidateAgentMessage(message, {});
  EXPECT_EQ(rejection.reason, "range");
  EXPECT_NE(rejection.detail.find("buffered_kind"), std::string::npos) << rejection.detail;
}

TEST(ValidateAgentMessage, RefusesAPathLongerThanTheStringLimit) {
  v1::AgentMessage message = FindingMessage(v1::METADATA_MISMATCH);
  message.mutable_finding()->set_path(std::string(5000, 'a'));
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "string");
}

TEST(ValidateAgentMessage, RefusesADeviceFactLongerThanTheStringLimit) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kNow);
  message.set_sequence(2);
  message.mutable_facts()->add_devices()->set_merges(std::string(5000, 'a'));
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "string");
}

TEST(ValidateAgentMessage, RefusesASequenceBeyondTheStoresIntegerRange) {
  v1::AgentMessage message = FindingMessage(v1::CHECKSUM_MISMATCH);
  message.set_sequence(uint64_t{1} << 63);
  const Rejection rejection = ValidateAgentMessage(message, {});
  EXPECT_EQ(rejection.reason, "sequence");
  EXPECT_NE(rejection.detail.find("9223372036854775808"), std::string::npos) << rejection.detail;
}

TEST(ValidateAgentMessage, AcceptsTheLargestSequenceTheStoreHolds) {
  v1::AgentMessage message = FindingMessage(v1::CHECKSUM_MISMATCH);
  message.set_sequence((uint64_t{1} << 63) - 1);
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "");
}

TEST(ValidateAgentMessage, RefusesAKernelConfigKeyNamedLikeABuiltInAttribute) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kNow);
  message.set_sequence(3);
  (*message.mutable_facts()->mutable_kernel_config())["CONFIG_BLK_DEV"] = "y";
  (*message.mutable_facts()->mutable_kernel_config())["scheduler"] = "none";
  const Rejection rejection = ValidateAgentMessage(message, {});
  EXPECT_EQ(rejection.reason, "kernel_config");
  EXPECT_NE(rejection.detail.find("\"scheduler\""), std::string::npos) << rejection.detail;
}

TEST(ValidateAgentMessage, AcceptsTheMixedCaseOptionNamesRealConfigsHold) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kNow);
  message.set_sequence(3);
  (*message.mutable_facts()->mutable_kernel_config())["CONFIG_SCSI_DC395x"] = "m";
  EXPECT_EQ(ValidateAgentMessage(message, {}).reason, "");
}

TEST(ValidateAgentMessage, RefusesAHostnameHoldingANulByte) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kNow);
  message.mutable_hello()->set_agent_id("a");
  message.mutable_hello()->mutable_facts()->set_hostname(std::string("vm\0-1", 5));
  const Rejection rejection = ValidateAgentMessage(message, {});
  EXPECT_EQ(rejection.reason, "string");
  EXPECT_THAT(rejection.detail, ::testing::HasSubstr("NUL byte (at byte 2)"));
}

// PostgreSQL refuses NUL in text (SQLSTATE 22021), failing the agent's whole
// batch again at every resend, where SQLite stores it. The collector refuses
// such a record before it reaches either store, alike.
class NulInText : public store::testing::BackendTest {};

TEST_P(NulInText, ARecordWithANulByteIsRefusedBeforeTheStoreOnEveryBackend) {
  fscanary::testing::TempDir dir;
  auto store = store::testing::OpenStore(dir);
  ASSERT_NE(store, nullptr);
  v1::AgentMessage message = store::testing::ReportRecord(1, kNow, 4096);
  message.mutable_report()->mutable_checkers(0)->set_last_error(std::string("a\0b", 3));
  const Rejection rejection = ValidateAgentMessage(message, {});
  EXPECT_EQ(rejection.reason, "string");
  EXPECT_THAT(rejection.detail, ::testing::HasSubstr("report.checkers.last_error holds a NUL"));
  if (rejection.reason.empty()) {
    const absl::StatusOr<std::vector<store::RecordResult>> stored =
        store->IngestBatch("a", std::vector{message}, kNow);
    ADD_FAILURE() << "accepted, and then the store said: "
                  << (stored.ok() ? (*stored)[0].error : stored.status());
  }
}

FSCANARY_ON_EVERY_BACKEND(NulInText);

}  // namespace
}  // namespace fscanary::collector
