#include "common/config/canonical_text.h"

#include <charconv>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fscanary::config {
namespace {

absl::string_view View(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

CanonicalText::CanonicalText(std::string_view title)
    : text_(absl::StrCat("# ", View(title), "\n")) {}

void CanonicalText::Line(std::string_view key, std::string_view value) {
  absl::StrAppend(&text_, View(key), ": ", View(value), "\n");
}

void CanonicalText::String(std::string_view key, std::string_view value) {
  Line(key, absl::StrCat("\"", absl::CEscape(View(value)), "\""));
}

void CanonicalText::Word(std::string_view key, std::string_view word) { Line(key, word); }

void CanonicalText::Bool(std::string_view key, bool value) { Line(key, value ? "true" : "false"); }

void CanonicalText::Integer(std::string_view key, uint64_t value) {
  Line(key, absl::StrCat(value));
}

void CanonicalText::Number(std::string_view key, double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  Line(key, std::string_view(buffer, static_cast<size_t>(result.ptr - buffer)));
}

void CanonicalText::Size(std::string_view key, uint64_t bytes) { Line(key, FormatByteSize(bytes)); }

void CanonicalText::Time(std::string_view key, Duration duration) {
  Line(key, FormatDuration(duration));
}

}  // namespace fscanary::config
