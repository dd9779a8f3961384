#include "io/aligned_buffer.h"

#include <cstring>
#include <new>

namespace fscanary::io {

AlignedBuffer::AlignedBuffer(size_t size)
    : size_((size + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment) {
  void* memory = std::aligned_alloc(kDirectIoAlignment, size_ == 0 ? kDirectIoAlignment : size_);
  if (memory == nullptr) throw std::bad_alloc();  // out of memory is not a control-flow case
  std::memset(memory, 0, size_);
  data_.reset(static_cast<std::byte*>(memory));
}

}  // namespace fscanary::io
