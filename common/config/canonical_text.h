#pragma once
// The canonical text of a config: one "key.path: value" line per setting, in
// the order the caller adds them, each value in one fixed form (strings quoted
// and C-escaped, sizes and durations in their largest exact unit, numbers in
// their shortest round-trip form). Hashing it gives a config hash that does not
// depend on how the file was written.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/config/durations.h"

namespace fscanary::config {

class CanonicalText {
 public:
  // `title` becomes the first line, "# <title>"; put a format version in it.
  explicit CanonicalText(std::string_view title);

  void String(std::string_view key, std::string_view value);
  // An unquoted word: enum names, "unset".
  void Word(std::string_view key, std::string_view word);
  void Bool(std::string_view key, bool value);
  void Integer(std::string_view key, uint64_t value);
  void Number(std::string_view key, double value);
  void Size(std::string_view key, uint64_t bytes);
  void Time(std::string_view key, Duration duration);

  const std::string& text() const { return text_; }

 private:
  void Line(std::string_view key, std::string_view value);
  std::string text_;
};

}  // namespace fscanary::config
