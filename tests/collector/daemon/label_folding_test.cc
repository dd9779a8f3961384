// Label values agents' data makes: checked, capped per label, folded into
// "other", with the folding counted.
#include "collector/daemon/label_folding.h"

#include <gtest/gtest.h>

#include <string>

namespace fscanary::collector {
namespace {

TEST(LabelValues, OnlyTheLabelCharacterSetWithinTheLengthIsAcceptable) {
  for (const char* value : {"6.1.0-18-amd64", "mq-deadline", "virtio_blk", "debian 12",
                            "0.1.0+git.abc", "scheduler=none,blk_mq=on", "vm-01.example:7"}) {
    EXPECT_TRUE(IsAcceptableLabelValue(value, 128)) << value;
  }
  for (const char* value :
       {"", "a\"b", "a\\b", "line\nbreak", "\x1b[31mred", "caf\xc3\xa9", "{x}", "50%"}) {
    EXPECT_FALSE(IsAcceptableLabelValue(value, 128)) << value;
  }
  EXPECT_TRUE(IsAcceptableLabelValue(std::string(128, 'a'), 128));
  EXPECT_FALSE(IsAcceptableLabelValue(std::string(129, 'a'), 128));
}

TEST(LabelFolder, TheValuesOnTheMostHostsKeepTheirNameTheRestAreOther) {
  LabelFolder folder({.max_values = 2});
  folder.Offer("kernel", "rare");
  for (int i = 0; i < 5; ++i) folder.Offer("kernel", "common");
  folder.Offer("kernel", "second");
  folder.Offer("kernel", "second");
  folder.Offer("kernel", std::string(4096, 'k'), 100);  // heaviest, but too long
  folder.Decide();
  EXPECT_EQ(folder.Fold("kernel", "common"), "common");
  EXPECT_EQ(folder.Fold("kernel", "second"), "second");
  EXPECT_EQ(folder.Fold("kernel", "rare"), "other");
  EXPECT_EQ(folder.Fold("kernel", std::string(4096, 'k')), "other");
  EXPECT_EQ(folder.FoldedCounts().at("kernel"), 2u);
}

TEST(LabelFolder, TiesGoToTheValueOfferedFirst) {
  LabelFolder folder({.max_hosts = 2});
  for (const char* host : {"old-b", "old-a", "new"}) folder.Offer("host", host);
  folder.Decide();
  EXPECT_EQ(folder.Fold("host", "old-b"), "old-b");
  EXPECT_EQ(folder.Fold("host", "old-a"), "old-a");
  EXPECT_EQ(folder.Fold("host", "new"), "other");
  EXPECT_EQ(folder.FoldedCounts().at("host"), 1u);
}

// The per-host series and the aggregates offer kernels in different orders:
// a tie between attribute values goes by the value, so both keep the same.
TEST(LabelFolder, AttributeValuesTiedOnHostsGoByValueWhateverTheOrderOffered) {
  LabelFolder first({.max_values = 2});
  LabelFolder second({.max_values = 2});
  for (const char* kernel : {"6.1.3", "6.1.1", "6.1.2"}) first.Offer("kernel", kernel);
  for (const char* kernel : {"6.1.2", "6.1.3", "6.1.1"}) second.Offer("kernel", kernel);
  first.Decide();
  second.Decide();
  for (LabelFolder* folder : {&first, &second}) {
    EXPECT_EQ(folder->Fold("kernel", "6.1.1"), "6.1.1");
    EXPECT_EQ(folder->Fold("kernel", "6.1.2"), "6.1.2");
    EXPECT_EQ(folder->Fold("kernel", "6.1.3"), "other");
  }
}

TEST(LabelFolder, EachLabelHasItsOwnLimit) {
  LabelFolder folder({.max_values = 1, .max_hosts = 3});
  for (const char* host : {"a", "b", "c"}) folder.Offer("host", host);
  for (const char* fs : {"ext4", "xfs"}) folder.Offer("fs", fs);
  folder.Decide();
  EXPECT_EQ(folder.Fold("host", "c"), "c");
  EXPECT_EQ(folder.Fold("fs", "xfs"), "other");
}

TEST(SeriesMerger, SeriesFoldedTogetherMergeByTheFamilysRule) {
  for (const auto& [merge, expected] :
       {std::pair{Merge::kSum, 5.0}, std::pair{Merge::kMin, 2.0}, std::pair{Merge::kMax, 3.0}}) {
    SeriesMerger merger(merge);
    merger.Add({{"host", "other"}}, 2);
    merger.Add({{"host", "other"}}, 3);
    merger.Add({{"host", "kept"}}, 7);
    metrics::MetricFamily family;
    std::move(merger).AppendTo(family);
    ASSERT_EQ(family.series.size(), 2u);
    EXPECT_EQ(family.series[0].labels.at("host"), "kept");
    EXPECT_EQ(family.series[1].value, expected);
  }
}

}  // namespace
}  // namespace fscanary::collector
