#pragma once
// Compares what the two read paths showed of one block: the buffered read
// (through the page cache) and the O_DIRECT read (from the device). Decides
// what the page-cache checker reports. Pure: bytes and verdicts in, a kind
// out; tested with hand-built blocks. Thread-safe.

#include <cstddef>
#include <optional>
#include <span>

#include "checkers/block/classify/verdict.h"
#include "checkers/checker/finding.h"

namespace fscanary::pagecache {

// Each verdict is block::Classify (or ClassifyFailedRead) of its read against
// the same expectation; each span holds the block as that read returned it
// (its whole buffer; for a short read only the first bytes_read count).
// Returns:
//  - nullopt when both reads are right;
//  - the block kind (checker::FromBlockKind) when both show the same
//    corruption: the same kind and the same bytes (for I/O errors, both
//    failed; for short reads, the same bytes read);
//  - kPageCacheMismatch when they differ: one right and the other not,
//    different kinds, or the same kind over different bytes (the cache and
//    the device hold two different corruptions).
// Bytes are compared only in the last case, so a caller may pass empty spans
// where one of the verdicts is right.
std::optional<checker::FindingKind> ComparePaths(const block::Verdict& buffered,
                                                 std::span<const std::byte> buffered_bytes,
                                                 const block::Verdict& direct,
                                                 std::span<const std::byte> direct_bytes);

}  // namespace fscanary::pagecache
