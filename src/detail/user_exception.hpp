#ifndef BOOST_CURL_SRC_DETAIL_USER_EXCEPTION_HPP
#define BOOST_CURL_SRC_DETAIL_USER_EXCEPTION_HPP

// What the engine does with an exception of user code it ran inline during a wake-up: a
// completion handler, the response hook or a progress callback dispatched through an executor
// that runs it at once, a stream's handler. The io_context's own executor catches such an
// exception and keeps it in the run() of the thread, which rethrows it once the handler running
// there returns (merged with any other it keeps: asio::multiple_exceptions). Other executors (a
// strand already running on this thread, a user's own) let it out of dispatch, where the engine
// must not lose it nor, because of it, the rest of the wake-up. So the engine catches it where
// it called the user's code and hands it to that same run().

#include <boost/asio/multiple_exceptions.hpp>

#include <exception>
#include <utility>

namespace boost_curl::detail {

// The exception being handled, given to the innermost run() (or poll(), run_one()...) of Asio's
// scheduler on this thread, as the io_context's executor gives it (Asio 1.81's
// detail::thread_context); else to the collector of the wake-up being delivered on this thread
// (rethrow_later::collecting). False when neither is there: the caller lets it propagate.
// It could find none in a shared library whose compiler keeps Asio's per-thread call stack
// private to it under hidden visibility (g++ makes it a unique symbol, shared with the program).
bool keep_user_exception() noexcept;

// The exceptions of one wake-up's delivery, when they cannot go to run(): rethrown from the
// engine's handler once the delivery is done.
class rethrow_later {
 public:
  // For its lifetime, this thread's collector (nested deliveries restore the outer one).
  class collecting {
   public:
    explicit collecting(rethrow_later& r) noexcept : saved_(current_) { current_ = &r; }
    ~collecting() { current_ = saved_; }
    collecting(const collecting&) = delete;
    collecting& operator=(const collecting&) = delete;

   private:
    rethrow_later* saved_;
  };
  static rethrow_later* current() noexcept { return current_; }

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
  static thread_local rethrow_later* current_;
};

}  // namespace boost_curl::detail

#endif
