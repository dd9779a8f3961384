#pragma once
// gzip data (zlib) for tests of /proc/config.gz.

#include <string>

namespace fscanary::facts::testing {

std::string Gzip(const std::string& text);

}  // namespace fscanary::facts::testing
