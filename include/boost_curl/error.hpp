#ifndef BOOST_CURL_ERROR_HPP
#define BOOST_CURL_ERROR_HPP

// Error codes. Four sources, four categories:
//  - libcurl's transfer results (CURLcode)         -> get_curl_category()
//  - libcurl's multi-interface results (CURLMcode) -> get_curl_multi_category()
//  - boost_curl's own errors                       -> boost_curl::error
//  - HTTP error statuses, when asked for           -> get_http_status_category()
// plus boost_curl::condition, portable conditions to test any of them against.
// Cancellation is always reported as boost::asio::error::operation_aborted.

#include <boost_curl/config.hpp>

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>
#include <boost/system/system_error.hpp>

namespace boost_curl {

using error_code = boost::system::error_code;

/// Errors raised by boost_curl itself (not by libcurl).
enum class error {
  /// The response body grew beyond request::max_body_size; the transfer was aborted.
  body_too_large = 1,
  /// The request cannot be expressed (e.g. a header name or value holding CR or LF).
  invalid_request,
  /// libcurl could not create or configure a transfer (out of memory, option refused).
  setup_failed,
  /// The executor's execution context is not one boost_curl can run on: an io_context, a
  /// thread_pool or the system_context (others have no reactor for the engine's I/O).
  unsupported_context,
};

/// Portable conditions: compare any error_code from boost_curl with these.
/// Where a generic condition fits, the curl category's default_error_condition() is that
/// generic one (e.g. a timeout compares equal to boost::system::errc::timed_out too).
enum class condition {
  timeout = 1,             ///< a timeout expired (errc::timed_out)
  connect_failed,          ///< the TCP connection could not be made (errc::connection_refused)
  name_resolution_failed,  ///< the host name did not resolve (errc::host_unreachable)
  tls_failed,              ///< handshake failed or the peer's certificate was refused
  too_many_redirects,      ///< request::max_redirects was exceeded
  body_too_large,          ///< the response body exceeded request::max_body_size
  connection_lost,         ///< the server closed or reset the connection mid-exchange
  invalid_url,             ///< malformed URL, or a scheme not allowed by request::protocols
  http_error_status,       ///< a 4xx or 5xx status, with request::fail_on_error_status
};

BOOST_CURL_DECL const boost::system::error_category& get_curl_category() noexcept;
BOOST_CURL_DECL const boost::system::error_category& get_curl_multi_category() noexcept;
BOOST_CURL_DECL const boost::system::error_category& get_error_category() noexcept;
BOOST_CURL_DECL const boost::system::error_category& get_condition_category() noexcept;
/// HTTP statuses as errors (request::fail_on_error_status): the value is the status code.
BOOST_CURL_DECL const boost::system::error_category& get_http_status_category() noexcept;

/// An error_code for an HTTP status (e.g. 404), in the http_status category.
inline error_code make_http_status_error(unsigned status) noexcept {
  return {static_cast<int>(status), get_http_status_category()};
}

/// An error_code for a libcurl CURLcode value (0, CURLE_OK, gives success).
inline error_code make_curl_error(int curl_code) noexcept { return {curl_code, get_curl_category()}; }
/// An error_code for a libcurl CURLMcode value.
inline error_code make_curl_multi_error(int multi_code) noexcept { return {multi_code, get_curl_multi_category()}; }

inline error_code make_error_code(error e) noexcept { return {static_cast<int>(e), get_error_category()}; }
inline boost::system::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), get_condition_category()};
}

}  // namespace boost_curl

namespace boost::system {
template <> struct is_error_code_enum<boost_curl::error> : std::true_type {};
template <> struct is_error_condition_enum<boost_curl::condition> : std::true_type {};
}  // namespace boost::system

#endif
