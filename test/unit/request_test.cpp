#include <boost_curl/cookie.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/json.hpp>
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
  BOOST_TEST(req.max_body_size == std::size_t(256) << 20);
  BOOST_TEST(req.receive_buffer_size == 0u);  // automatic
  BOOST_TEST(!req.decompress);  // decoding is asked for, never a surprise
  BOOST_TEST((req.method == boost_curl::http::verb::get));
  BOOST_TEST(!req.auth);
  BOOST_TEST(req.cookies.empty());
  BOOST_TEST(!req.fail_on_error_status);
  BOOST_TEST(!req.multipart);
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

BOOST_AUTO_TEST_SUITE(request_builders)

BOOST_AUTO_TEST_CASE(add_query_places_and_encodes) {
  struct example {
    const char* url;
    const char* expected;
  };
  const example examples[] = {
      {"http://h/p", "http://h/p?k=a%2Bb%20c%2F%C3%A9%3D%26"},
      {"http://h/p?x=1", "http://h/p?x=1&k=a%2Bb%20c%2F%C3%A9%3D%26"},
      {"http://h/p?", "http://h/p?k=a%2Bb%20c%2F%C3%A9%3D%26"},
      {"http://h/p?x=1&", "http://h/p?x=1&k=a%2Bb%20c%2F%C3%A9%3D%26"},
      {"http://h/p#frag", "http://h/p?k=a%2Bb%20c%2F%C3%A9%3D%26#frag"},
      {"http://h/p?x#f?y", "http://h/p?x&k=a%2Bb%20c%2F%C3%A9%3D%26#f?y"},
  };
  for (const example& e : examples) {
    boost_curl::request r(e.url);
    r.add_query("k", "a+b c/\xc3\xa9=&");
    BOOST_TEST(r.url == e.expected);
  }
  boost_curl::request chained("http://h/");
  chained.add_query("a", "1").add_query("b c", "");
  BOOST_TEST(chained.url == "http://h/?a=1&b%20c=");
}

BOOST_AUTO_TEST_CASE(form_and_json_bodies) {
  boost_curl::request r(boost_curl::http::verb::post, "http://h/");
  r.set_form({{"a", "1 2"}, {"b&c", "~._-"}});
  BOOST_TEST(r.body == "a=1%202&b%26c=~._-");
  BOOST_TEST(r.headers[boost_curl::http::field::content_type] == "application/x-www-form-urlencoded");
  r.set_form({});
  BOOST_TEST(r.body.empty());

  boost_curl::request j(boost_curl::http::verb::patch, "http://h/");
  j.headers.set(boost_curl::http::field::content_type, "application/merge-patch+json");
  j.set_json(boost::json::object{{"x", 1}});
  BOOST_TEST(j.body == R"({"x":1})");
  BOOST_TEST(j.headers[boost_curl::http::field::content_type] == "application/merge-patch+json");
  BOOST_TEST((j.method == boost_curl::http::verb::patch));

  boost_curl::multipart_form form;
  form.add_field("a", "1");
  j.set_multipart(form);
  BOOST_TEST(j.body.empty());
  BOOST_TEST(j.multipart->parts().size() == 1u);
  j.set_json(nullptr);  // a string body replaces the parts
  BOOST_TEST(!j.multipart);
  BOOST_TEST(j.body == "null");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cookie_values)

// The lines libcurl 7.88 writes (cookie.c, get_netscape_format), read back and written again.
BOOST_AUTO_TEST_CASE(netscape_lines_round_trip) {
  const char* lines[] = {
      "#HttpOnly_.example.com\tTRUE\t/app\tTRUE\t4102444800\tsid\tabc",
      "127.0.0.1\tFALSE\t/\tFALSE\t0\tplain\t1",
      "host.test\tFALSE\t/p\tFALSE\t0\tempty\t",
  };
  for (const char* line : lines) {
    boost_curl::error_code ec;
    const boost_curl::cookie c = boost_curl::cookie::from_netscape(line, ec);
    BOOST_TEST_CONTEXT(line) {
      BOOST_TEST(!ec);
      BOOST_TEST(c.to_netscape() == line);
    }
  }
  boost_curl::error_code ec;
  const auto c = boost_curl::cookie::from_netscape(lines[0], ec);
  BOOST_TEST(c.domain == "example.com");
  BOOST_TEST(c.include_subdomains);
  BOOST_TEST(c.http_only);
  BOOST_TEST(c.secure);
  BOOST_TEST(c.path == "/app");
  BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(c.expires.time_since_epoch()).count() == 4102444800);
}

// Found by test/fuzz/fuzz_cookie: 4102444800800 s overflowed the nanosecond time_point.
BOOST_AUTO_TEST_CASE(far_future_expiries_are_clamped_and_round_trip) {
  const long long limit =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count();
  for (const char* expiry : {"4102444800800", "99999999999999999999999", "-99999999999999999999"}) {
    boost_curl::error_code ec;
    const auto c = boost_curl::cookie::from_netscape(std::string("h\tFALSE\t/\tFALSE\t") + expiry + "\tn\tv", ec);
    BOOST_TEST_CONTEXT(expiry) {
      BOOST_TEST(!ec);
      const long long s = std::chrono::duration_cast<std::chrono::seconds>(c.expires.time_since_epoch()).count();
      BOOST_TEST(s == (expiry[0] == '-' ? -limit : limit));
      const auto again = boost_curl::cookie::from_netscape(c.to_netscape(), ec);
      BOOST_TEST(!ec);
      BOOST_TEST((again == c));
    }
  }
  boost_curl::error_code ec;  // also found by the fuzzer: a blank path is "/", as libcurl reads it
  const auto blank = boost_curl::cookie::from_netscape("h\tFALSE\t\tFALSE\t0\tn\tv", ec);
  BOOST_TEST(!ec);
  BOOST_TEST(blank.path == "/");
  // and a domain is a bare host: every leading dot goes, and nothing but dots is no domain
  const auto dots = boost_curl::cookie::from_netscape("..x.test\tFALSE\t/\tFALSE\t0\tn\tv", ec);
  BOOST_TEST(!ec);
  BOOST_TEST(dots.domain == "x.test");
  for (const char* bad : {"..\tTRUE\t/\tFALSE\t0\tn\tv", ".#HttpOnly_x\tTRUE\t/\tFALSE\t0\tn\tv",
                          "# a comment\tTRUE\t/\tFALSE\t0\tn\tv"}) {
    boost_curl::cookie::from_netscape(bad, ec);
    BOOST_TEST((ec == boost_curl::error::invalid_request), bad);
  }
}

BOOST_AUTO_TEST_CASE(other_lines_are_refused) {
  for (const char* bad : {"", "a\tb", "d\tMAYBE\t/\tFALSE\t0\tn\tv", "d\tTRUE\t/\tFALSE\tsoon\tn\tv",
                          "d\tTRUE\t/\tFALSE\t0\t\tv", "\tTRUE\t/\tFALSE\t0\tn\tv",
                          "d\tTRUE\t/\tFALSE\t0\tn\tv\textra", "d\tTRUE\t/\tFALSE\t\tn\tv",
                          "d\tTRUE\t/\tFALSE\t-\tn\tv"}) {
    boost_curl::error_code ec;
    boost_curl::cookie::from_netscape(bad, ec);
    BOOST_TEST((ec == boost_curl::error::invalid_request), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
