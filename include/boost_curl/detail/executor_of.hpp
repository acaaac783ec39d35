#ifndef BOOST_CURL_DETAIL_EXECUTOR_OF_HPP
#define BOOST_CURL_DETAIL_EXECUTOR_OF_HPP

#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <type_traits>

namespace boost_curl::detail {

// async_fetch accepts an executor or an execution context (io_context&, thread_pool&):
// this maps either to the I/O executor the operation runs on.
template <class T, class = void>
struct executor_of {};

template <class T>
struct executor_of<T, std::enable_if_t<boost::asio::execution::is_executor<std::decay_t<T>>::value>> {
  using type = std::decay_t<T>;
  static type get(const type& ex) noexcept { return ex; }
};

template <class T>
struct executor_of<T, std::enable_if_t<std::is_convertible_v<std::remove_reference_t<T>&, boost::asio::execution_context&>>> {
  using type = typename std::remove_reference_t<T>::executor_type;
  static type get(std::remove_reference_t<T>& ctx) noexcept { return ctx.get_executor(); }
};

template <class T>
using executor_of_t = typename executor_of<T>::type;

}  // namespace boost_curl::detail

#endif
