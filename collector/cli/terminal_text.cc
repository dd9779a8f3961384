#include "collector/cli/terminal_text.h"

#include "absl/strings/str_format.h"
#include "common/utf8.h"

namespace fscanary::cli {
namespace {

std::string Escape(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n' && keep_newlines) {
      out.push_back('\n');
      ++i;
      continue;
    }
    if (byte == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    // C0, DEL, an invalid byte, or a C1 control (U+0080-U+009F: C2 80..C2 9F).
    const bool control = byte < 0x20 || byte == 0x7F;
    const bool c1 = length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (control || length == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
      ++i;
    } else if (c1) {
      absl::StrAppendFormat(&out, "\\x%02x\\x%02x", byte, static_cast<unsigned char>(text[i + 1]));
      i += 2;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace

std::string TerminalSafe(std::string_view text) { return Escape(text, /*keep_newlines=*/false); }

std::string TerminalSafeLines(std::string_view text) {
  return Escape(text, /*keep_newlines=*/true);
}

}  // namespace fscanary::cli
