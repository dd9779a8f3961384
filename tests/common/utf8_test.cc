// What counts as UTF-8 is what protobuf parses: a string field holding
// anything else makes the whole record unreadable (the agent's spool, the
// collector), so the one definition here must refuse exactly that.
#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace fscanary {
namespace {

TEST(Utf8, EveryWellFormedLengthIsValid) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9"));          // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8, OverlongFormsSurrogatesAndCodePointsPastTheLastAreNot) {
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong, four bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a stray continuation byte
}

TEST(Utf8Text, ReplacesWhatIsNotUtf8AndNulAndCutsBetweenCharacters) {
  EXPECT_EQ(Utf8Text(std::string("a\xed\xa0\x80") + '\0' + "b", 100),
            "a???"
            "?b");
  EXPECT_EQ(Utf8Text("ab\xe2\x82\xac", 4), "ab");  // not half of the euro sign
}

}  // namespace
}  // namespace fscanary
