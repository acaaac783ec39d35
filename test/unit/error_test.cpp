#include <boost_curl/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>
#include <curl/curl.h>

#include <string>

namespace errc = boost::system::errc;
using boost_curl::condition;
using boost_curl::error_code;

BOOST_AUTO_TEST_SUITE(error_categories)

BOOST_AUTO_TEST_CASE(names_are_library_prefixed_and_distinct) {
  BOOST_TEST(std::string(boost_curl::get_curl_category().name()) == "boost_curl.curl");
  BOOST_TEST(std::string(boost_curl::get_curl_multi_category().name()) == "boost_curl.multi");
  BOOST_TEST(std::string(boost_curl::get_error_category().name()) == "boost_curl");
  BOOST_TEST(std::string(boost_curl::get_condition_category().name()) == "boost_curl.condition");
  BOOST_TEST(!(boost_curl::get_curl_category() == boost_curl::get_curl_multi_category()));
}

BOOST_AUTO_TEST_CASE(messages_come_from_libcurl) {
  BOOST_TEST(boost_curl::make_curl_error(CURLE_OPERATION_TIMEDOUT).message() ==
             curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
  BOOST_TEST(boost_curl::make_curl_multi_error(CURLM_BAD_HANDLE).message() == curl_multi_strerror(CURLM_BAD_HANDLE));
  BOOST_TEST(!error_code(boost_curl::error::body_too_large).message().empty());
}

BOOST_AUTO_TEST_CASE(curl_ok_is_success) { BOOST_TEST(!boost_curl::make_curl_error(CURLE_OK)); }

BOOST_AUTO_TEST_CASE(timeout_maps_to_generic_and_own_condition) {
  const error_code ec = boost_curl::make_curl_error(CURLE_OPERATION_TIMEDOUT);
  BOOST_TEST((ec == errc::timed_out));
  BOOST_TEST((ec == condition::timeout));
  BOOST_TEST((ec != condition::connect_failed));
}

BOOST_AUTO_TEST_CASE(refused_connection_maps_to_connection_refused) {
  const error_code ec = boost_curl::make_curl_error(CURLE_COULDNT_CONNECT);
  BOOST_TEST((ec == errc::connection_refused));
  BOOST_TEST((ec == condition::connect_failed));
}

BOOST_AUTO_TEST_CASE(unresolvable_host_maps_to_host_unreachable) {
  const error_code ec = boost_curl::make_curl_error(CURLE_COULDNT_RESOLVE_HOST);
  BOOST_TEST((ec == errc::host_unreachable));
  BOOST_TEST((ec == condition::name_resolution_failed));
}

BOOST_AUTO_TEST_CASE(tls_and_redirect_and_url_conditions) {
  BOOST_TEST((boost_curl::make_curl_error(CURLE_PEER_FAILED_VERIFICATION) == condition::tls_failed));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_SSL_CONNECT_ERROR) == condition::tls_failed));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_TOO_MANY_REDIRECTS) == condition::too_many_redirects));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_URL_MALFORMAT) == condition::invalid_url));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_URL_MALFORMAT) == errc::invalid_argument));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_UNSUPPORTED_PROTOCOL) == errc::protocol_not_supported));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_PARTIAL_FILE) == condition::connection_lost));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_GOT_NOTHING) == condition::connection_lost));
}

BOOST_AUTO_TEST_CASE(body_too_large_is_own_error_with_condition) {
  const error_code ec = boost_curl::error::body_too_large;
  BOOST_TEST((ec.category() == boost_curl::get_error_category()));
  BOOST_TEST((ec == condition::body_too_large));
  BOOST_TEST((boost_curl::make_curl_error(CURLE_FILESIZE_EXCEEDED) == condition::body_too_large));
}

BOOST_AUTO_TEST_CASE(unrelated_codes_match_no_condition) {
  const error_code ec = boost_curl::make_curl_error(CURLE_BAD_FUNCTION_ARGUMENT);
  for (int c = 1; c <= static_cast<int>(condition::invalid_url); ++c) BOOST_TEST((ec != static_cast<condition>(c)));
  BOOST_TEST((error_code(boost::asio::error::operation_aborted) != condition::timeout));
}

BOOST_AUTO_TEST_SUITE_END()
