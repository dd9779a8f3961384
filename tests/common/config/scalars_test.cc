#include "common/config/scalars.h"

#include <gtest/gtest.h>

namespace fscanary::config {
namespace {

Scalar Plain(std::string text) { return {.text = std::move(text), .quoted = false}; }
Scalar Quoted(std::string text) { return {.text = std::move(text), .quoted = true}; }

TEST(Scalars, BooleansAreUnquotedTrueOrFalseOnly) {
  EXPECT_EQ(*ToBool(Plain("true")), true);
  EXPECT_EQ(*ToBool(Plain("FALSE")), false);
  EXPECT_FALSE(ToBool(Plain("yes")).ok());
  EXPECT_FALSE(ToBool(Plain("on")).ok());
  EXPECT_FALSE(ToBool(Quoted("true")).ok());
}

TEST(Scalars, NumbersAreUnquotedFiniteAndInRange) {
  EXPECT_DOUBLE_EQ(*ToNumber(Plain("0.01"), 0, 1), 0.01);
  EXPECT_DOUBLE_EQ(*ToNumber(Plain("1e-2"), 0, 1), 0.01);
  EXPECT_FALSE(ToNumber(Quoted("0.5"), 0, 1).ok());
  EXPECT_FALSE(ToNumber(Plain("inf"), 0, 1e308).ok());
  EXPECT_FALSE(ToNumber(Plain("0.5x"), 0, 1).ok());
  EXPECT_EQ(ToNumber(Plain("2"), 0, 1).status().message(), "2 is not between 0 and 1");
}

TEST(Scalars, WholeNumbersAreUnquotedDecimalDigits) {
  EXPECT_EQ(*ToWholeNumber(Plain("32"), 1, 4096), 32u);
  EXPECT_EQ(ToWholeNumber(Quoted("32"), 1, 4096).status().message(),
            "expected a whole number, got the quoted string '32'");
  for (const char* text : {"-1", "+1", "0x10", "1e3", "1.0", ""}) {
    EXPECT_FALSE(ToWholeNumber(Plain(text), 0, 4096).ok()) << text;
  }
  EXPECT_EQ(ToWholeNumber(Plain("18446744073709551616"), 0, 10).status().message(),
            "18446744073709551616 is not between 0 and 10");
}

TEST(Scalars, SizesAndDurationsMayBeQuotedAndSayTheirRangeInTheirOwnUnits) {
  EXPECT_EQ(*ToSize(Quoted("64K"), 0, 1 << 20), 65536u);
  EXPECT_EQ(ToSize(Plain("2M"), 0, 1 << 20).status().message(), "2M is not between 0 and 1M");
  EXPECT_EQ(*ToDuration(Quoted("5m"), Duration(0), std::chrono::hours(1)), std::chrono::minutes(5));
  EXPECT_EQ(
      ToDuration(Plain("90m"), std::chrono::seconds(1), std::chrono::hours(1)).status().message(),
      "90m is not between 1s and 1h");
}

TEST(Scalars, EchoEscapesAndCutsLongText) {
  EXPECT_EQ(Echo("a\nb"), "'a\\nb'");
  EXPECT_EQ(Echo(std::string(100, 'x')), "'" + std::string(60, 'x') + "...'");
}

}  // namespace
}  // namespace fscanary::config
