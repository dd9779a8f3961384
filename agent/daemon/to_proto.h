#pragma once
// Converts what the checkers produce into the wire messages of fscanary.v1.

#include <string>
#include <string_view>
#include <vector>

#include "checkers/checker/checker.h"
#include "fscanary/v1/finding.pb.h"
#include "fscanary/v1/ingest.pb.h"

namespace fscanary::daemon {

// Which checker made a finding, on which configured target.
struct FindingSource {
  std::string_view checker;
  std::string target_name;
  checker::TargetDescription target;
};

v1::Finding FindingToProto(const checker::Finding& finding, const FindingSource& source,
                           int64_t detected_unix_nanos);

v1::CheckerInterval ActivityToProto(const checker::Activity& activity, const std::string& checker,
                                    const std::string& target);

// Folds interval reports into one (summing counters per checker and target)
// for a spool that ran full: nothing counted is lost, only the time detail.
v1::IntervalReport MergeReports(const std::vector<v1::IntervalReport>& reports);

}  // namespace fscanary::daemon
