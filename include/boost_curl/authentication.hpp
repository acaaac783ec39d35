#ifndef BOOST_CURL_AUTHENTICATION_HPP
#define BOOST_CURL_AUTHENTICATION_HPP

#include <boost_curl/config.hpp>

#include <string>
#include <utility>

namespace boost_curl {

/** Credentials for the server (`request::auth`). None by default.

    Basic and bearer credentials are sent with the first request; digest and `any` answer the
    server's challenge (a 401 answered inside the same exchange: not a redirect hop). Never
    sent to another host on a redirect.
*/
class authentication {
 public:
  enum class scheme {
    basic,   ///< `Authorization: Basic`, sent up front (over TLS only, please)
    digest,  ///< HTTP Digest, in answer to the server's challenge
    bearer,  ///< `Authorization: Bearer <token>` (RFC 6750), sent up front
    any,     ///< whichever the server offers, the safest first (libcurl: digest, NTLM, Negotiate, basic)
  };

  static authentication basic(std::string user, std::string password) {
    return {scheme::basic, std::move(user), std::move(password)};
  }
  static authentication digest(std::string user, std::string password) {
    return {scheme::digest, std::move(user), std::move(password)};
  }
  static authentication bearer(std::string token) { return {scheme::bearer, {}, std::move(token)}; }
  static authentication any(std::string user, std::string password) {
    return {scheme::any, std::move(user), std::move(password)};
  }

  scheme kind() const noexcept { return kind_; }
  const std::string& user() const noexcept { return user_; }
  /// The password, or the token for bearer.
  const std::string& secret() const noexcept { return secret_; }

  friend bool operator==(const authentication& a, const authentication& b) noexcept {
    return a.kind_ == b.kind_ && a.user_ == b.user_ && a.secret_ == b.secret_;
  }
  friend bool operator!=(const authentication& a, const authentication& b) noexcept { return !(a == b); }

 private:
  authentication(scheme k, std::string user, std::string secret)
      : kind_(k), user_(std::move(user)), secret_(std::move(secret)) {}
  scheme kind_;
  std::string user_;
  std::string secret_;
};

}  // namespace boost_curl

#endif
