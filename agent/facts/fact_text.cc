#include "agent/facts/fact_text.h"

#include <algorithm>

#include "common/utf8.h"

namespace fscanary::facts {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

}  // namespace

std::string FactText(std::string_view raw) {
  while (!raw.empty() && IsSpace(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && IsSpace(raw.back())) raw.remove_suffix(1);
  std::string text;
  text.reserve(std::min(raw.size(), kMaxFactBytes));
  for (size_t i = 0; i < raw.size();) {
    const size_t length = Utf8SequenceLength(raw, i);
    const size_t taken = length == 0 ? 1 : length;
    if (text.size() + taken > kMaxFactBytes) break;
    if (length == 0) {
      text.push_back('?');
    } else {
      text.append(raw.substr(i, length));
    }
    i += taken;
  }
  return text;
}

}  // namespace fscanary::facts
