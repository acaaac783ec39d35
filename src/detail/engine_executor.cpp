#include "engine_executor.hpp"

#include <boost/asio/detail/scheduler.hpp>

namespace boost_curl::detail {

bool has_reactor(boost::asio::execution_context& ctx) noexcept {
  return boost::asio::has_service<boost::asio::detail::scheduler>(ctx);
}

}  // namespace boost_curl::detail
