#pragma once
// UTF-8 validity, one definition for every place that takes text from outside
// (facts read from the system, records from agents, text printed to a terminal).

#include <cstddef>
#include <string>
#include <string_view>

namespace fscanary {

// Bytes in the valid UTF-8 sequence that starts at text[i] (1-4), or 0 where
// none starts there: a stray continuation byte, an overlong form, a UTF-16
// surrogate, a code point past U+10FFFF, or a sequence cut short (protobuf
// refuses to parse a string field holding any of them). i < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether every byte of `text` belongs to a valid UTF-8 sequence.
bool IsValidUtf8(std::string_view text);

// `raw` as text the collector accepts: every byte that is not part of a valid
// UTF-8 sequence, and every NUL, replaced by '?', cut to at most `max_bytes`
// on a character boundary (a cut through a character would make the whole
// record invalid).
std::string Utf8Text(std::string_view raw, size_t max_bytes);

}  // namespace fscanary
