#include <boost_curl/version.hpp>

#include <curl/curl.h>

#include <boost/preprocessor/stringize.hpp>

namespace boost_curl {
std::string version_string() {
  return "boost_curl/" BOOST_PP_STRINGIZE(BOOST_CURL_VERSION_MAJOR) "." BOOST_PP_STRINGIZE(
             BOOST_CURL_VERSION_MINOR) "." BOOST_PP_STRINGIZE(BOOST_CURL_VERSION_PATCH) " " +
         std::string(curl_version());
}
}  // namespace boost_curl
