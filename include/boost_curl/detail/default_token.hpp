#ifndef BOOST_CURL_DETAIL_DEFAULT_TOKEN_HPP
#define BOOST_CURL_DETAIL_DEFAULT_TOKEN_HPP

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <type_traits>

namespace boost_curl::detail {

// Boost 1.81 has no default completion token for plain executors (the trait yields void);
// fall back to `deferred`, as Asio itself does from 1.86 on. Executors rebound with
// `use_awaitable.as_default_on(...)` keep their own default.
template <class Executor>
using default_token_t =
    std::conditional_t<std::is_void_v<boost::asio::default_completion_token_t<Executor>>, boost::asio::deferred_t,
                       boost::asio::default_completion_token_t<Executor>>;

}  // namespace boost_curl::detail

#endif
