#pragma once
// Writes an AnalysisResult for machines (JSON) and for people (a ranked table
// and the explanations). Pure functions; thread-safe.
//
// JSON (docs/CORRELATION.md has the field list):
//   {"suspects": [{"attributes": {"scheduler": "none", ...}, "rate_ratio": 180,
//     "ci_low": 40, "ci_high": null, "p_value": ..., "q_value": ...,
//     "events": 12, "exposure_bytes": ..., "aliases": [{...}], "implied": {...},
//     "explanation": "..."}],
//    "kernel_versions": {...}, "hosts": N, "events": N}
// Infinite values (a ratio with no events outside the suspect) are null.

#include <string>

#include "collector/analysis/analysis.h"

namespace fscanary::analysis {

std::string FormatJson(const AnalysisResult& result);
std::string FormatText(const AnalysisResult& result);

}  // namespace fscanary::analysis
