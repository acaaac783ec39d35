#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(request_defaults)

// The secure defaults are part of the contract: changing one must break this test.
BOOST_AUTO_TEST_CASE(defaults_are_secure) {
  const boost_curl::request req;
  BOOST_TEST(req.verify_peer);
  BOOST_TEST(req.verify_host);
  BOOST_TEST(req.protocols == "http,https");
  BOOST_TEST(!req.follow_redirects);
  BOOST_TEST(req.max_redirects == 10);
  BOOST_TEST(req.max_body_size > 0u);
  BOOST_TEST((req.method == boost_curl::http::verb::get));
}

BOOST_AUTO_TEST_CASE(constructors_set_method_and_url) {
  const boost_curl::request a("http://x/");
  BOOST_TEST(a.url == "http://x/");
  const boost_curl::request b(boost_curl::http::verb::post, "http://y/");
  BOOST_TEST((b.method == boost_curl::http::verb::post));
  BOOST_TEST(b.url == "http://y/");
}

BOOST_AUTO_TEST_CASE(response_status_code_for_unnamed_codes) {
  boost_curl::response r;
  r.status = static_cast<boost_curl::http::status>(299);
  BOOST_TEST(r.status_code() == 299u);
}

BOOST_AUTO_TEST_SUITE_END()
