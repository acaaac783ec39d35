#ifndef BOOST_CURL_REQUEST_HPP
#define BOOST_CURL_REQUEST_HPP

#include <boost_curl/authentication.hpp>
#include <boost_curl/config.hpp>
#include <boost_curl/multipart_form.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::json {
class value;  // <boost/json/value.hpp>: needed only where set_json is called
}

namespace boost_curl {

namespace http = boost::beast::http;

/// Which HTTP version to ask libcurl for.
enum class http_version {
  default_version,  ///< libcurl's default (7.88: HTTP/2 over TLS when the server offers it, else 1.1)
  http1_0,          ///< HTTP/1.0 only
  http1_1,          ///< HTTP/1.1 only
  http2,            ///< try HTTP/2 (Upgrade: h2c on cleartext, ALPN on TLS), fall back to 1.1
  http2_tls,        ///< HTTP/2 over TLS only (ALPN), HTTP/1.1 on cleartext
  http2_prior_knowledge,  ///< HTTP/2 without upgrade (h2c "prior knowledge" on cleartext)
};

/// One HTTP exchange to perform: a plain value type.
///
/// Defaults are the secure ones: TLS verification on, only http and https allowed, redirects
/// not followed (and at most `max_redirects` when they are), response bodies capped at
/// `max_body_size`. A timeout of zero means "none": set `timeout` for servers that may never
/// answer, or cancel the operation.
struct request {
  http::verb method = http::verb::get;
  std::string custom_method;  ///< non-empty: sent instead of `method` (e.g. "PURGE"); `method` still says whether a body goes
  std::string url;
  http::fields headers;  ///< sent as given; "Expect: 100-continue" is not added unless set here
  std::string body;      ///< sent when non-empty (or when method is POST/PUT/PATCH)
  std::optional<multipart_form> multipart;  ///< set_multipart(); sent instead of `body`

  // ---- credentials and cookies
  std::optional<authentication> auth;  ///< server credentials; none by default
  /// name=value pairs sent with this request, in the same single Cookie field as a Cookie field
  /// set in `headers` and (in a session) the jar's cookies for the URL. In a session they are
  /// also stored in its jar, for the URL's host. Names or values holding ';', ',', white space,
  /// CR or LF are refused (error::invalid_request).
  std::vector<std::pair<std::string, std::string>> cookies;
  /// 4xx and 5xx statuses complete with an error (category http_status, value the status,
  /// equal to condition::http_error_status); the response is still delivered.
  bool fail_on_error_status = false;

  // ---- limits and timeouts
  std::chrono::milliseconds timeout{0};          ///< whole exchange; 0 = no limit
  std::chrono::milliseconds connect_timeout{0};  ///< connection phase; 0 = libcurl's 300 s
  std::size_t max_body_size = std::size_t(256) << 20;  ///< 0 = unlimited; else error::body_too_large

  // ---- redirects
  bool follow_redirects = false;
  long max_redirects = 10;  ///< used when following; exceeding it gives condition::too_many_redirects

  // ---- TLS
  bool verify_peer = true;  ///< check the server's certificate chain
  bool verify_host = true;  ///< check the certificate's name matches the host
  std::string ca_file;      ///< PEM bundle to trust instead of the system's

  // ---- protocol
  http_version version = http_version::default_version;
  std::string protocols = "http,https";  ///< schemes allowed, also for redirects (curl syntax)
  bool decompress = false;               ///< send Accept-Encoding and decode gzip/deflate/br bodies
  std::string proxy;                     ///< proxy URL; empty = the environment's (http_proxy, ...: read once)
  std::string unix_socket_path;          ///< connect to this Unix socket instead of TCP

  request() = default;
  request(http::verb m, std::string u) : method(m), url(std::move(u)) {}
  explicit request(std::string u) : url(std::move(u)) {}

  /// body = v serialized (Boost.JSON); Content-Type: application/json unless one is set.
  /// The method is kept.
  BOOST_CURL_DECL void set_json(const boost::json::value& v);
  /// body = the fields, application/x-www-form-urlencoded (every byte but A-Z a-z 0-9 - . _ ~
  /// percent-encoded); Content-Type set unless one is.
  BOOST_CURL_DECL void set_form(std::vector<std::pair<std::string, std::string>> fields);
  /// A multipart/form-data body (see multipart_form); replaces `body`.
  BOOST_CURL_DECL void set_multipart(multipart_form form);
  /// Appends name=value to the URL's query ('?' or '&'), before any #fragment, both
  /// percent-encoded (Boost.URL; '+' as %2B, space as %20).
  BOOST_CURL_DECL request& add_query(std::string_view name, std::string_view value);
};

}  // namespace boost_curl

#endif
