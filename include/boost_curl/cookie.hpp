#ifndef BOOST_CURL_COOKIE_HPP
#define BOOST_CURL_COOKIE_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace boost_curl {

/** One cookie of a session's jar, as values (session::cookies(), session::add_cookie()).

    `domain` is the bare host (no leading dot, no `#HttpOnly_` prefix); `include_subdomains`
    and `http_only` carry what those spell in a Netscape cookie file. `expires` has whole
    seconds; the epoch (the default) is a session cookie. Expiries beyond what a
    `system_clock::time_point` holds (about the year 2262) are read as its largest value.
*/
struct cookie {
  std::string name, value, domain, path = "/";
  bool include_subdomains = false, secure = false, http_only = false;
  std::chrono::system_clock::time_point expires{};

  /// The Netscape cookie-file line libcurl itself writes for this cookie (tab-separated).
  BOOST_CURL_DECL std::string to_netscape() const;

  /// Parses a Netscape cookie-file line as libcurl writes it (also the `#HttpOnly_` form).
  /// error::invalid_request for anything else.
  BOOST_CURL_DECL static cookie from_netscape(std::string_view line, error_code& ec);

  friend bool operator==(const cookie& a, const cookie& b) noexcept {
    return a.name == b.name && a.value == b.value && a.domain == b.domain && a.path == b.path &&
           a.include_subdomains == b.include_subdomains && a.secure == b.secure && a.http_only == b.http_only &&
           a.expires == b.expires;
  }
  friend bool operator!=(const cookie& a, const cookie& b) noexcept { return !(a == b); }
};

}  // namespace boost_curl

#endif
