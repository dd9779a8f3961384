#pragma once
// Heap memory aligned for O_DIRECT transfers.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <span>

namespace fscanary::io {

inline constexpr size_t kDirectIoAlignment = 4096;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Zero-filled; `size` is rounded up to the alignment.
  explicit AlignedBuffer(size_t size);

  std::span<std::byte> span() { return {data_.get(), size_}; }
  std::span<const std::byte> span() const { return {data_.get(), size_}; }
  std::byte* data() { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t size_ = 0;
};

}  // namespace fscanary::io
