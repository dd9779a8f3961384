#pragma once
// The JSON form of findings and verify results: a contract read by scripts
// (docs/FORMAT.md, "verify --json").

#include <string>

#include "checkers/block/verify/verify_pass.h"
#include "nlohmann/json.hpp"

namespace fscanary::verify {

nlohmann::json FindingToJson(const Finding& finding);

}  // namespace fscanary::verify
