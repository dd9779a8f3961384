#include "agent/facts/gunzip.h"

#include <zlib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fscanary::facts {

absl::StatusOr<std::string> Gunzip(std::string_view compressed, size_t max_bytes) {
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib stream.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char chunk[64 * 1024];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof(chunk);
    result = inflate(&stream, Z_NO_FLUSH);
    // Truncated input ends here too: the next inflate after the last byte
    // makes no progress and says Z_BUF_ERROR.
    if (result != Z_OK && result != Z_STREAM_END) break;
    out.append(chunk, sizeof(chunk) - stream.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&stream);
      return absl::ResourceExhaustedError(
          absl::StrCat("gzip data inflates past ", max_bytes, " bytes"));
    }
  }
  inflateEnd(&stream);
  if (result != Z_STREAM_END) {
    return absl::DataLossError(
        absl::StrCat("not a complete gzip stream (zlib error ", result,
                     stream.msg != nullptr ? std::string(": ") + stream.msg : std::string(), ")"));
  }
  return out;
}

}  // namespace fscanary::facts
