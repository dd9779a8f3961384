// The kernel-log cursor file pinned by a golden copy
// (tests/checkers/kmsg/golden/kmsg_cursor_v1.txt): it decodes to a known
// cursor, and encoding that cursor gives the same bytes.

#include <string>

#include "checkers/kmsg/kmsg_cursor.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"

namespace fscanary::kmsg {
namespace {

// The four lines (kmsg_cursor.h): version line, boot id, next sequence, and
// the XXH3-64 (16 hex digits) of the three lines before it.
const KmsgCursor kCursor{.boot_id = "92460906-1840-4a18-9c8f-cca5a5c86384", .next_sequence = 408};

std::string Golden() {
  return testing::ReadSourceFile("tests/checkers/kmsg/golden/kmsg_cursor_v1.txt");
}

TEST(GoldenKmsgCursor, DecodesToItsKnownFields) {
  const absl::StatusOr<KmsgCursor> cursor = DecodeCursor(Golden());
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, kCursor);
}

TEST(GoldenKmsgCursor, EncodingItsFieldsGivesTheSameBytes) {
  EXPECT_EQ(EncodeCursor(kCursor),
            "fscanary-kmsg-cursor 1\n"
            "boot_id 92460906-1840-4a18-9c8f-cca5a5c86384\n"
            "next_sequence 408\n"
            "checksum fa01f6e5668b3343\n");
  EXPECT_EQ(EncodeCursor(kCursor), Golden());
}

}  // namespace
}  // namespace fscanary::kmsg
