#ifndef BOOST_CURL_SRC_DETAIL_RETHROW_LATER_HPP
#define BOOST_CURL_SRC_DETAIL_RETHROW_LATER_HPP

// Exceptions of user code the engine ran inline during one wake-up: completion handlers and
// progress callbacks dispatched through an executor that runs them at once and lets their
// exceptions out (a strand already running on this thread, a user's own executor). Caught
// where the user's code was called, so that the rest of the wake-up (the other completions,
// the starts they made) is not lost, and rethrown once the engine's work is done: from its
// handler, and so from run(), as the io_context's own executor does with a handler's
// exception. The first one, or asio::multiple_exceptions holding the first when there were
// more.

#include <boost/asio/multiple_exceptions.hpp>

#include <exception>
#include <utility>

namespace boost_curl::detail {

class rethrow_later {
 public:
  void capture() noexcept {
    if (!first_)
      first_ = std::current_exception();
    else if (!several_) {
      several_ = true;
      first_ = std::make_exception_ptr(boost::asio::multiple_exceptions(first_));
    }
  }
  void rethrow() {
    if (first_) std::rethrow_exception(std::exchange(first_, nullptr));
  }

 private:
  std::exception_ptr first_;
  bool several_ = false;
};

}  // namespace boost_curl::detail

#endif
