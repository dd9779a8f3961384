#pragma once
// Text from the collector, which agents wrote (hostnames, agent ids, kernel
// strings, evidence summaries, paths), made safe for an operator's terminal:
// no byte of it can move the cursor, retitle the window or clear the screen.
// Pure functions; every human-readable line the CLI prints from collector
// data goes through them. JSON output is not passed through them: the JSON
// encoder escapes what JSON requires, and it is for programs.

#include <string>
#include <string_view>

namespace fscanary::cli {

// `text` with every C0 control character (U+0000-U+001F, newline and tab
// included), DEL, every C1 control (U+0080-U+009F) and every byte that is not
// part of valid UTF-8 written as \xNN, and a backslash as \\, so that the
// result is unambiguous. Printable UTF-8 (accents, CJK) is left as it is.
std::string TerminalSafe(std::string_view text);

// TerminalSafe, line by line: keeps '\n' (a multi-line report stays one),
// escapes everything else as TerminalSafe does.
std::string TerminalSafeLines(std::string_view text);

}  // namespace fscanary::cli
