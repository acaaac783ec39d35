#include <boost_curl/error.hpp>

#include <boost/beast/http/status.hpp>

#include <boost/asio/error.hpp>
#include <curl/curl.h>

#include <string>

namespace boost_curl {
namespace {

using boost::system::error_condition;
namespace errc = boost::system::errc;

// Which portable condition a CURLcode belongs to (0 when none).
condition condition_of_curl(int code) noexcept {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return condition::timeout;
    case CURLE_COULDNT_CONNECT: return condition::connect_failed;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return condition::name_resolution_failed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT: return condition::tls_failed;
    case CURLE_TOO_MANY_REDIRECTS: return condition::too_many_redirects;
    case CURLE_FILESIZE_EXCEEDED: return condition::body_too_large;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP2: return condition::connection_lost;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return condition::invalid_url;
    default: return condition{};
  }
}

class curl_category_impl final : public boost::system::error_category {
 public:
  curl_category_impl() noexcept : error_category(0xb0c1a7e5c0de0001ULL) {}
  const char* name() const noexcept override { return "boost_curl.curl"; }
  std::string message(int ev) const override { return curl_easy_strerror(static_cast<CURLcode>(ev)); }
  error_condition default_error_condition(int ev) const noexcept override {
    switch (ev) {
      case CURLE_OPERATION_TIMEDOUT: return errc::timed_out;
      case CURLE_COULDNT_CONNECT: return errc::connection_refused;
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY: return errc::host_unreachable;
      case CURLE_UNSUPPORTED_PROTOCOL: return errc::protocol_not_supported;
      case CURLE_URL_MALFORMAT: return errc::invalid_argument;
      case CURLE_OUT_OF_MEMORY: return errc::not_enough_memory;
      default: break;
    }
    if (condition c = condition_of_curl(ev); c != condition{}) return make_error_condition(c);
    return {ev, *this};
  }
};

class curl_multi_category_impl final : public boost::system::error_category {
 public:
  curl_multi_category_impl() noexcept : error_category(0xb0c1a7e5c0de0002ULL) {}
  const char* name() const noexcept override { return "boost_curl.multi"; }
  std::string message(int ev) const override { return curl_multi_strerror(static_cast<CURLMcode>(ev)); }
  error_condition default_error_condition(int ev) const noexcept override {
    if (ev == CURLM_OUT_OF_MEMORY) return errc::not_enough_memory;
    return {ev, *this};
  }
};

class error_category_impl final : public boost::system::error_category {
 public:
  error_category_impl() noexcept : error_category(0xb0c1a7e5c0de0003ULL) {}
  const char* name() const noexcept override { return "boost_curl"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::body_too_large: return "response body exceeds the configured limit";
      case error::invalid_request: return "the request cannot be expressed (invalid header or option)";
      case error::setup_failed: return "libcurl could not set up the transfer";
      case error::unsupported_context: return "boost_curl runs on an io_context, a thread_pool or the system_context";
    }
    return "boost_curl error " + std::to_string(ev);
  }
  error_condition default_error_condition(int ev) const noexcept override {
    if (static_cast<error>(ev) == error::body_too_large) return make_error_condition(condition::body_too_large);
    return {ev, *this};
  }
};

class condition_category_impl final : public boost::system::error_category {
 public:
  condition_category_impl() noexcept : error_category(0xb0c1a7e5c0de0004ULL) {}
  const char* name() const noexcept override { return "boost_curl.condition"; }
  std::string message(int ev) const override {
    switch (static_cast<condition>(ev)) {
      case condition::timeout: return "timed out";
      case condition::connect_failed: return "could not connect";
      case condition::name_resolution_failed: return "host name did not resolve";
      case condition::tls_failed: return "TLS handshake or certificate verification failed";
      case condition::too_many_redirects: return "too many redirects";
      case condition::body_too_large: return "response body too large";
      case condition::connection_lost: return "connection lost";
      case condition::invalid_url: return "invalid or disallowed URL";
      case condition::http_error_status: return "the server answered with an error status (4xx or 5xx)";
    }
    return "boost_curl condition " + std::to_string(ev);
  }
  bool equivalent(const error_code& code, int cond) const noexcept override {
    if (code.category() == get_curl_category()) return static_cast<int>(condition_of_curl(code.value())) == cond;
    if (code.category() == get_error_category())
      return static_cast<error>(code.value()) == error::body_too_large && static_cast<condition>(cond) == condition::body_too_large;
    if (code.category() == get_http_status_category())
      return static_cast<condition>(cond) == condition::http_error_status && code.value() >= 400 && code.value() <= 599;
    if (code == boost::asio::error::timed_out) return static_cast<condition>(cond) == condition::timeout;
    return false;
  }
};

// The value is the status itself: a 404 is error_code(404, http_status category).
class http_status_category_impl final : public boost::system::error_category {
 public:
  http_status_category_impl() noexcept : error_category(0xb0c1a7e5c0de0005ULL) {}
  const char* name() const noexcept override { return "boost_curl.http_status"; }
  std::string message(int ev) const override {
    const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(ev));
    std::string text = "HTTP status " + std::to_string(ev);
    if (!reason.empty() && reason != "<unknown-status>") {
      text += ' ';
      text.append(reason.data(), reason.size());
    }
    return text;
  }
  error_condition default_error_condition(int ev) const noexcept override {
    if (ev >= 400 && ev <= 599) return make_error_condition(condition::http_error_status);
    return {ev, *this};
  }
};

}  // namespace

const boost::system::error_category& get_curl_category() noexcept {
  static const curl_category_impl c;
  return c;
}
const boost::system::error_category& get_curl_multi_category() noexcept {
  static const curl_multi_category_impl c;
  return c;
}
const boost::system::error_category& get_error_category() noexcept {
  static const error_category_impl c;
  return c;
}
const boost::system::error_category& get_condition_category() noexcept {
  static const condition_category_impl c;
  return c;
}
const boost::system::error_category& get_http_status_category() noexcept {
  static const http_status_category_impl c;
  return c;
}

}  // namespace boost_curl
