#include "user_exception.hpp"

#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>

namespace boost_curl::detail {

bool hand_to_run() noexcept {
  boost::asio::detail::thread_info_base* const run = boost::asio::detail::thread_context::top_of_thread_call_stack();
  if (!run) return false;
  run->capture_current_exception();
  return true;
}

}  // namespace boost_curl::detail
