#include "common/utf8.h"

#include <algorithm>

namespace fscanary {

size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = at(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  // The second byte's range: narrower after E0 (overlong), ED (surrogates),
  // F0 (overlong) and F4 (past U+10FFFF).
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  if (at(i + 1) < low || at(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return length;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string Utf8Text(std::string_view raw, size_t max_bytes) {
  std::string text;
  text.reserve(std::min(raw.size(), max_bytes));
  for (size_t i = 0; i < raw.size();) {
    const size_t length = Utf8SequenceLength(raw, i);
    const size_t taken = length == 0 ? 1 : length;
    if (text.size() + taken > max_bytes) break;
    if (length == 0 || raw[i] == '\0') {
      text.push_back('?');
    } else {
      text.append(raw.substr(i, length));
    }
    i += taken;
  }
  return text;
}

}  // namespace fscanary
