#pragma once
// The message for a key the schema does not know: the nearest known key when
// it looks like a slip (a typo, a dash for an underscore, words swapped), else
// the list of known keys.

#include <set>
#include <string>
#include <string_view>

namespace fscanary::config {

// "unknown key (did you mean 'report_interval'?)" or
// "unknown key (expected one of: a, b, c)".
std::string UnknownKeyMessage(std::string_view key,
                              const std::set<std::string, std::less<>>& known);

}  // namespace fscanary::config
