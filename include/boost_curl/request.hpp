#ifndef BOOST_CURL_REQUEST_HPP
#define BOOST_CURL_REQUEST_HPP

#include <boost_curl/config.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <string>

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
  std::string url;
  http::fields headers;  ///< sent as given; "Expect: 100-continue" is not added unless set here
  std::string body;      ///< sent when non-empty (or when method is POST/PUT/PATCH)

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
};

}  // namespace boost_curl

#endif
