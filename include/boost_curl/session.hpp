#ifndef BOOST_CURL_SESSION_HPP
#define BOOST_CURL_SESSION_HPP

#include <boost_curl/async_fetch.hpp>
#include <boost_curl/config.hpp>
#include <boost_curl/cookie.hpp>
#include <boost_curl/detail/default_token.hpp>
#include <boost_curl/detail/initiate_fetch.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace boost_curl {

/// What a session shares between its requests.
struct session_options {
  /// Keep cookies: Set-Cookie answers go into the session's jar, matching cookies are sent
  /// with later requests (libcurl's cookie engine; domain, path, expiry and `secure` rules apply).
  bool cookies = true;
  /// Share resolved host names between the session's requests across multi handles. Off by
  /// default: each multi handle already caches names for all its requests, and libcurl 7.88
  /// releases a multiplexed (HTTP/2) connection's DNS entry through whichever transfer finishes
  /// last, under that transfer's share lock; when such connections are also used by other
  /// sessions and the context runs on several threads, that touches this cache without its lock.
  /// Safe on one thread, or when the session's connections are not shared over HTTP/2.
  bool share_dns_cache = false;
  /// Share TLS session tickets, so new connections to a server resume instead of a full handshake.
  bool share_tls_sessions = true;
};

/** A series of related requests: a cookie jar, a shared TLS session cache (DNS if asked), and
    default settings, like a browser tab or a load-test's virtual user.

    Requests of a session run on the same curl_service (and the same connection pools) as
    every other request of its execution context; libcurl reuses a connection only for a
    request whose TLS and authentication settings match. What a session keeps to itself is
    its state: its cookies are never sent with another session's requests or with requests
    of no session (those have no cookie engine at all).

    Defaults: `defaults()` is a request template. make_request() copies it; async_fetch adds
    its header fields to every request that does not set a field of that name itself.

    Lifetime: a session is a handle. Operations in flight keep what they need alive:
    destroying (or moving from) the session does not cancel them, and its cookie jar and
    caches are freed when the last one completes.

    Thread safety: async_fetch, cookies(), add_cookie() and clear_cookies() may be called from
    any thread at once; defaults() must not be changed while another thread starts a fetch.
    A moved-from session may only be assigned to or destroyed.
*/
class BOOST_CURL_DECL session {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// A session whose operations run on `ex`'s execution context (handlers default to `ex`).
  /// Throws boost::system::system_error if libcurl cannot set up the shared state.
  explicit session(const executor_type& ex, const session_options& options = {});

  /// A session on an execution context (io_context&, thread_pool&).
  template <class ExecutionContext,
            std::enable_if_t<std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>, int> = 0>
  explicit session(ExecutionContext& ctx, const session_options& options = {})
      : session(executor_type(ctx.get_executor()), options) {}

  session(session&&) noexcept;
  session& operator=(session&&) noexcept;
  ~session();

  executor_type get_executor() const noexcept { return executor_; }
  const session_options& options() const noexcept;

  /// The request template: its header fields are added to every request of this session
  /// that lacks them; make_request() copies all of it.
  request& defaults() noexcept;
  const request& defaults() const noexcept;

  /// A copy of defaults() for `method` and `url`.
  request make_request(http::verb method, std::string url) const;

  /// The cookie jar as values (cookies that have expired are never listed).
  std::vector<cookie> cookies() const;

  /// Adds a cookie, given either as a Netscape cookie-file line (7 tab-separated fields) or as
  /// a header line "Set-Cookie: name=value; domain=example.com; path=/" (with its domain).
  /// error::invalid_request for anything else (libcurl would drop it silently, or read
  /// "ALL", "SESS", "FLUSH", "RELOAD" as commands), for CR/LF, or with cookies turned off.
  error_code add_cookie(std::string_view line);
  /// Adds a cookie given as values. error::invalid_request for an empty name or domain, a name
  /// or value holding ';', ',', white space, CR or LF, or with cookies turned off.
  error_code add_cookie(const cookie& c);

  /// Empties the cookie jar.
  void clear_cookies();

  /** Sets (or, with an empty function, removes) the response hook: it sees every response of
      every operation of this session started afterwards — the hops of a followed redirect
      chain first, oldest first, then the final response — each with the request that
      produced it (a hop's request carries that hop's URL and method). It runs on the
      operation's completion executor right before the handler (a strand protects it as it
      protects the handler), also when the operation then fails; not for an operation that
      failed before anything was sent. It must not block; an exception it throws propagates
      from the context's run() after the handler has run. */
  void on_response(std::function<void(const request&, const response&)> hook);

  /// async_fetch(*this, req, token).
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_fetch(request req, CompletionToken&& token = CompletionToken{});

  /// Convenience verbs: async_fetch of make_request(verb, url) (so every default applies),
  /// with `body` as the body for POST, PUT and PATCH.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_get(std::string url, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_head(std::string url, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_delete(std::string url, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_options(std::string url, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_post(std::string url, std::string body, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_put(std::string url, std::string body, CompletionToken&& token = CompletionToken{});
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_patch(std::string url, std::string body, CompletionToken&& token = CompletionToken{});

  /// The shared state, for the library's own use.
  const std::shared_ptr<detail::session_state>& state() const noexcept { return state_; }

 private:
  executor_type executor_;
  std::shared_ptr<detail::session_state> state_;
};

/** Perform one HTTP exchange as part of session `s` (see async_fetch(ex_or_ctx, ...) for
    everything else: completion, cancellation, errors). The handler's default executor is
    the session's. `s` need not outlive the operation.
*/
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<session::executor_type>>
auto async_fetch(session& s, request req, CompletionToken&& token = CompletionToken{});

}  // namespace boost_curl

#include <boost_curl/impl/session.hpp>

#endif
