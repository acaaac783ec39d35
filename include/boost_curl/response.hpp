#ifndef BOOST_CURL_RESPONSE_HPP
#define BOOST_CURL_RESPONSE_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/response_headers.hpp>

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace boost::json {
class value;  // <boost/json/value.hpp>: needed where json() is called
}

namespace boost_curl {

namespace http = boost::beast::http;

/// Where the time of one exchange went, each measured from the start of the transfer
/// (libcurl's CURLINFO_*_TIME_T). Zero when a phase did not happen (no TLS, reused connection).
struct timings {
  std::chrono::microseconds name_lookup{0};   ///< DNS resolution done
  std::chrono::microseconds connect{0};       ///< TCP connected
  std::chrono::microseconds tls_handshake{0}; ///< TLS (or other app-level) handshake done
  std::chrono::microseconds pretransfer{0};   ///< about to send the request
  std::chrono::microseconds first_byte{0};    ///< first response byte received
  std::chrono::microseconds total{0};         ///< whole exchange, redirects included
  std::chrono::microseconds redirect{0};      ///< time spent on redirects before the final one
};

/// The outcome of async_fetch. On error it still carries what was received so far, and
/// `error_message`, libcurl's own explanation of the failure.
struct response {
  http::status status = http::status::unknown;  ///< final response's status (any 3-digit code)
  response_headers headers;  ///< final response's header fields, in order, repeated ones kept (parsed on first use)
  std::string body;      ///< decoded body (see request::decompress)

  std::string effective_url;     ///< URL of the final response (after redirects)
  unsigned version = 0;          ///< HTTP version as Beast counts it: 10, 11, 20, 30
  long redirect_count = 0;       ///< redirects followed
  std::string primary_ip;        ///< address connected to
  std::uint16_t primary_port = 0;
  std::string error_message;     ///< why the operation failed (libcurl's error buffer, or boost_curl's); empty on success
  timings time;
  /// With request::follow_redirects: the earlier responses of the chain, oldest first, each
  /// with its own status, headers, effective_url and timings (redirect_count == history.size()).
  std::vector<response> history;

  /// The status as an integer (also for codes Beast has no name for).
  unsigned status_code() const noexcept { return static_cast<unsigned>(status); }

  /// The body parsed as JSON (Boost.JSON). Throws boost::system::system_error if it is not.
  BOOST_CURL_DECL boost::json::value json() const;
  /// The same; on invalid JSON sets `ec` and returns a null value.
  BOOST_CURL_DECL boost::json::value json(error_code& ec) const;
};

}  // namespace boost_curl

#endif
