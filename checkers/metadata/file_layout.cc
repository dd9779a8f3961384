#include "checkers/metadata/file_layout.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdlib>

namespace fscanary::metadata {
namespace {

constexpr size_t kHashChunk = 64 * 1024;

uint64_t Mix(uint64_t x) {
  // splitmix64's finaliser: every input bit reaches every output bit.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t PatternWord(uint64_t pattern, uint64_t word_index) {
  return Mix(pattern + (word_index + 1) * 0x9e3779b97f4a7c15ull);
}

// Fills `out` with the pattern's bytes starting at absolute offset `from`.
void FillPattern(uint64_t pattern, uint64_t from, std::span<std::byte> out) {
  uint64_t position = from;
  size_t at = 0;
  while (at < out.size()) {
    const uint64_t word = PatternWord(pattern, position / 8);
    for (unsigned lane = position % 8; lane < 8 && at < out.size(); ++lane, ++at, ++position) {
      out[at] = static_cast<std::byte>(word >> (8 * lane));
    }
  }
}

// Drops [start, end) from the extents, splitting those that straddle it.
void RemoveRange(std::vector<Extent>& extents, uint64_t start, uint64_t end) {
  std::vector<Extent> kept;
  kept.reserve(extents.size() + 1);
  for (const Extent& extent : extents) {
    const uint64_t extent_end = extent.offset + extent.length;
    if (extent_end <= start || extent.offset >= end) {
      kept.push_back(extent);
      continue;
    }
    if (extent.offset < start) {
      kept.push_back(
          {.offset = extent.offset, .length = start - extent.offset, .pattern = extent.pattern});
    }
    if (extent_end > end) {
      kept.push_back({.offset = end, .length = extent_end - end, .pattern = extent.pattern});
    }
  }
  extents = std::move(kept);
}

}  // namespace

void FileLayout::Write(uint64_t offset, uint64_t length, uint64_t pattern) {
  if (length == 0) return;
  RemoveRange(extents, offset, offset + length);
  extents.push_back({.offset = offset, .length = length, .pattern = pattern});
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.offset < b.offset; });
  size = std::max(size, offset + length);
}

void FileLayout::Truncate(uint64_t new_size) {
  if (new_size < size) RemoveRange(extents, new_size, size);
  size = new_size;
}

void FileLayout::Punch(uint64_t offset, uint64_t length) {
  const uint64_t end = std::min(size, offset + length);
  if (offset < end) RemoveRange(extents, offset, end);
}

bool FileLayout::Valid() const {
  uint64_t previous_end = 0;
  for (const Extent& extent : extents) {
    if (extent.length == 0 || extent.offset < previous_end) return false;
    if (extent.offset + extent.length < extent.offset) return false;
    previous_end = extent.offset + extent.length;
  }
  return previous_end <= size;
}

std::byte PatternByte(uint64_t pattern, uint64_t position) {
  return static_cast<std::byte>(PatternWord(pattern, position / 8) >> (8 * (position % 8)));
}

void FillContent(const FileLayout& layout, uint64_t offset, std::span<std::byte> out) {
  std::fill(out.begin(), out.end(), std::byte{0});
  const uint64_t end = offset + out.size();
  for (const Extent& extent : layout.extents) {
    const uint64_t from = std::max(offset, extent.offset);
    const uint64_t to = std::min(end, extent.offset + extent.length);
    if (from >= to) continue;
    FillPattern(extent.pattern, from, out.subspan(from - offset, to - from));
  }
}

uint64_t ContentHash(const FileLayout& layout) {
  StreamingHash hash;
  std::vector<std::byte> chunk(kHashChunk);
  for (uint64_t offset = 0; offset < layout.size; offset += kHashChunk) {
    const auto length = static_cast<size_t>(std::min<uint64_t>(kHashChunk, layout.size - offset));
    const std::span<std::byte> piece = std::span(chunk).first(length);
    FillContent(layout, offset, piece);
    hash.Update(piece);
  }
  return hash.Digest();
}

uint64_t PatternFor(uint64_t seed, uint64_t node, uint64_t seq) {
  return Mix(Mix(seed ^ 0x6d657461ull) ^ Mix(node * 0x9e3779b97f4a7c15ull + seq));
}

StreamingHash::StreamingHash() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // Out of memory: nothing sensible to return.
  XXH3_64bits_reset(state_);
}

StreamingHash::~StreamingHash() { XXH3_freeState(state_); }

void StreamingHash::Update(std::span<const std::byte> bytes) {
  XXH3_64bits_update(state_, bytes.data(), bytes.size());
}

uint64_t StreamingHash::Digest() const { return XXH3_64bits_digest(state_); }

}  // namespace fscanary::metadata
