#include "collector/analysis/kernel_version.h"

#include <cctype>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace fscanary::analysis {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// Reads a decimal number at `pos`; nullopt when there is none or it is absurd.
std::optional<int> ReadNumber(std::string_view text, size_t& pos) {
  const size_t start = pos;
  int64_t value = 0;
  while (pos < text.size() && IsDigit(text[pos])) {
    value = value * 10 + (text[pos] - '0');
    if (value > 1'000'000'000) return std::nullopt;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return static_cast<int>(value);
}

// "-rc3" or "rc3" at `pos`: the candidate number, advancing `pos`.
std::optional<int> ReadReleaseCandidate(std::string_view text, size_t& pos) {
  size_t probe = pos;
  if (probe < text.size() && text[probe] == '-') ++probe;
  if (text.substr(probe, 2) != "rc") return std::nullopt;
  probe += 2;
  const std::optional<int> number = ReadNumber(text, probe);
  if (!number.has_value() || *number == 0) return std::nullopt;
  pos = probe;
  return number;
}

// A suffix as alternating runs of digits and letters; separators only split.
struct SuffixToken {
  bool numeric = false;
  uint64_t number = 0;
  std::string_view text;
};

std::vector<SuffixToken> Tokenize(std::string_view suffix) {
  std::vector<SuffixToken> tokens;
  size_t pos = 0;
  while (pos < suffix.size()) {
    const size_t start = pos;
    if (IsDigit(suffix[pos])) {
      uint64_t number = 0;
      while (pos < suffix.size() && IsDigit(suffix[pos])) {
        if (number < (uint64_t{1} << 58)) number = number * 10 + (suffix[pos] - '0');
        ++pos;
      }
      tokens.push_back(
          {.numeric = true, .number = number, .text = suffix.substr(start, pos - start)});
    } else if (IsAlpha(suffix[pos])) {
      while (pos < suffix.size() && IsAlpha(suffix[pos])) ++pos;
      tokens.push_back({.numeric = false, .text = suffix.substr(start, pos - start)});
    } else {
      ++pos;
    }
  }
  return tokens;
}

std::strong_ordering CompareSuffixes(std::string_view a, std::string_view b) {
  const std::vector<SuffixToken> x = Tokenize(a);
  const std::vector<SuffixToken> y = Tokenize(b);
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (x[i].numeric != y[i].numeric) {
      // As rpm does: a number is newer than letters in the same place.
      return x[i].numeric ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    if (x[i].numeric) {
      if (auto order = x[i].number <=> y[i].number; order != 0) return order;
    } else if (auto order = x[i].text.compare(y[i].text); order != 0) {
      return order < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
  }
  if (auto order = x.size() <=> y.size(); order != 0) return order;
  const int text_order = a.compare(b);
  if (text_order == 0) return std::strong_ordering::equal;
  return text_order < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

}  // namespace

std::string KernelVersion::Series() const { return absl::StrCat(major, ".", minor); }

std::optional<KernelVersion> ParseKernelVersion(std::string_view release) {
  KernelVersion version;
  size_t pos = 0;
  const std::optional<int> major = ReadNumber(release, pos);
  if (!major.has_value() || pos >= release.size() || release[pos] != '.') return std::nullopt;
  ++pos;
  const std::optional<int> minor = ReadNumber(release, pos);
  if (!minor.has_value()) return std::nullopt;
  version.major = *major;
  version.minor = *minor;
  if (pos < release.size() && release[pos] == '.' && pos + 1 < release.size() &&
      IsDigit(release[pos + 1])) {
    ++pos;
    version.patch = *ReadNumber(release, pos);
  }
  if (const std::optional<int> rc = ReadReleaseCandidate(release, pos); rc.has_value()) {
    version.rc = *rc;
  } else if (release.substr(pos, 3) == "-0.") {
    // Fedora names pre-releases "5.0.0-0.rc3.git0.1.fc30": release 0, rcN.
    size_t probe = pos + 3;
    if (const std::optional<int> fedora_rc = ReadReleaseCandidate(release, probe);
        fedora_rc.has_value()) {
      version.rc = *fedora_rc;
    }
  }
  if (pos < release.size() && IsAlpha(release[pos])) return std::nullopt;  // "4.19abc"
  version.suffix = std::string(release.substr(pos));
  return version;
}

std::strong_ordering CompareKernelVersions(const KernelVersion& a, const KernelVersion& b) {
  if (auto order = a.major <=> b.major; order != 0) return order;
  if (auto order = a.minor <=> b.minor; order != 0) return order;
  if (auto order = a.patch <=> b.patch; order != 0) return order;
  // A release candidate precedes the release: rc 0 means "released".
  const int a_rc = a.rc == 0 ? INT32_MAX : a.rc;
  const int b_rc = b.rc == 0 ? INT32_MAX : b.rc;
  if (auto order = a_rc <=> b_rc; order != 0) return order;
  return CompareSuffixes(a.suffix, b.suffix);
}

bool KernelReleaseLess(std::string_view a, std::string_view b) {
  const std::optional<KernelVersion> x = ParseKernelVersion(a);
  const std::optional<KernelVersion> y = ParseKernelVersion(b);
  if (x.has_value() != y.has_value()) return x.has_value();
  if (x.has_value()) {
    if (auto order = CompareKernelVersions(*x, *y); order != 0) return order < 0;
  }
  return a < b;
}

}  // namespace fscanary::analysis
