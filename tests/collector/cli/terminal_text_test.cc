// What of an agent's text may reach an operator's terminal as it is.
#include "collector/cli/terminal_text.h"

#include <gtest/gtest.h>

namespace fscanary::cli {
namespace {

TEST(TerminalSafe, PlainTextAndPrintableUtf8AreLeftAlone) {
  EXPECT_EQ(TerminalSafe("vm-1.example:7420 /var/lib/fscanary"),
            "vm-1.example:7420 /var/lib/fscanary");
  EXPECT_EQ(TerminalSafe("Debian GNU/Linux 12 (bookworm) — café 日本"),
            "Debian GNU/Linux 12 (bookworm) — café 日本");
}

TEST(TerminalSafe, ControlCharactersAreWrittenAsHexEscapes) {
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(TerminalSafe("\r\n\t\x07\x7f"), "\\x0d\\x0a\\x09\\x07\\x7f");
  EXPECT_EQ(TerminalSafe(std::string("nul\0byte", 8)), "nul\\x00byte");
}

TEST(TerminalSafe, C1ControlsAndInvalidUtf8AreEscapedByteByByte) {
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "31m"),
            "\\xc2\\x9b31m")
      << "U+009B, the 8-bit CSI";
  EXPECT_EQ(TerminalSafe("\xc2\xa0"), "\xc2\xa0") << "U+00A0 is printable";
  EXPECT_EQ(TerminalSafe("\xff\xc3"), "\\xff\\xc3");
}

TEST(TerminalSafe, ABackslashIsDoubledSoEscapesStayUnambiguous) {
  EXPECT_EQ(TerminalSafe("\\x1b"), "\\\\x1b");
}

TEST(TerminalSafeLines, KeepsNewlinesAndEscapesTheRest) {
  EXPECT_EQ(TerminalSafeLines("one\r\ntwo\x1b\n"), "one\\x0d\ntwo\\x1b\n");
}

}  // namespace
}  // namespace fscanary::cli
