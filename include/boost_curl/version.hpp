#ifndef BOOST_CURL_VERSION_HPP
#define BOOST_CURL_VERSION_HPP

#include <boost_curl/config.hpp>

#include <string>

#define BOOST_CURL_VERSION_MAJOR 0
#define BOOST_CURL_VERSION_MINOR 1
#define BOOST_CURL_VERSION_PATCH 0

namespace boost_curl {
/// "boost_curl/0.1.0 libcurl/7.88.1 OpenSSL/3.0.x ..." (libcurl's version string appended).
BOOST_CURL_DECL std::string version_string();
}  // namespace boost_curl

#endif
