#include "collector/analysis/epoch_bitset.h"

#include <algorithm>

namespace fscanary::analysis {
namespace {

// A word of a set, at its place, mixed into 64 bits (splitmix64 finalizer).
uint64_t MixWord(uint64_t bits, size_t word) {
  uint64_t z = bits ^ (static_cast<uint64_t>(word) * 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

EpochWeights::EpochWeights(std::span<const double> exposure) {
  const size_t words = (exposure.size() + 63) / 64;
  exposure_.assign(words * 64, 0.0);
  std::copy(exposure.begin(), exposure.end(), exposure_.begin());
  word_exposure_.assign(words, 0.0);
  for (size_t w = 0; w < words; ++w) {
    double sum = 0;
    for (size_t i = 0; i < 64; ++i) sum += exposure_[w * 64 + i];
    word_exposure_[w] = sum;
    total_ += sum;
  }
}

std::vector<uint64_t> Summarize(std::span<const uint64_t> words, size_t summary_words) {
  std::vector<uint64_t> summary(summary_words, 0);
  for (size_t w = 0; w < words.size(); ++w) {
    if (words[w] != 0) summary[w / 64] |= uint64_t{1} << (w % 64);
  }
  return summary;
}

void EpochBitset::Summarize() { summary_ = analysis::Summarize(words_, summary_.size()); }

SetSize Measure(BitsetView set, const EpochWeights& weights) {
  SetSize size;
  const size_t summary_words = weights.summary_words();
  for (size_t s = 0; s < summary_words; ++s) {
    for (uint64_t nonzero = set.summary[s]; nonzero != 0; nonzero &= nonzero - 1) {
      const size_t word = s * 64 + std::countr_zero(nonzero);
      size.epochs += std::popcount(set.words[word]);
      size.exposure += weights.WordExposure(set.words[word], word);
    }
  }
  size.exposure = std::max(size.exposure, 0.0);
  return size;
}

SetSize Intersect(BitsetView a, BitsetView b, EpochBitset& out, const EpochWeights& weights) {
  SetSize size;
  const size_t summary_words = weights.summary_words();
  for (size_t s = 0; s < summary_words; ++s) {
    uint64_t summary = 0;
    for (uint64_t both = a.summary[s] & b.summary[s]; both != 0; both &= both - 1) {
      const int bit = std::countr_zero(both);
      const size_t word = s * 64 + bit;
      const uint64_t bits = a.words[word] & b.words[word];
      if (bits == 0) continue;
      out.words_[word] = bits;
      summary |= uint64_t{1} << bit;
      size.epochs += std::popcount(bits);
      size.exposure += weights.WordExposure(bits, word);
    }
    out.summary_[s] = summary;
  }
  size.exposure = std::max(size.exposure, 0.0);
  return size;
}

SetSize IntersectSize(BitsetView a, BitsetView b, const EpochWeights& weights) {
  SetSize size;
  const size_t summary_words = weights.summary_words();
  for (size_t s = 0; s < summary_words; ++s) {
    for (uint64_t both = a.summary[s] & b.summary[s]; both != 0; both &= both - 1) {
      const size_t word = s * 64 + std::countr_zero(both);
      const uint64_t bits = a.words[word] & b.words[word];
      if (bits == 0) continue;
      size.epochs += std::popcount(bits);
      size.exposure += weights.WordExposure(bits, word);
      size.hash ^= MixWord(bits, word);
    }
  }
  size.exposure = std::max(size.exposure, 0.0);
  return size;
}

uint64_t IntersectCount(BitsetView a, BitsetView b, size_t summary_words) {
  uint64_t count = 0;
  for (size_t s = 0; s < summary_words; ++s) {
    for (uint64_t both = a.summary[s] & b.summary[s]; both != 0; both &= both - 1) {
      const size_t word = s * 64 + std::countr_zero(both);
      count += std::popcount(a.words[word] & b.words[word]);
    }
  }
  return count;
}

}  // namespace fscanary::analysis
