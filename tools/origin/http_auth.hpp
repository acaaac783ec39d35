#ifndef BOOST_CURL_TOOLS_ORIGIN_HTTP_AUTH_HPP
#define BOOST_CURL_TOOLS_ORIGIN_HTTP_AUTH_HPP

// Checks of the Authorization field for the loopback origin's /auth routes: Basic, Bearer and
// Digest (RFC 7616, MD5, qop=auth), as a real server would make them.

#include <string>
#include <string_view>

namespace boost_curl::tools::detail {

bool basic_matches(std::string_view authorization, std::string_view user, std::string_view password);
bool bearer_matches(std::string_view authorization, std::string_view token);

constexpr std::string_view digest_realm = "loopback";
constexpr std::string_view digest_nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
// The WWW-Authenticate value of a Digest challenge.
std::string digest_challenge();
bool digest_matches(std::string_view authorization, std::string_view method, std::string_view user,
                    std::string_view password);

}  // namespace boost_curl::tools::detail

#endif
