#ifndef BOOST_CURL_SRC_DETAIL_BYTE_RING_HPP
#define BOOST_CURL_SRC_DETAIL_BYTE_RING_HPP

// A FIFO of bytes in one circular buffer: what a stream holds between libcurl and its reader
// (or its writer and libcurl). Bytes are copied in once and out once, never moved in between
// (a string with erase-at-front moved what was left at each refill). Grows by doubling, keeping
// the order, up to what the caller allows; starts empty, so an idle stream holds nothing.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

namespace boost_curl::detail {

class byte_ring {
 public:
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  void clear() noexcept { head_ = size_ = 0; }

  // Appends n bytes, growing to at least size() + n (and at least `initial`). Throws
  // std::bad_alloc when it cannot grow; nothing is appended then.
  void append(const char* data, std::size_t n, std::size_t initial = 0) {
    if (n == 0) return;
    if (size_ + n > capacity_) grow(std::max({size_ + n, initial, 2 * capacity_}));
    const std::size_t tail = (head_ + size_) % capacity_;
    const std::size_t first = std::min(n, capacity_ - tail);
    std::memcpy(bytes_.get() + tail, data, first);
    if (n > first) std::memcpy(bytes_.get(), data + first, n - first);
    size_ += n;
  }

  // Room for n more bytes, grown as append() would: appends of n bytes in all then cannot
  // throw. Throws std::bad_alloc when it cannot grow.
  void reserve_more(std::size_t n, std::size_t initial = 0) {
    if (size_ + n > capacity_) grow(std::max({size_ + n, initial, 2 * capacity_}));
  }

  // Moves up to n bytes from the front into `out`; returns how many.
  std::size_t take(char* out, std::size_t n) noexcept {
    n = std::min(n, size_);
    if (n == 0) return 0;  // also when nothing was ever allocated
    const std::size_t first = std::min(n, capacity_ - head_);
    std::memcpy(out, bytes_.get() + head_, first);
    if (n > first) std::memcpy(out + first, bytes_.get(), n - first);
    head_ = (head_ + n) % capacity_;
    size_ -= n;
    if (size_ == 0) head_ = 0;
    return n;
  }

 private:
  void grow(std::size_t wanted) {
    std::unique_ptr<char[]> bigger(new char[wanted]);
    const std::size_t had = size_;
    take(bigger.get(), had);  // in order, from the front
    bytes_ = std::move(bigger);
    capacity_ = wanted;
    head_ = 0;
    size_ = had;
  }

  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_ = 0, head_ = 0, size_ = 0;
};

}  // namespace boost_curl::detail

#endif
