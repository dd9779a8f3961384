#pragma once
// A small seedable random generator (xoshiro256**, seeded by splitmix64) with
// the distributions the fleet simulator needs. Written out rather than taken
// from <random>, whose distributions differ between standard libraries: the
// same seed gives the same fleet everywhere.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>

namespace fscanary::fleet_sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotate(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotate(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double probability) { return Uniform() < probability; }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }
  double Exponential(double rate) { return -std::log1p(-Uniform()) / rate; }
  double Normal() {
    const double u = 1 - Uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * Uniform());
  }
  uint64_t Poisson(double mean) {
    uint64_t count = 0;
    // Split large means so that exp(-mean) stays representable.
    while (mean > 30) {
      count += Poisson(30);
      mean -= 30;
    }
    const double limit = std::exp(-mean);
    double product = Uniform();
    while (product > limit) {
      ++count;
      product *= Uniform();
    }
    return count;
  }
  // Index drawn with probability proportional to `weights`.
  size_t Weighted(std::span<const double> weights) {
    double total = 0;
    for (const double w : weights) total += w;
    double pick = Uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (pick < weights[i]) return i;
      pick -= weights[i];
    }
    return weights.size() - 1;
  }

 private:
  static uint64_t Rotate(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace fscanary::fleet_sim
