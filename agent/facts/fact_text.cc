#include "agent/facts/fact_text.h"

#include "common/utf8.h"

namespace fscanary::facts {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

}  // namespace

std::string FactText(std::string_view raw) {
  while (!raw.empty() && IsSpace(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && IsSpace(raw.back())) raw.remove_suffix(1);
  return Utf8Text(raw, kMaxFactBytes);
}

}  // namespace fscanary::facts
