#pragma once
// The JSON pieces every writer of the analysis uses, so that each writes a
// number, an attribute list or an optional release the same way. Internal to
// the analysis (its .cc files link nlohmann_json). Pure; thread-safe.

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "collector/analysis/analysis.h"
#include "nlohmann/json.hpp"

namespace fscanary::analysis::json {

using Json = nlohmann::ordered_json;

// Infinite values (an unbounded interval, a forecast beyond its horizon) are null.
inline Json Number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

inline Json Attributes(const std::vector<AttributeValue>& attributes) {
  Json object = Json::object();
  for (const AttributeValue& a : attributes) object[a.attribute] = a.value;
  return object;
}

inline Json Optional(const std::optional<std::string>& value) {
  return value.has_value() ? Json(*value) : Json(nullptr);
}

}  // namespace fscanary::analysis::json
