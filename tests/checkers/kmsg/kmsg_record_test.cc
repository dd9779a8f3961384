#include "checkers/kmsg/kmsg_record.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace fscanary::kmsg {
namespace {

TEST(KmsgRecord, ParsesTheHeaderAndTheMessage) {
  auto record = ParseKmsgRecord("6,339,5140900,-;NET: Registered PF_INET6 protocol family\n");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->facility, kFacilityKernel);
  EXPECT_EQ(record->level, 6);
  EXPECT_EQ(record->sequence, 339u);
  EXPECT_EQ(record->timestamp_usec, 5140900u);
  EXPECT_FALSE(record->continuation);
  EXPECT_EQ(record->message, "NET: Registered PF_INET6 protocol family");
  EXPECT_TRUE(record->properties.empty());
}

TEST(KmsgRecord, SplitsPrioIntoFacilityAndLevel) {
  // What "<3>..." written to /dev/kmsg by a process comes back as: user, err.
  auto user = ParseKmsgRecord("11,406,3275304895,-;fscanary-probe\n");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->facility, kFacilityUser);
  EXPECT_EQ(user->level, 3);
  auto daemon = ParseKmsgRecord("30,7,1,-;systemd[1]: Started Journal Service.\n");
  ASSERT_TRUE(daemon.ok());
  EXPECT_EQ(daemon->facility, 3);
  EXPECT_EQ(daemon->level, 6);
}

TEST(KmsgRecord, ContinuationFlagsAreRecognised) {
  EXPECT_TRUE(ParseKmsgRecord("4,10,20,c;first part\n")->continuation);
  EXPECT_TRUE(ParseKmsgRecord("4,11,21,+;second part\n")->continuation);
  EXPECT_FALSE(ParseKmsgRecord("4,12,22,-;whole line\n")->continuation);
}

TEST(KmsgRecord, FieldsAfterTheFlagsAreIgnored) {
  // Kernels built with CONFIG_PRINTK_CALLER add the caller.
  auto record = ParseKmsgRecord("6,1,2,-,caller=T1;msg\n");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->sequence, 1u);
  EXPECT_EQ(record->message, "msg");
}

TEST(KmsgRecord, PropertiesFollowTheMessage) {
  auto record = ParseKmsgRecord(
      "6,1240,9436467330,-;sd 6:0:0:0: [sdf] tag#2 Sense Key : Not Ready [current]\n"
      " SUBSYSTEM=scsi\n"
      " DEVICE=+scsi:6:0:0:0\n");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->message, "sd 6:0:0:0: [sdf] tag#2 Sense Key : Not Ready [current]");
  ASSERT_EQ(record->properties.size(), 2u);
  EXPECT_EQ(record->Property("SUBSYSTEM"), "scsi");
  EXPECT_EQ(record->Property("DEVICE"), "+scsi:6:0:0:0");
  EXPECT_EQ(record->Property("MISSING"), std::nullopt);
}

TEST(KmsgRecord, EscapesAreUndone) {
  // Read back from /dev/kmsg after writing "with\x07 tab<TAB>end": the kernel
  // escaped the backslash itself and the tab.
  auto record = ParseKmsgRecord("11,408,3275314007,-;with\\x5cx07 tab\\x09end\n");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->message, "with\\x07 tab\tend");
  EXPECT_EQ(UnescapeKmsg("caf\\xc3\\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(UnescapeKmsg("\\x00"), std::string(1, '\0'));
}

TEST(KmsgRecord, BrokenEscapesAreKeptAsTheyAre) {
  EXPECT_EQ(UnescapeKmsg("a\\xZZ b"), "a\\xZZ b");
  EXPECT_EQ(UnescapeKmsg("end\\x4"), "end\\x4");
  EXPECT_EQ(UnescapeKmsg("end\\x"), "end\\x");
  EXPECT_EQ(UnescapeKmsg("\\"), "\\");
}

TEST(KmsgRecord, MessageWithoutNewlineIsAccepted) {
  auto record = ParseKmsgRecord("6,1,2,-;no newline");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->message, "no newline");
}

TEST(KmsgRecord, MalformedRecordsAreErrors) {
  for (const char* raw : {
           "",
           "no semicolon at all\n",
           "6,1;too few fields\n",
           "6,1,2;three fields\n",
           "x,1,2,-;prio not a number\n",
           "6,-1,2,-;negative sequence\n",
           "6,1,2.5,-;fractional timestamp\n",
           "6,99999999999999999999999,0,-;sequence overflows\n",
           "6,1\n,2,-;header across lines\n",
           "6,1,2,-;message\nPROPERTY=without leading space\n",
       }) {
    auto record = ParseKmsgRecord(raw);
    EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument) << "record: " << raw;
  }
}

TEST(KmsgRecord, ArbitraryBytesNeverCrashTheParser) {
  std::mt19937_64 random(201685);  // fixed: a failure is reproducible
  const std::string alphabet = "0123456789,;-c+\\x \n=ABCDEF\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string raw(random() % 64, '\0');
    for (char& c : raw) {
      c = (random() % 4 == 0) ? static_cast<char>(random() % 256)
                              : alphabet[random() % alphabet.size()];
    }
    (void)ParseKmsgRecord(raw);
    (void)UnescapeKmsg(raw);
  }
}

}  // namespace
}  // namespace fscanary::kmsg
