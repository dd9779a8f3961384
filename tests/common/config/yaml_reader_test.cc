#include "common/config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A small schema read the way the configs read theirs.
struct Settings {
  std::string name = "default";
  bool enabled = false;
  uint64_t count = 1;
  double share = 0.5;
  uint64_t bytes = 0;
  Duration every = std::chrono::seconds(1);
  std::vector<std::string> tags;
  std::string inner_word;
  std::vector<std::string> item_ids;
};

absl::StatusOr<Settings> Read(std::string_view yaml, bool require_name = false) {
  absl::StatusOr<Reader> reader = Reader::Parse(yaml, "test.yaml");
  if (!reader.ok()) return reader.status();
  Settings settings;
  Section root = reader->Root();
  if (require_name) root.Require("name");
  root.Read("name", settings.name);
  root.Read("enabled", settings.enabled);
  root.ReadInteger("count", settings.count, 1, 100);
  root.Read("share", settings.share, 0, 1);
  root.ReadSize("bytes", settings.bytes, 0, uint64_t{1} << 30);
  root.ReadDuration("every", settings.every, std::chrono::seconds(1), std::chrono::hours(1));
  root.ReadStringList("tags", settings.tags);
  if (std::optional<Section> inner = root.Child("inner")) inner->Read("word", settings.inner_word);
  if (std::optional<std::vector<Section>> items = root.Children("items")) {
    for (Section& item : *items) {
      std::string id;
      item.Read("id", id);
      settings.item_ids.push_back(id);
    }
  }
  if (absl::Status status = reader->Finish(); !status.ok()) return status;
  return settings;
}

std::string ErrorOf(std::string_view yaml) {
  absl::StatusOr<Settings> settings = Read(yaml);
  EXPECT_FALSE(settings.ok()) << yaml;
  if (settings.ok()) return "";
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(settings.status().message());
}

TEST(YamlReader, ReadsEveryKindOfValue) {
  const absl::StatusOr<Settings> settings = Read(
      "name: canary\n"
      "enabled: true\n"
      "count: 42\n"
      "share: 0.25\n"
      "bytes: 64K\n"
      "every: 5m\n"
      "tags: [a, b]\n"
      "inner:\n"
      "  word: hello\n"
      "items:\n"
      "  - id: x\n"
      "  - id: y\n");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->name, "canary");
  EXPECT_TRUE(settings->enabled);
  EXPECT_EQ(settings->count, 42u);
  EXPECT_DOUBLE_EQ(settings->share, 0.25);
  EXPECT_EQ(settings->bytes, 65536u);
  EXPECT_EQ(settings->every, std::chrono::minutes(5));
  EXPECT_EQ(settings->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(settings->inner_word, "hello");
  EXPECT_EQ(settings->item_ids, (std::vector<std::string>{"x", "y"}));
}

TEST(YamlReader, KeysLeftOutKeepTheirDefaults) {
  const absl::StatusOr<Settings> settings = Read("enabled: false\n");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->name, "default");
  EXPECT_EQ(settings->count, 1u);
  EXPECT_EQ(settings->every, std::chrono::seconds(1));
}

TEST(YamlReader, AnEmptySectionIsTheSameAsNone) {
  const absl::StatusOr<Settings> settings = Read("inner:\n  # word: commented out\nitems:\n");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->inner_word, "");
}

TEST(YamlReader, UnknownTopLevelKeyIsNamedWithItsLineAndASuggestion) {
  EXPECT_EQ(ErrorOf("name: a\ncuont: 3\n"),
            "test.yaml:2: cuont: unknown key (did you mean 'count'?)");
}

TEST(YamlReader, UnknownNestedKeyIsNamedByItsPath) {
  EXPECT_EQ(ErrorOf("inner:\n  word: a\n  colour: red\n"),
            "test.yaml:3: inner.colour: unknown key (expected one of: word)");
  EXPECT_THAT(ErrorOf("items:\n  - id: a\n  - id: b\n    ide: c\n"),
              StartsWith("test.yaml:4: items[1].ide: unknown key (did you mean 'id'?)"));
}

TEST(YamlReader, DuplicateKeyIsAnErrorNamingTheFirst) {
  EXPECT_EQ(ErrorOf("count: 1\nname: a\ncount: 2\n"),
            "test.yaml:3: count: duplicate key (first at line 1)");
}

TEST(YamlReader, AStringWhereANumberIsExpectedIsAnError) {
  EXPECT_EQ(ErrorOf("count: many\n"), "test.yaml:1: count: expected a whole number, got 'many'");
  EXPECT_EQ(ErrorOf("count: \"42\"\n"),
            "test.yaml:1: count: expected a whole number, got the quoted string '42'");
  EXPECT_EQ(ErrorOf("count: -3\n"), "test.yaml:1: count: expected a whole number, got '-3'");
  EXPECT_EQ(ErrorOf("share: half\n"), "test.yaml:1: share: expected a number, got 'half'");
  EXPECT_EQ(ErrorOf("share: .nan\n"), "test.yaml:1: share: expected a number, got '.nan'");
  EXPECT_EQ(ErrorOf("enabled: yes\n"), "test.yaml:1: enabled: expected true or false, got 'yes'");
}

TEST(YamlReader, AStructureWhereAValueIsExpectedIsAnError) {
  EXPECT_EQ(ErrorOf("name:\n  first: a\n"),
            "test.yaml:1: name: expected a single value, got a mapping");
  EXPECT_EQ(ErrorOf("count: [1, 2]\n"), "test.yaml:1: count: expected a single value, got a list");
  EXPECT_EQ(ErrorOf("inner: 3\n"), "test.yaml:1: inner: expected a mapping of settings, got '3'");
  EXPECT_EQ(ErrorOf("tags: a\n"), "test.yaml:1: tags: expected a list such as [a, b], got 'a'");
  EXPECT_EQ(ErrorOf("items:\n  - id: a\n  - b\n"),
            "test.yaml:3: items[1]: expected a mapping of settings, got 'b'");
}

