#ifndef BOOST_CURL_REQUEST_HPP
#define BOOST_CURL_REQUEST_HPP

#include <boost_curl/authentication.hpp>
#include <boost_curl/config.hpp>
#include <boost_curl/multipart_form.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
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

/// Oldest TLS version to accept.
enum class tls_version {
  default_version,  ///< libcurl's and the TLS library's default (TLS 1.2 here)
  tls1_2,
  tls1_3,
};

/// Which IP versions a host name may resolve to.
enum class ip_version { any, v4, v6 };

/// A libcurl option set by number (request::set_curl_option): the escape hatch.
struct curl_option {
  int option;  ///< a CURLoption value (include <curl/curl.h> for the names)
  std::variant<long long, std::string> value;  ///< an integer for long and curl_off_t options
};

/// How far a transfer is, for request::on_progress. Totals are 0 while unknown.
struct transfer_progress {
  std::uint64_t downloaded = 0, download_total = 0;
  std::uint64_t uploaded = 0, upload_total = 0;
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
  std::filesystem::path body_file;  ///< set_body_file(); sent instead of `body`, read while sending
  /// The body is written on the stream sending the request (stream::async_write_some, then
  /// stream::finish_body()), its length unknown: sent with chunked transfer encoding on
  /// HTTP/1.1. Only for stream::async_open (async_fetch refuses it: error::invalid_request).
  /// The method is POST unless `method` or `custom_method` says otherwise.
  bool streamed_body = false;
  /** Called as the transfer goes: on the operation's completion executor (the handler's),
      never under the engine's lock, at most about ten times a second, and once more with the
      final figures just before the handler runs; never after it. Cancelling the operation
      from inside it works. Copies of the request share the callback. */
  std::function<void(const transfer_progress&)> on_progress;

  // ---- credentials and cookies
  std::optional<authentication> auth;  ///< server credentials; none by default
  /// name=value pairs sent with this request, in the same single Cookie field as a Cookie field
  /// set in `headers` and (in a session) the jar's cookies for the URL. In a session they are
  /// also stored in its jar, for the URL's host (`secure` when the URL is https, so never sent
  /// over cleartext). Names or values holding ';', ',', white space, CR or LF are refused
  /// (error::invalid_request).
  std::vector<std::pair<std::string, std::string>> cookies;
  /// 4xx and 5xx statuses complete with an error (category http_status, value the status,
  /// equal to condition::http_error_status); the response is still delivered.
  bool fail_on_error_status = false;

  // ---- limits and timeouts
  std::chrono::milliseconds timeout{0};          ///< whole exchange; 0 = no limit
  std::chrono::milliseconds connect_timeout{0};  ///< connection phase; 0 = libcurl's 300 s
  std::size_t max_body_size = std::size_t(256) << 20;  ///< 0 = unlimited; else error::body_too_large
  /// libcurl's receive buffer (CURLOPT_BUFFERSIZE): the most one read from the socket takes,
  /// allocated by libcurl for each transfer while it runs. 0 (automatic): 63 KiB while the
  /// context has fewer than 64 transfers in flight, libcurl's 16 KiB beyond (at most ~3 MiB
  /// more per context). 63 KiB reads a large body with a quarter of the `recv` calls (and
  /// polls, and write callbacks) of 16 KiB; it stays under 64 KiB because glibc consolidates
  /// and may trim its heap at every free of 64 KiB or more, which libcurl would then do at
  /// each transfer's end. Other values: that size (libcurl keeps it within 1 KiB .. 10 MiB).
  /// A stream with `decompress` always uses 1 KiB (stream.hpp); with `max_recv_speed` set, at
  /// most 16 KiB (libcurl's limiter holds the rate closer so).
  std::size_t receive_buffer_size = 0;

  // ---- redirects
  bool follow_redirects = false;
  long max_redirects = 10;  ///< used when following; exceeding it gives condition::too_many_redirects

  // ---- TLS
  bool verify_peer = true;  ///< check the server's certificate chain
  bool verify_host = true;  ///< check the certificate's name matches the host
  std::string ca_file;      ///< PEM bundle to trust instead of the system's
  std::string ca_path;      ///< directory of CA certificates named by hash (c_rehash), instead of the system's
  std::string ca_pem;       ///< PEM bundle to trust, in memory (instead of ca_file)
  std::string client_cert;      ///< client certificate, PEM file
  std::string client_key;       ///< its private key, PEM file (default: in client_cert)
  std::string client_cert_pem;  ///< client certificate, PEM in memory (instead of client_cert)
  std::string client_key_pem;   ///< its private key, PEM in memory (instead of client_key)
  std::string key_password;     ///< pass phrase of the private key
  /// The server's public key must be one of these: "sha256//<base64>;sha256//<base64>", or a
  /// PEM/DER public key file (libcurl's CURLOPT_PINNEDPUBLICKEY). Empty: no pinning.
  std::string pinned_public_key;
  tls_version min_tls_version = tls_version::default_version;

  // ---- network
  /// "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" entries (curl --connect-to): requests for
  /// HOST:PORT connect there instead; the URL (Host field, TLS name) is unchanged.
  std::vector<std::string> connect_to;
  /// "HOST:PORT:ADDRESS" entries (curl --resolve style): requests for HOST:PORT connect to
  /// ADDRESS (the first, when a comma-separated list is given), for this request only.
  std::vector<std::string> resolve;
  std::string local_address;  ///< interface name or local address to connect from ("if!eth0", "host!127.0.0.2", "127.0.0.2")
  ip_version ip_resolve = ip_version::any;  ///< IP versions a host name may resolve to
  std::chrono::seconds tcp_keepalive{0};    ///< TCP keep-alive probes after this idle time (and as often); 0 = off
  std::size_t low_speed_limit = 0;          ///< abort (condition::timeout) when below this many bytes/s...
  std::chrono::seconds low_speed_time{0};   ///< ...for this long; 0 = never
  std::uint64_t max_send_speed = 0;         ///< upload rate limit, bytes/s; 0 = none
  std::uint64_t max_recv_speed = 0;         ///< download rate limit, bytes/s; 0 = none

  /// Options set on the easy handle after every other one (see set_curl_option).
  std::vector<curl_option> curl_options;

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
  /// The body is `file`, read while sending (never loaded whole), with its size as
  /// Content-Length; replaces `body`. The method is kept (POST if it was GET). A file that
  /// cannot be opened fails the operation before anything is sent (its errno as the error).
  BOOST_CURL_DECL void set_body_file(std::filesystem::path file);
  /// Appends name=value to the URL's query ('?' or '&'), before any #fragment, both
  /// percent-encoded (Boost.URL; '+' as %2B, space as %20).
  BOOST_CURL_DECL request& add_query(std::string_view name, std::string_view value);

  /** The escape hatch: any libcurl option this request type does not name, set on the easy
      handle after every other option (include <curl/curl.h> for CURLOPT_* names). The value's
      type must fit the option's: an integer for long and curl_off_t options, a string for
      string options; others (lists, pointers, callbacks, blobs) and the options the
      engine itself owns (callbacks, private data, share, redirects, error buffer...) are
      refused with error::invalid_request. A pooled easy handle that had any is reset before
      another request uses it. */
  request& set_curl_option(int option, long long value) {
    curl_options.push_back({option, value});
    return *this;
  }
  request& set_curl_option(int option, std::string value) {
    curl_options.push_back({option, std::move(value)});
    return *this;
  }
};

}  // namespace boost_curl

#endif
