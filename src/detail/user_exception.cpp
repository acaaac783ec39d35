#include "user_exception.hpp"

#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>

namespace boost_curl::detail {

thread_local rethrow_later* rethrow_later::current_ = nullptr;

bool keep_user_exception() noexcept {
  if (boost::asio::detail::thread_info_base* const run = boost::asio::detail::thread_context::top_of_thread_call_stack()) {
    run->capture_current_exception();
    return true;
  }
  if (rethrow_later* const wake_up = rethrow_later::current()) {
    wake_up->capture();
    return true;
  }
  return false;
}

}  // namespace boost_curl::detail
