#ifndef BOOST_CURL_SRC_DETAIL_COMPLETION_HPP
#define BOOST_CURL_SRC_DETAIL_COMPLETION_HPP

// A finished operation on its way to the user's handler, delivered after the driver's mutex is
// released. It is made when the operation starts (multi_driver::start, where running out of
// memory throws from the initiating call), so that finishing an operation never allocates;
// the completions of one batch are chained through `next`, so collecting them never allocates
// either. A completion that cannot be queued for lack of memory goes back to its driver, which
// delivers it at its next wake-up (multi_driver::keep_undelivered).

#include "transfer.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace boost_curl::detail {

struct completion {
  transfer::operation op;
  error_code ec;
  response resp;
  std::vector<request> hop_requests;  // with a response hook: each hop's request
  std::unique_ptr<completion> next;
};

// One batch of completions, in order.
class completion_list {
 public:
  completion_list() = default;
  completion_list(const completion_list&) = delete;
  completion_list& operator=(const completion_list&) = delete;
  ~completion_list() {
    while (pop()) {}  // iteratively: no recursion through `next`
  }

  bool empty() const noexcept { return !head_; }
  void push(std::unique_ptr<completion> c) noexcept {
    completion* raw = c.get();
    if (tail_)
      tail_->next = std::move(c);
    else
      head_ = std::move(c);
    tail_ = raw;
  }
  std::unique_ptr<completion> pop() noexcept {
    std::unique_ptr<completion> c = std::move(head_);
    if (c) {
      head_ = std::move(c->next);
      if (!head_) tail_ = nullptr;
    }
    return c;
  }
  void append(completion_list& other) noexcept {
    while (std::unique_ptr<completion> c = other.pop()) push(std::move(c));
  }
  template <class F>
  void for_each(F f) {
    for (completion* c = head_.get(); c; c = c->next.get()) f(*c);
  }

 private:
  std::unique_ptr<completion> head_;
  completion* tail_ = nullptr;
};

}  // namespace boost_curl::detail

#endif
