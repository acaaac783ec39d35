#ifndef BOOST_CURL_DETAIL_EXECUTOR_OF_HPP
#define BOOST_CURL_DETAIL_EXECUTOR_OF_HPP

#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

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

template <class Context, class = void>
struct has_get_executor : std::false_type {};
template <class Context>
struct has_get_executor<Context, std::void_t<decltype(std::declval<Context&>().get_executor())>> : std::true_type {};

// The plain executor of `ex`'s execution context (io_context's, thread_pool's), for the
// service's own timer and descriptors: they must not run through a user's strand.
template <class Executor>
boost::asio::any_io_executor context_executor_of(const Executor& ex) {
  auto& ctx = boost::asio::query(ex, boost::asio::execution::context);
  using context_type = std::remove_reference_t<decltype(ctx)>;
  if constexpr (has_get_executor<context_type>::value)
    return ctx.get_executor();
  else
    return ex;
}

}  // namespace boost_curl::detail

#endif
