#pragma once
// Sets of host epochs as bitsets, with what the correlation engine asks of
// them: intersections, how many epochs and how much exposure they hold.
// Internal to the analysis; not thread-safe (scratch buffers are mutable).
//
// Every bitset carries a summary with one bit per 64-bit word that is not
// zero. Epochs are sorted by kernel release and other structural attributes
// (see FleetLayout), so most values occupy few words: an intersection only
// visits words that are non-zero in both summaries, and a word that is all
// ones is summed from a per-word total instead of bit by bit.

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace fscanary::analysis {

// Exposure per epoch in the unit being analysed, padded with zeros to whole words.
class EpochWeights {
 public:
  explicit EpochWeights(std::span<const double> exposure);

  size_t words() const { return word_exposure_.size(); }
  size_t summary_words() const { return (words() + 63) / 64; }
  double total() const { return total_; }
  double exposure(size_t epoch) const { return exposure_[epoch]; }

  // Exposure of the epochs whose bits are set in `bits`, word `word`.
  double WordExposure(uint64_t bits, size_t word) const {
    if (bits == ~uint64_t{0}) return word_exposure_[word];
    const double* base = exposure_.data() + word * 64;
    double sum = 0;
    if (std::popcount(bits) <= 32) {
      for (; bits != 0; bits &= bits - 1) sum += base[std::countr_zero(bits)];
      return sum;
    }
    for (uint64_t unset = ~bits; unset != 0; unset &= unset - 1) {
      sum += base[std::countr_zero(unset)];
    }
    return word_exposure_[word] - sum;
  }

 private:
  std::vector<double> exposure_;
  std::vector<double> word_exposure_;
  double total_ = 0;
};

struct SetSize {
  uint64_t epochs = 0;
  double exposure = 0;
  // Identifies the set (a hash of its words); filled by IntersectSize only.
  uint64_t hash = 0;
};

// Read-only view: `words` is valid wherever `summary` has a bit set.
struct BitsetView {
  const uint64_t* words = nullptr;
  const uint64_t* summary = nullptr;
};

// An owned bitset; words outside its summary may hold stale data.
class EpochBitset {
 public:
  EpochBitset() = default;
  explicit EpochBitset(const EpochWeights& weights)
      : words_(weights.words(), 0), summary_(weights.summary_words(), 0) {}

  BitsetView view() const { return {words_.data(), summary_.data()}; }
  std::vector<uint64_t>& mutable_words() { return words_; }
  // Recomputes the summary after words were written directly.
  void Summarize();
  void Set(uint32_t epoch) { words_[epoch / 64] |= uint64_t{1} << (epoch % 64); }

 private:
  friend SetSize Intersect(BitsetView a, BitsetView b, EpochBitset& out,
                           const EpochWeights& weights);
  std::vector<uint64_t> words_;
  std::vector<uint64_t> summary_;
};

// Builds the summary of a full-length word array (e.g. a fleet posting).
std::vector<uint64_t> Summarize(std::span<const uint64_t> words, size_t summary_words);

SetSize Measure(BitsetView set, const EpochWeights& weights);
// out = a & b.
SetSize Intersect(BitsetView a, BitsetView b, EpochBitset& out, const EpochWeights& weights);
// |a & b| without storing it, with a hash of the set: equal sets get equal
// hashes whichever items they were intersected from.
SetSize IntersectSize(BitsetView a, BitsetView b, const EpochWeights& weights);
uint64_t IntersectCount(BitsetView a, BitsetView b, size_t summary_words);

inline bool Contains(BitsetView set, uint32_t epoch) {
  const size_t word = epoch / 64;
  if (((set.summary[word / 64] >> (word % 64)) & 1) == 0) return false;
  return ((set.words[word] >> (epoch % 64)) & 1) != 0;
}

// Calls f(epoch) for each epoch in the set, ascending.
template <typename F>
void ForEachEpoch(BitsetView set, size_t summary_words, F&& f) {
  for (size_t s = 0; s < summary_words; ++s) {
    for (uint64_t nonzero = set.summary[s]; nonzero != 0; nonzero &= nonzero - 1) {
      const size_t word = s * 64 + std::countr_zero(nonzero);
      for (uint64_t bits = set.words[word]; bits != 0; bits &= bits - 1) {
        f(static_cast<uint32_t>(word * 64 + std::countr_zero(bits)));
      }
    }
  }
}

}  // namespace fscanary::analysis
