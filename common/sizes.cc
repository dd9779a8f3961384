#include "common/sizes.h"

#include <cctype>
#include <charconv>
#include <string>

namespace fscanary {

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  const std::string original(text);
  auto bad = [&] {
    return absl::InvalidArgumentError("'" + original +
                                      "' is not a byte size (examples: 4096, 64K, 512M, 1G)");
  };
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return bad();
  std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
  if (suffix.ends_with("iB"))
    suffix.remove_suffix(2);
  else if (suffix.size() == 2 && suffix.ends_with("B"))
    suffix.remove_suffix(1);
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        return bad();
    }
  } else {
    return bad();
  }
  if (shift > 0 && value > (~uint64_t{0} >> shift)) {
    return absl::OutOfRangeError("'" + original + "' is too large");
  }
  return value << shift;
}

}  // namespace fscanary
