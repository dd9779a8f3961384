#pragma once
// Converts what the checkers produce into the wire messages of fscanary.v1.

#include <string>

#include "agent/daemon/block_target_runner.h"
#include "checkers/verify/verify_pass.h"
#include "fscanary/v1/finding.pb.h"
#include "fscanary/v1/ingest.pb.h"

namespace fscanary::daemon {

v1::Finding FindingToProto(const verify::Finding& finding, const BlockTargetRunner& runner,
                           int64_t detected_unix_nanos);

v1::CheckerInterval ActivityToProto(const TargetActivity& activity, const std::string& checker,
                                    const std::string& target);

// Folds interval reports into one (summing counters per checker and target)
// for a spool that ran full: nothing counted is lost, only the time detail.
v1::IntervalReport MergeReports(const std::vector<v1::IntervalReport>& reports);

}  // namespace fscanary::daemon
