#ifndef BOOST_CURL_SRC_DETAIL_TRANSFER_POOL_HPP
#define BOOST_CURL_SRC_DETAIL_TRANSFER_POOL_HPP

// Idle transfers kept for reuse: an easy handle and its buffers serve many requests. Last in,
// first out (the most recently used handle is the warmest in cache); beyond `capacity` a
// returned transfer is freed. Not synchronised: each owner (a multi_driver, a session) guards
// its own.

#include "transfer.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace boost_curl::detail {

class transfer_pool {
 public:
  explicit transfer_pool(std::size_t capacity) noexcept : capacity_(capacity) {}

  // An idle transfer, or null when there is none.
  std::unique_ptr<transfer> take() noexcept {
    if (idle_.empty()) return nullptr;
    std::unique_ptr<transfer> t = std::move(idle_.back());
    idle_.pop_back();
    return t;
  }

  void give(std::unique_ptr<transfer> t) {
    if (idle_.size() < capacity_) idle_.push_back(std::move(t));
  }

  void clear() noexcept { idle_.clear(); }

 private:
  std::size_t capacity_;
  std::vector<std::unique_ptr<transfer>> idle_;
};

}  // namespace boost_curl::detail

#endif