TEST(YamlReader, AKeyWithoutAValueIsAnErrorRatherThanTheDefault) {
  EXPECT_EQ(ErrorOf("count:\n"),
            "test.yaml:1: count: has no value (leave the key out to use the default)");
}

TEST(YamlReader, ValuesOutOfRangeSayTheRange) {
  EXPECT_EQ(ErrorOf("count: 101\n"), "test.yaml:1: count: 101 is not between 1 and 100");
  EXPECT_EQ(ErrorOf("count: 99999999999999999999999\n"),
            "test.yaml:1: count: 99999999999999999999999 is not between 1 and 100");
  EXPECT_EQ(ErrorOf("bytes: 2G\n"), "test.yaml:1: bytes: 2G is not between 0 and 1G");
  EXPECT_EQ(ErrorOf("every: 2h\n"), "test.yaml:1: every: 2h is not between 1s and 1h");
}

TEST(YamlReader, BadSizesAndDurationsSayWhatIsExpected) {
  EXPECT_THAT(ErrorOf("bytes: 12Q\n"), HasSubstr("test.yaml:1: bytes: '12Q' is not a byte size"));
  EXPECT_THAT(ErrorOf("every: 30\n"), HasSubstr("test.yaml:1: every: '30' needs a unit"));
  EXPECT_THAT(ErrorOf("every: soon\n"), HasSubstr("test.yaml:1: every: 'soon' is not a duration"));
}

TEST(YamlReader, MissingRequiredKeyIsNamed) {
  const absl::StatusOr<Settings> settings = Read("count: 3\n", /*require_name=*/true);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().message(), "test.yaml:1: missing required key 'name'");
}

TEST(YamlReader, EveryProblemIsListedInLineOrder) {
  const std::string error = ErrorOf("count: x\nshare: 2\nbogus: 1\nenabled: 3\n");
  EXPECT_EQ(error,
            "test.yaml:1: count: expected a whole number, got 'x'\n"
            "test.yaml:2: share: 2 is not between 0 and 1\n"
            "test.yaml:3: bogus: unknown key (expected one of: bytes, count, enabled, every, "
            "inner, items, name, share, tags)\n"
            "test.yaml:4: enabled: expected true or false, got '3'");
}

TEST(YamlReader, ManyProblemsAreCappedWithACount) {
  std::string yaml;
  for (int i = 0; i < 25; ++i) yaml += "unknown_" + std::to_string(i) + ": 1\n";
  const std::string error = ErrorOf(yaml);
  EXPECT_THAT(error, HasSubstr("test.yaml:20: unknown_19"));
  EXPECT_THAT(error, ::testing::EndsWith("... and 5 more"));
}

TEST(YamlReader, SyntaxErrorNamesItsLine) {
  EXPECT_THAT(ErrorOf("name: a\ninner:\n  word: [unclosed\ncount: 3\n"), StartsWith("test.yaml:"));
  EXPECT_THAT(ErrorOf("name: a\n  count: 3\n"), StartsWith("test.yaml:2: YAML: "));
  EXPECT_THAT(ErrorOf("name: a\ncount: 3\n\tenabled: true\n"), StartsWith("test.yaml:3: YAML: "));
}

TEST(YamlReader, EmptyOrCommentOnlyDocumentIsAnError) {
  EXPECT_THAT(ErrorOf(""), StartsWith("test.yaml: the configuration is empty"));
  EXPECT_THAT(ErrorOf("# nothing here\n\n"), StartsWith("test.yaml: the configuration is empty"));
}

TEST(YamlReader, TopLevelMustBeOneMapping) {
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "test.yaml:1: expected a mapping of settings at the top level, got a list");
  EXPECT_THAT(ErrorOf("name: a\n---\nname: b\n"),
              StartsWith("test.yaml:3: a second YAML document"));
}

TEST(YamlReader, AnchorsAndAliasesAreResolved) {
  const absl::StatusOr<Settings> settings =
      Read("tags: &common [a, b]\nitems:\n  - id: &x first\n  - id: *x\n");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->item_ids, (std::vector<std::string>{"first", "first"}));
}

TEST(YamlReader, ValuesAndKeysAreEscapedSoEachProblemStaysOnOneLine) {
  EXPECT_EQ(ErrorOf("count: \"4\\n2\"\n\"odd\\nkey\": 1\n"),
            "test.yaml:1: count: expected a whole number, got the quoted string '4\\n2'\n"
            "test.yaml:2: odd\\nkey: unknown key (expected one of: bytes, count, enabled, every, "
            "inner, items, name, share, tags)");
}

TEST(YamlReader, AskingForTheRootTwiceReportsItsUnknownKeysOnce) {
  absl::StatusOr<Reader> reader = Reader::Parse("known: 1\nstray: 2\n", "test.yaml");
  ASSERT_TRUE(reader.ok());
  std::string known;
  reader->Root().Read("known", known);
  reader->Root().Read("known", known);
  EXPECT_EQ(reader->Finish().message(), "test.yaml:2: stray: unknown key (expected one of: known)");
}

TEST(YamlReaderGuard, TurnsExceptionsIntoStatuses) {
  const absl::Status status =
      Reader::Guard("x.yaml", []() -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message(), "x.yaml: boom");
  EXPECT_TRUE(Reader::Guard("x.yaml", [] { return absl::OkStatus(); }).ok());
}

}  // namespace
}  // namespace fscanary::config
