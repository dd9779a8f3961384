#pragma once
// Little-endian loads and stores: the on-disk byte order of every fscanary format.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fscanary {

template <typename T>
T LoadLe(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 8) value = __builtin_bswap64(value);
    if constexpr (sizeof(T) == 4) value = __builtin_bswap32(value);
    if constexpr (sizeof(T) == 2) value = __builtin_bswap16(value);
  }
  return value;
}

template <typename T>
void StoreLe(std::byte* p, T value) {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 8) value = __builtin_bswap64(value);
    if constexpr (sizeof(T) == 4) value = __builtin_bswap32(value);
    if constexpr (sizeof(T) == 2) value = __builtin_bswap16(value);
  }
  std::memcpy(p, &value, sizeof(T));
}

}  // namespace fscanary
