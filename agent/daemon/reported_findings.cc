#include "agent/daemon/reported_findings.h"

#include <fcntl.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fscanary::daemon {
namespace {

// "target_id offset generation kind", hexadecimal target id.
std::string FormatLine(const FindingKey& key) {
  return absl::StrFormat("%016x %d %d %d\n", key.target_id, key.offset, key.expected_generation,
                         key.kind);
}

bool ParseLine(absl::string_view line, FindingKey& key) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  return fields.size() == 4 && fields[0].size() == 16 &&
         absl::SimpleHexAtoi(fields[0], &key.target_id) &&
         absl::SimpleAtoi(fields[1], &key.offset) &&
         absl::SimpleAtoi(fields[2], &key.expected_generation) &&
         absl::SimpleAtoi(fields[3], &key.kind);
}

}  // namespace

absl::StatusOr<ReportedFindings> ReportedFindings::Open(const std::string& path) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd.get(), path));
  std::string text(info.size, '\0');
  ASSIGN_OR_RETURN(const size_t read,
                   io::ReadAll(fd.get(), std::as_writable_bytes(std::span(text)), 0, path));
  text.resize(read);
  ReportedFindings reported(path, std::move(fd));
  reported.end_offset_ = read;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    FindingKey key;
    if (ParseLine(line, key)) {
      reported.keys_.insert(key);
    } else {
      ++reported.malformed_lines_;
    }
  }
  // A torn last line must not swallow the next entry: start it on a new line.
  if (!text.empty() && text.back() != '\n') {
    RETURN_IF_ERROR(io::WriteAll(reported.fd_.get(), std::as_bytes(std::span("\n", 1)),
                                 reported.end_offset_, path));
    ++reported.end_offset_;
  }
  return reported;
}

absl::Status ReportedFindings::Add(const FindingKey& key) {
  if (keys_.contains(key)) return absl::OkStatus();
  const std::string line = FormatLine(key);
  RETURN_IF_ERROR(io::WriteAll(fd_.get(), std::as_bytes(std::span(line)), end_offset_, path_));
  RETURN_IF_ERROR(io::DataSync(fd_.get(), path_));
  end_offset_ += line.size();
  keys_.insert(key);
  return absl::OkStatus();
}

}  // namespace fscanary::daemon
