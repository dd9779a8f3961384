#pragma once
// Writes plans (PlanExperiments) and fix confirmation (ConfirmFixes) for
// people (text) and machines (JSON values, so that `fscanary analyze --json`
// can carry fix confirmation in its one document). Pure; thread-safe.
// Infinite values (a forecast beyond its horizon, an unbounded interval) are
// null in JSON. docs/CORRELATION.md has the fields.

#include <span>
#include <string>

#include "collector/analysis/fix_confirmation.h"
#include "collector/analysis/planner.h"

namespace fscanary::analysis {

std::string FormatPlanText(const Plan& plan);
std::string FormatPlanJson(const Plan& plan);

// "Changes seen in host epochs" and one statement per change.
std::string FormatChangesText(std::span<const ChangeReport> changes);
// A JSON array, one object per change.
std::string FormatChangesJson(std::span<const ChangeReport> changes);

}  // namespace fscanary::analysis
