#include "checkers/metadata/recovery.h"

#include <algorithm>

#include "checkers/metadata/tree_observer.h"
#include "common/status.h"

namespace fscanary::metadata {

absl::StatusOr<Resolution> ResolvePending(const io::DirectoryTree& tree, const TreeModel& model,
                                          const Op& op, const IoBudget& budget) {
  TreeModel after = model;
  RETURN_IF_ERROR(ApplyOp(after, op));
  Resolution resolution;
  resolution.touched = ChangedPaths(model, after);
  // The op's own names even where nothing observable changed.
  for (const std::string* name : {&op.path, &op.to}) {
    if (!name->empty() && std::find(resolution.touched.begin(), resolution.touched.end(), *name) ==
                              resolution.touched.end()) {
      resolution.touched.push_back(*name);
    }
  }
  std::vector<std::string> not_after;
  bool all_before = true;
  for (const std::string& path : resolution.touched) {
    const Observation observed = Observe(tree, path, {}, budget);
    const bool is_after = !Difference(after.Find(path), observed).has_value();
    const bool is_before = !Difference(model.Find(path), observed).has_value();
    if (!is_after) not_after.push_back(path);
    if (!is_before) all_before = false;
  }
  if (not_after.empty()) {
    resolution.done = true;
  } else if (all_before) {
    resolution.done = false;
  } else {
    resolution.done = true;
    resolution.unexplained = std::move(not_after);
  }
  return resolution;
}

}  // namespace fscanary::metadata
