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

#define BOOST_CURL_SESSION_VERB(function, method)                                                         \
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>                   \
  auto session::function(std::string url, CompletionToken&& token) {                                    \
    return async_fetch(make_request(http::verb::method, std::move(url)), std::forward<CompletionToken>(token)); \
  }
BOOST_CURL_SESSION_VERB(async_get, get)
BOOST_CURL_SESSION_VERB(async_head, head)
BOOST_CURL_SESSION_VERB(async_delete, delete_)
BOOST_CURL_SESSION_VERB(async_options, options)
#undef BOOST_CURL_SESSION_VERB

#define BOOST_CURL_SESSION_VERB_WITH_BODY(function, method)                                             \
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>                 \
  auto session::function(std::string url, std::string body, CompletionToken&& token) {                \
    request req = make_request(http::verb::method, std::move(url));                                     \
    req.body = std::move(body);                                                                       \
    return async_fetch(std::move(req), std::forward<CompletionToken>(token));                         \
  }
BOOST_CURL_SESSION_VERB_WITH_BODY(async_post, post)
BOOST_CURL_SESSION_VERB_WITH_BODY(async_put, put)
BOOST_CURL_SESSION_VERB_WITH_BODY(async_patch, patch)
#undef BOOST_CURL_SESSION_VERB_WITH_BODY

}  // namespace boost_curl

#endif
