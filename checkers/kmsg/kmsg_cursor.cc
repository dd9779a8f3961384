#include "checkers/kmsg/kmsg_cursor.h"

#include <fcntl.h>
#include <xxhash.h>

#include <charconv>
#include <filesystem>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "io/posix.h"

namespace fscanary::kmsg {
namespace {

constexpr char kMagicLine[] = "fscanary-kmsg-cursor 1\n";
constexpr std::string_view kMagic = kMagicLine;
// A cursor is well under this; a bigger file is not one.
constexpr size_t kMaxFileBytes = 4096;

std::string ChecksumHex(std::string_view body) {
  return absl::StrFormat("%016x", XXH3_64bits(body.data(), body.size()));
}

// The value of the line "<key> <value>\n" at the front of `text`, which it
// consumes; nullopt when the front line is another.
std::optional<std::string_view> TakeField(std::string_view& text, std::string_view key) {
  const size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(0, newline);
  if (line.size() <= key.size() + 1 || line.substr(0, key.size()) != key ||
      line[key.size()] != ' ') {
    return std::nullopt;
  }
  text.remove_prefix(newline + 1);
  return line.substr(key.size() + 1);
}

bool IsBootId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The whole small file at `path`: NotFound if absent, DataLoss past `max_bytes`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDONLY));
  std::vector<std::byte> buffer(max_bytes + 1);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd.get(), buffer, 0, path));
  if (got > max_bytes) {
    return absl::DataLossError(absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
  }
  return std::string(reinterpret_cast<const char*>(buffer.data()), got);
}

}  // namespace

std::string EncodeCursor(const KmsgCursor& cursor) {
  const std::string body = absl::StrCat(kMagicLine, "boot_id ", cursor.boot_id, "\n",
                                        "next_sequence ", cursor.next_sequence, "\n");
  return absl::StrCat(body, "checksum ", ChecksumHex(body), "\n");
}

absl::StatusOr<KmsgCursor> DecodeCursor(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("kmsg cursor: not an fscanary-kmsg-cursor 1 file");
  }
  std::string_view rest = text.substr(kMagic.size());
  const auto boot_id = TakeField(rest, "boot_id");
  const auto next_sequence = TakeField(rest, "next_sequence");
  const size_t body_size = text.size() - rest.size();
  const auto checksum = TakeField(rest, "checksum");
  if (!boot_id || !next_sequence || !checksum) {
    return absl::DataLossError("kmsg cursor: missing or misplaced line (torn or truncated?)");
  }
  if (!rest.empty()) return absl::DataLossError("kmsg cursor: bytes after the checksum line");
  if (*checksum != ChecksumHex(text.substr(0, body_size))) {
    return absl::DataLossError("kmsg cursor: checksum mismatch");
  }
  KmsgCursor cursor{.boot_id = std::string(*boot_id)};
  const auto [end, error] = std::from_chars(
      next_sequence->data(), next_sequence->data() + next_sequence->size(), cursor.next_sequence);
  if (error != std::errc() || end != next_sequence->data() + next_sequence->size() ||
      !IsBootId(cursor.boot_id)) {
    return absl::DataLossError("kmsg cursor: malformed boot_id or next_sequence");
  }
  return cursor;
}

absl::StatusOr<KmsgCursor> LoadCursor(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(path, kMaxFileBytes));
  auto cursor = DecodeCursor(text);
  if (!cursor.ok()) return absl::DataLossError(absl::StrCat(path, ": ", cursor.status().message()));
  return cursor;
}

absl::Status StoreCursor(const std::string& path, const KmsgCursor& cursor) {
  const std::string text = EncodeCursor(cursor);
  const std::string temp_path = path + ".tmp";
  {
    ASSIGN_OR_RETURN(io::UniqueFd temp, io::Open(temp_path, O_WRONLY | O_CREAT | O_TRUNC));
    RETURN_IF_ERROR(io::WriteAll(temp.get(), std::as_bytes(std::span(text)), 0, temp_path));
    RETURN_IF_ERROR(io::DataSync(temp.get(), temp_path));
  }
  // std::filesystem::rename is rename(2): atomic replacement within a directory.
  std::error_code error;
  std::filesystem::rename(temp_path, path, error);
  if (error) return ErrnoToStatus(error.value(), "rename " + temp_path + " to " + path);
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  return io::SyncDirectory(directory.empty() ? std::string(".") : directory.string());
}

absl::StatusOr<std::string> ReadBootId(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 256));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!IsBootId(text)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " holds no boot id"));
  }
  return text;
}

}  // namespace fscanary::kmsg
