#ifndef BOOST_CURL_TOOLS_LOOPBACK_ORIGIN_HPP
#define BOOST_CURL_TOOLS_LOOPBACK_ORIGIN_HPP

// An in-process HTTP/1.1 origin server for tests and for `bcurl` without a URL.
//
// Routes (any query string is ignored unless stated; unknown paths answer 404 "not found",
// malformed numbers 400). Generated bodies follow one pattern: byte i is
// "0123456789abcdef"[i % 16].
//   /bytes/N            200, Content-Length N, N pattern bytes (N <= 1 GiB, streamed);
//                       with "Range: bytes=K-": 206 from byte K (416 when K >= N)
//   /events/N/MS        200 text/event-stream, chunked: N events "data: event K\n\n" (K from
//                       0), MS ms apart
//   /chunked/N          200, chunked, N pattern bytes in 1000-byte chunks (N <= 1 GiB)
//   /status/CODE        CODE (200..999), body "status CODE" (empty for 204 and 304)
//   /delay/MS           200 "delayed" after MS milliseconds
//   /hang               reads the request, never answers
//   /close-mid-body     Content-Length 100000, sends 1000 bytes, closes
//   /slow-body/N/MS     200, Content-Length N*1000, N pieces of 1000 bytes MS ms apart
//   /redirect/N         302 to /redirect/(N-1); /redirect/0 answers 200 "done"
//   /redirect-loop      302 to itself
//   /redirect-to?url=U[&status=CODE]  302 (or CODE, 300..399) to the percent-decoded U
//   /echo               200 text/plain: "METHOD TARGET", one "Name: value" line per request
//                       header, an empty line, then the request body (bodies up to 64 MiB)
//   /echo-body          200 with the request body as the body, and its Content-Type
//   /headers            200 "headers" with X-Multi twice, Set-Cookie twice, an empty X-Empty
//   /huge               200, chunked, 64 KiB chunks until the client leaves (stops at 4 GiB)
//   /gzip-bomb/MIB      200, chunked, Content-Encoding: gzip, about 1 KiB per MiB that
//                       inflates to MIB MiB of zeros (MIB <= 1 Mi: up to 1 TiB)
//   /lie-length         Content-Length 100, sends 10 bytes, then idles
//   /close-immediately  reads the request, closes without answering
//   /cookie/set?A=B     200 with Set-Cookie: A=B
//   /cookie/get         200, body is the request's Cookie header (or empty)
//   /no-body/CODE/N     CODE (204 or 304) announcing Content-Length N, with no body
//   /hash               200 "size=N sha256=HEX" of the request body (any size, never stored)
//   /multipart          200, one line per part of a multipart/form-data body: "name=N
//                       filename=F type=T size=S sha256=H" ("-" when absent), then "complete"
//                       (or "incomplete"); parts are hashed as they arrive, never stored
//   /auth/basic/U/P, /auth/digest/U/P, /auth/any/U/P, /auth/bearer/TOKEN
//                       200 "authenticated SCHEME" with those credentials, else 401 with a
//                       challenge (Digest: MD5, qop=auth; any: Digest and Basic offered)
// HEAD gets the same headers without a body. Request bodies are read (and discarded except
// for /echo) before answering; "Expect: 100-continue" is honoured. Persistent connections and
// "Connection: close" both work; with options::idle_timeout a persistent connection idle that
// long between requests is closed, as real servers do.
//
// With options::tls the same routes are served over HTTPS (TLS 1.2+, HTTP/1.1, no ALPN). The
// certificate is made fresh at start: a self-signed EC P-256 CA certificate for CN=localhost
// with subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 (or only "wrong.example" with
// tls_wrong_name), valid from an hour ago for one day. Clients trust it through ca_file().

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace boost_curl::tools {

// Generated bodies repeat these 16 bytes: byte i is body_pattern[i % 16].
inline constexpr std::string_view body_pattern = "0123456789abcdef";

namespace detail {
class origin_server;
}

class loopback_origin {
public:
  struct options {
    std::string address = "127.0.0.1"; // IPv4 or IPv6 literal, e.g. "::1"
    unsigned short port = 0;           // 0 picks a free port
    unsigned threads = 1;              // threads running the server's own io_context (0 means 1)
    bool tls = false;                  // serve HTTPS
    bool tls_wrong_name = false;       // with tls: certificate names "wrong.example" only
    std::chrono::milliseconds idle_timeout{0}; // close connections idle this long (0: never)
  };

  // Listens before returning; throws boost::system::system_error if it cannot (or, with tls,
  // if making the certificate or writing ca_file() fails).
  loopback_origin();
  explicit loopback_origin(options opts);
  // Calls stop(); returns promptly even while clients hang on to connections.
  ~loopback_origin();

  loopback_origin(const loopback_origin&) = delete;
  loopback_origin& operator=(const loopback_origin&) = delete;

  unsigned short port() const noexcept;
  std::string base_url() const;                  // "http://127.0.0.1:PORT", "http://[::1]:PORT"
                                                 // ("https://..." with tls)
  std::string url(std::string_view path) const;  // base_url() + path
  bool tls() const noexcept;
  // With tls: a PEM file holding the certificate (for CURLOPT_CAINFO), removed by the
  // destructor. Empty without tls.
  std::string ca_file() const;

  std::size_t connections_accepted() const noexcept; // TCP connections accepted so far
  std::size_t requests_served() const noexcept;      // requests whose headers were read
  std::size_t open_connections() const noexcept;     // connections not yet closed
  std::size_t max_open_connections() const noexcept; // the most open at once so far
  std::uint64_t body_bytes_sent() const noexcept;     // response body bytes written so far

  // Closes the acceptor and every open connection, then joins the server threads.
  // Idempotent; must not be called from a handler running on the server's threads.
  void stop();

private:
  std::unique_ptr<detail::origin_server> impl_;
};

} // namespace boost_curl::tools

#endif
