// parsed_url_memo: a pooled handle's last four URLs, parsed on their second time, with their
// text as libcurl writes it; the least recently used forgotten, handed back to be freed.

#include <parsed_url_memo.hpp>

#include <boost/test/unit_test.hpp>

#include <curl/curl.h>

#include <string>

using boost_curl::detail::parsed_url_memo;
using boost_curl::detail::url_ptr;

BOOST_AUTO_TEST_SUITE(parsed_url_memo_suite)

BOOST_AUTO_TEST_CASE(parsed_on_the_second_time_with_libcurls_text) {
  parsed_url_memo memo;
  url_ptr retired;
  BOOST_TEST(!memo.find("http://a", retired).handle);  // first time: libcurl parses the string
  const parsed_url_memo::form second = memo.find("http://a", retired);
  BOOST_TEST_REQUIRE(second.handle);
  BOOST_TEST(std::string(second.text) == "http://a/");  // as libcurl writes it: a path added
  const parsed_url_memo::form third = memo.find("http://a", retired);
  BOOST_TEST(third.handle == second.handle);  // parsed once
  char* host = nullptr;
  BOOST_TEST_REQUIRE(curl_url_get(third.handle, CURLUPART_HOST, &host, 0) == CURLUE_OK);
  BOOST_TEST(std::string(host) == "a");
  curl_free(host);

  // A scheme guessed as libcurl guesses it; one that does not parse stays the string's.
  memo.find("example.com/x", retired);
  BOOST_TEST(std::string(memo.find("example.com/x", retired).text) == "http://example.com/x");
  memo.find("http://[::1", retired);
  BOOST_TEST(!memo.find("http://[::1", retired).handle);
  BOOST_TEST(!retired);
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_is_forgotten) {
  parsed_url_memo memo;
  url_ptr retired;
  const std::string u[] = {"http://h/0", "http://h/1", "http://h/2", "http://h/3", "http://h/4"};
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 4; ++i) memo.find(u[i], retired);
  const parsed_url_memo::form zero = memo.find(u[0], retired);  // now the most recent
  BOOST_TEST_REQUIRE(zero.handle);
  BOOST_TEST(!retired);
  memo.find(u[4], retired);  // a fifth: u[1], the least recently used, goes
  BOOST_TEST_REQUIRE(retired);
  char* path = nullptr;
  BOOST_TEST_REQUIRE(curl_url_get(retired.get(), CURLUPART_PATH, &path, 0) == CURLUE_OK);
  BOOST_TEST(std::string(path) == "/1");
  curl_free(path);
  retired.reset();
  BOOST_TEST(memo.find(u[0], retired).handle == zero.handle);  // kept
  BOOST_TEST(!memo.find(u[1], retired).handle);                // starts over
  BOOST_TEST(retired);                                         // and made u[2] go
  // The texts handed out stay right while entries move (short ones live inside their string).
  retired.reset();
  const parsed_url_memo::form three = memo.find(u[3], retired);
  BOOST_TEST_REQUIRE(three.handle);
  BOOST_TEST(std::string(three.text) == "http://h/3");
  BOOST_TEST(std::string(memo.find(u[0], retired).text) == "http://h/0");
}

BOOST_AUTO_TEST_SUITE_END()
