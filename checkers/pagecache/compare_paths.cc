#include "checkers/pagecache/compare_paths.h"

#include <algorithm>

namespace fscanary::pagecache {
namespace {

bool SameCorruption(const block::Verdict& buffered, std::span<const std::byte> buffered_bytes,
                    const block::Verdict& direct, std::span<const std::byte> direct_bytes) {
  switch (direct.kind) {
    case block::Kind::kIoError:
      // Nothing was read either way; the errno may differ by path (a
      // filesystem's checksum failure is EIO on both).
      return true;
    case block::Kind::kShortRead: {
      if (buffered.bytes_read != direct.bytes_read) return false;
      const size_t read = static_cast<size_t>(direct.bytes_read);
      if (buffered_bytes.size() < read || direct_bytes.size() < read) return false;
      return std::equal(buffered_bytes.begin(), buffered_bytes.begin() + read,
                        direct_bytes.begin());
    }
    default:
      return std::equal(buffered_bytes.begin(), buffered_bytes.end(), direct_bytes.begin(),
                        direct_bytes.end());
  }
}

}  // namespace

std::optional<checker::FindingKind> ComparePaths(const block::Verdict& buffered,
                                                 std::span<const std::byte> buffered_bytes,
                                                 const block::Verdict& direct,
                                                 std::span<const std::byte> direct_bytes) {
  if (!buffered.is_finding() && !direct.is_finding()) return std::nullopt;
  if (buffered.kind == direct.kind &&
      SameCorruption(buffered, buffered_bytes, direct, direct_bytes)) {
    return checker::FromBlockKind(direct.kind);
  }
  return checker::FindingKind::kPageCacheMismatch;
}

}  // namespace fscanary::pagecache
