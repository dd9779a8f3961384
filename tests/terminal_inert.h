#pragma once
// Whether text is safe to show on an operator's terminal: no byte a terminal
// acts on (C0 and C1 controls, DEL) other than newline.

#include <string_view>

namespace fscanary::testing {

inline bool TerminalInert(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20 && byte != '\n') || byte == 0x7F) return false;
    // C1 controls (U+0080..U+009F) in UTF-8: a terminal may act on them too.
    if (byte == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      return false;
    }
  }
  return true;
}

}  // namespace fscanary::testing
