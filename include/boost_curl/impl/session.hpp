#ifndef BOOST_CURL_IMPL_SESSION_HPP
#define BOOST_CURL_IMPL_SESSION_HPP

#include <boost/assert.hpp>

#include <utility>

namespace boost_curl {

template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto async_fetch(session& s, request req, CompletionToken&& token) {
  BOOST_ASSERT_MSG(s.state(), "async_fetch on a moved-from session");
  return boost::asio::async_initiate<CompletionToken, detail::fetch_signature>(
      detail::fetch_initiation<session::executor_type>(s.get_executor(), s.state()), token, std::move(req));
}

template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto session::async_fetch(request req, CompletionToken&& token) {
  return boost_curl::async_fetch(*this, std::move(req), std::forward<CompletionToken>(token));
}

}  // namespace boost_curl

#endif
