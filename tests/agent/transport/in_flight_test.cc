#include "agent/transport/in_flight.h"

#include <gtest/gtest.h>

namespace fscanary::transport {
namespace {

using Ranges = std::vector<spool::SequenceRange>;

TEST(InFlight, OnlySequencesInFlightAreTakenEachOnce) {
  InFlight in_flight;
  for (const uint64_t sequence : {3, 4, 5, 9}) in_flight.Add(sequence);
  const InFlight::Taken first = in_flight.Take(Ranges{{4, 9}});
  EXPECT_EQ(first.ranges, (Ranges{{4, 5}, {9, 9}}));
  EXPECT_EQ(first.records, 3u);
  EXPECT_EQ(first.ignored_ranges, 1u);  // 6 to 8 were never sent
  const InFlight::Taken again = in_flight.Take(Ranges{{4, 4}});
  EXPECT_TRUE(again.ranges.empty());
  EXPECT_EQ(again.ignored_ranges, 1u);
  EXPECT_EQ(in_flight.size(), 1u);
}

TEST(InFlight, MalformedRangesAreIgnored) {
  InFlight in_flight;
  in_flight.Add(1);
  const InFlight::Taken taken = in_flight.Take(Ranges{{0, 0}, {0, 5}, {2, 1}});
  EXPECT_EQ(taken.records, 0u);
  EXPECT_EQ(taken.ignored_ranges, 3u);
  EXPECT_EQ(in_flight.size(), 1u);
}

TEST(InFlight, ARangeToTheLastSequenceTakesWhatIsInFlight) {
  InFlight in_flight;
  in_flight.Add(7);
  const InFlight::Taken taken = in_flight.Take(Ranges{{7, UINT64_MAX}});
  EXPECT_EQ(taken.ranges, (Ranges{{7, 7}}));
  EXPECT_EQ(taken.ignored_ranges, 1u);
}

TEST(InFlight, AnExactRangeIsNotIgnored) {
  InFlight in_flight;
  in_flight.Add(7);
  in_flight.Add(8);
  EXPECT_EQ(in_flight.Take(Ranges{{7, 8}}).ignored_ranges, 0u);
}

}  // namespace
}  // namespace fscanary::transport
