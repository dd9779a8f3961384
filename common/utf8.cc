#include "common/utf8.h"

#include <algorithm>

namespace fscanary {

size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t extra;
  if (lead < 0x80) {
    return 1;
  } else if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) {
    extra = 1;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
  } else if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) {
    extra = 3;
  } else {
    return 0;
  }
  if (text.size() - i - 1 < extra) return 0;
  for (size_t k = 1; k <= extra; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return extra + 1;
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
