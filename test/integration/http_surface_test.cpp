// The HTTP surface on top of the engine: credentials, custom methods, status errors, JSON,
// forms, multipart, cookies as values, one Cookie field, the session's verbs and response hook.

#include "test_support.hpp"

#include <origin/body_inspectors.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;
namespace json = boost::json;
using namespace std::string_literals;

namespace {

std::size_t count_lines_starting(std::string_view text, std::string_view prefix) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (text.substr(at, end - at).substr(0, prefix.size()) == prefix) ++n;
    at = end + 1;
  }
  return n;
}

// A file that goes away with the test.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(std::string_view content, std::string name = "boost_curl_test_upload.txt")
      : path(std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)) {
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

std::string sha256_of(std::string_view bytes) {
  tools::detail::sha256_digest d;
  d.update(bytes);
  return d.hex();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(credentials, origin_fixture)

BOOST_AUTO_TEST_CASE(basic_digest_bearer_and_any) {
  struct probe {
    std::string path;
    std::optional<authentication> auth;
    unsigned status;
    std::string body;
  };
  const probe probes[] = {
      {"/auth/basic/ann/s3cret", authentication::basic("ann", "s3cret"), 200, "authenticated Basic"},
      {"/auth/basic/ann/s3cret", authentication::basic("ann", "wrong"), 401, "unauthorized"},
      {"/auth/basic/ann/s3cret", std::nullopt, 401, "unauthorized"},
      {"/auth/digest/bob/pa55", authentication::digest("bob", "pa55"), 200, "authenticated Digest"},
      {"/auth/digest/bob/pa55", authentication::digest("bob", "nope"), 401, "unauthorized"},
      {"/auth/bearer/t0ken", authentication::bearer("t0ken"), 200, "authenticated Bearer"},
      {"/auth/bearer/t0ken", authentication::bearer("other"), 401, "unauthorized"},
      {"/auth/any/cat/meow", authentication::any("cat", "meow"), 200, "authenticated Digest"},  // the safest offered
      {"/auth/basic/ann/s3cret", std::nullopt, 401, "unauthorized"},  // a pooled handle forgot the last credentials
  };
  for (const probe& p : probes) {
    request req(url(p.path));
    req.auth = p.auth;
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_CONTEXT(p.path << " with " << (p.auth ? p.auth->user() + ":" + p.auth->secret() : "nothing")) {
      BOOST_TEST(!r.ec);
      BOOST_TEST(r.resp.status_code() == p.status);
      BOOST_TEST(r.resp.body == p.body);
      BOOST_TEST(r.resp.history.empty());  // a challenge answered in one exchange is no hop
      BOOST_TEST(r.resp.redirect_count == 0);
    }
  }
}

// Credentials sent by one request never go with the next one on the same pooled handle and
// connection: given as request::auth, or in the URL (which is parsed once when repeated,
// CURLOPT_CURLU, and must then be dropped as well).
BOOST_AUTO_TEST_CASE(a_pooled_handle_forgets_credentials) {
  const std::string echo = url("/echo");
  const std::string port = std::to_string(origin.port());
  const std::string with_user = "http://ann:s3cret@127.0.0.1:" + port + "/echo";
  auto sent = [&](request req) {
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
    const std::size_t at = r.resp.body.find("Authorization: ");
    return at == std::string::npos ? std::string() : r.resp.body.substr(at, r.resp.body.find('\n', at) - at);
  };
  request basic(echo);
  basic.auth = authentication::basic("ann", "s3cret");
  BOOST_TEST(sent(basic) == "Authorization: Basic YW5uOnMzY3JldA==");
  BOOST_TEST(sent(request(echo)) == "");
  request bearer(echo);
  bearer.auth = authentication::bearer("t0ken");
  BOOST_TEST(sent(bearer) == "Authorization: Bearer t0ken");
  BOOST_TEST(sent(request(echo)) == "");
  for (int i = 0; i < 3; ++i) BOOST_TEST(sent(request(with_user)) == "Authorization: Basic YW5uOnMzY3JldA==");
  BOOST_TEST(sent(request(echo)) == "");
  BOOST_TEST(service().statistics().sockets_opened == 1u);  // the same connection throughout
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(request_surface, origin_fixture)

BOOST_AUTO_TEST_CASE(custom_method_is_sent_instead_of_method) {
  request req(url("/echo"));
  req.custom_method = "PURGE";
  BOOST_TEST(fetch(ctx, req).resp.body.substr(0, 12) == "PURGE /echo\n");
  req.method = http::verb::post;  // a body goes with it
  req.body = "x=1";
  fetch_result r = fetch(ctx, req);
  BOOST_TEST(r.resp.body.substr(0, 12) == "PURGE /echo\n");
  BOOST_TEST(r.resp.body.find("\n\nx=1") != std::string::npos);
  req.custom_method = "BAD METHOD";
  BOOST_TEST((fetch(ctx, req).ec == error::invalid_request));
  BOOST_TEST(fetch(ctx, request(url("/echo"))).resp.body.substr(0, 10) == "GET /echo\n");  // pooled handle reset
}

BOOST_AUTO_TEST_CASE(error_statuses_as_errors_when_asked) {
  request req(url("/status/404"));
  BOOST_TEST(!fetch(ctx, req).ec);  // by default a response like any other
  req.fail_on_error_status = true;
  fetch_result r = fetch(ctx, req);
  BOOST_TEST((r.ec == condition::http_error_status));
  BOOST_TEST(r.ec.value() == 404);
  BOOST_TEST((r.ec.category() == get_http_status_category()));
  BOOST_TEST(r.resp.status_code() == 404u);
  BOOST_TEST(r.resp.body == "status 404");  // still delivered
  BOOST_TEST(r.resp.error_message == "HTTP status 404 Not Found");
  req.url = url("/status/503");
  BOOST_TEST(fetch(ctx, req).ec.value() == 503);
  req.url = url("/status/299");
  BOOST_TEST(!fetch(ctx, req).ec);
  BOOST_TEST((make_http_status_error(200) != condition::http_error_status));
}

BOOST_AUTO_TEST_CASE(json_body_and_json_response) {
  const json::value v = {{"name", "ann"}, {"tags", {1, 2, "three"}}, {"nested", {{"ok", true}}}};
  request req(http::verb::put, url("/echo-body"));
  req.set_json(v);
  BOOST_TEST(req.method == http::verb::put);  // kept
  BOOST_TEST(req.headers[http::field::content_type] == "application/json");
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(r.resp.headers[http::field::content_type] == "application/json");
  BOOST_TEST((r.resp.json() == v));
  error_code ec;
  BOOST_TEST((r.resp.json(ec) == v));
  BOOST_TEST(!ec);

  request typed(http::verb::post, url("/echo-body"));
  typed.headers.set(http::field::content_type, "application/vnd.api+json");
  typed.set_json(json::array{});
  BOOST_TEST(fetch(ctx, std::move(typed)).resp.headers[http::field::content_type] == "application/vnd.api+json");

  fetch_result not_json = fetch(ctx, request(url("/bytes/10")));
  BOOST_CHECK_THROW(not_json.resp.json(), boost::system::system_error);
  BOOST_TEST(not_json.resp.json(ec).is_null());
  BOOST_TEST(ec);
}

BOOST_AUTO_TEST_CASE(form_body_is_url_encoded) {
  request req(http::verb::post, url("/echo"));
  req.set_form({{"a b", "1+1=2"}, {"emoji", "\xc3\xa9&x"}, {"empty", ""}});
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(r.resp.body.find("Content-Type: application/x-www-form-urlencoded\n") != std::string::npos);
  BOOST_TEST(r.resp.body.find("\n\na%20b=1%2B1%3D2&emoji=%C3%A9%26x&empty=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(query_parameters_are_appended_encoded) {
  request req(url("/echo"));
  req.add_query("q", "a+b c").add_query("x&y", "1");
  BOOST_TEST(fetch(ctx, std::move(req)).resp.body.substr(0, 34) == "GET /echo?q=a%2Bb%20c&x%26y=1\nHost");
}

BOOST_AUTO_TEST_CASE(multipart_fields_files_and_data) {
  const std::string file_content = "file content\r\n--not a boundary\r\n\0with a NUL"s;
  temp_file file(file_content);
  multipart_form form;
  form.add_field("title", "hello world")
      .add_file("upload", file.path, "text/plain")
      .add_data("blob", "blob.bin", std::string("\x00\x01\x02", 3), "application/octet-stream");
  request req(url("/multipart"));
  req.set_multipart(form);
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST_REQUIRE(!r.ec, r.ec.message() << ": " << r.resp.error_message);
  const std::string expected = "name=title filename=- type=- size=11 sha256=" + sha256_of("hello world") + "\n" +
                               "name=upload filename=" + file.path.filename().string() +
                               " type=text/plain size=" + std::to_string(file_content.size()) +
                               " sha256=" + sha256_of(file_content) + "\n" +
                               "name=blob filename=blob.bin type=application/octet-stream size=3 sha256=" +
                               sha256_of(std::string("\x00\x01\x02", 3)) + "\ncomplete\n";
  BOOST_TEST(r.resp.body == expected);
  BOOST_TEST(fetch(ctx, request(url("/echo"))).resp.body.substr(0, 10) == "GET /echo\n");  // pooled handle reset
}

BOOST_AUTO_TEST_CASE(missing_multipart_file_is_an_error_not_a_throw) {
  multipart_form form;
  form.add_file("upload", "/nonexistent/boost_curl/file.bin");
  request req(url("/multipart"));
  req.set_multipart(std::move(form));
  fetch_result r;
  BOOST_CHECK_NO_THROW(async_fetch(ctx, std::move(req), record(r)));
  run_bounded(ctx);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(r.ec);
  BOOST_TEST(r.resp.error_message.find("/nonexistent/boost_curl/file.bin") != std::string::npos);
  BOOST_TEST(origin.requests_served() == 0u);
}

// A 100 MiB file goes up read while sending: the origin sees every byte (hash), and the
// client's peak memory grows far less than the file.
BOOST_AUTO_TEST_CASE(large_multipart_upload_is_streamed) {
  constexpr std::size_t size = std::size_t(100) << 20;
  const auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_boost_curl_100m.bin");
  tools::detail::sha256_digest expected;
  {
    std::ofstream out(path, std::ios::binary);
    std::string block(1 << 20, '\0');
    for (std::size_t i = 0; i < size / block.size(); ++i) {
      for (std::size_t j = 0; j < block.size(); j += 4096) block[j] = static_cast<char>(i + j / 4096);
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
      expected.update(block);
    }
  }
  const std::size_t rss_before = peak_rss_kb();
  multipart_form form;
  form.add_file("big", path);
  request req(url("/multipart"));
  req.set_multipart(std::move(form));
  fetch_result r = fetch(ctx, std::move(req));
  const std::size_t rss_after = peak_rss_kb();
  std::filesystem::remove(path);
  BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
  BOOST_TEST(r.resp.body.find("size=" + std::to_string(size) + " sha256=" + expected.hex()) != std::string::npos);
  BOOST_TEST(r.resp.body.find("complete") != std::string::npos);
  BOOST_TEST(rss_after - rss_before < 20u * 1024, "peak RSS grew by " << (rss_after - rss_before) << " KiB");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(cookies, origin_fixture)

// RFC 6265 §5.4: one Cookie field. A Cookie field set in the request and the request's cookies
// go out together (and, in a session, with the jar's).
BOOST_AUTO_TEST_CASE(one_cookie_field) {
  request req(url("/echo"));
  req.headers.set(http::field::cookie, "from=field");
  req.cookies = {{"a", "1"}, {"b", "2"}};
  fetch_result r = fetch(ctx, req);
  BOOST_TEST(count_lines_starting(r.resp.body, "Cookie:") == 1u);
  BOOST_TEST(r.resp.body.find("Cookie: from=field; a=1; b=2\n") != std::string::npos);

  session s(ctx);
  fetch_in(ctx, s, request(url("/cookie/set?jar=yes;Path=/")));
  fetch_result in_session = fetch_in(ctx, s, req);
  BOOST_TEST(count_lines_starting(in_session.resp.body, "Cookie:") == 1u);
  for (const char* part : {"jar=yes", "from=field", "a=1", "b=2"})
    BOOST_TEST(in_session.resp.body.find(part) != std::string::npos, part);
  // In a session the request's cookies are kept in the jar, for that host.
  std::size_t kept = 0;
  for (const cookie& c : s.cookies()) kept += (c.name == "a" || c.name == "b") && c.domain == "127.0.0.1";
  BOOST_TEST(kept == 2u);
  BOOST_TEST(fetch_in(ctx, s, request(url("/cookie/get"))).resp.body.find("a=1") != std::string::npos);
}

// In a session, cookies given with an https request go into the jar as secure cookies: the jar
// sends them again over https, never over cleartext to the same host. On 127.0.0.2: libcurl
// treats 127.0.0.1 and localhost as secure contexts even over http.
BOOST_AUTO_TEST_CASE(cookies_given_over_https_stay_off_cleartext) {
  tools::loopback_origin::options tls_options;
  tls_options.address = "127.0.0.2";
  tls_options.tls = true;
  tools::loopback_origin tls_origin(tls_options);
  tools::loopback_origin::options plain_options;
  plain_options.address = "127.0.0.2";
  tools::loopback_origin plain_origin(plain_options);
  auto over_tls = [&](std::string path) {
    request req(tls_origin.url(path));
    req.ca_file = tls_origin.ca_file();
    req.verify_host = false;  // the test certificate names 127.0.0.1
    return req;
  };
  session s(ctx);
  request given = over_tls("/echo");
  given.cookies = {{"sid", "s3cret"}};
  fetch_result first = fetch_in(ctx, s, std::move(given));
  BOOST_TEST_REQUIRE(!first.ec, first.resp.error_message);
  BOOST_TEST(first.resp.body.find("Cookie: sid=s3cret\n") != std::string::npos);
  bool secure = false;
  for (const cookie& c : s.cookies()) secure = secure || (c.name == "sid" && c.domain == "127.0.0.2" && c.secure);
  BOOST_TEST(secure);
  fetch_result again = fetch_in(ctx, s, over_tls("/echo"));
  BOOST_TEST(again.resp.body.find("Cookie: sid=s3cret\n") != std::string::npos);  // the jar sends it over https
  fetch_result clear = fetch_in(ctx, s, request(plain_origin.url("/echo")));
  BOOST_TEST_REQUIRE(!clear.ec, clear.resp.error_message);
  BOOST_TEST(clear.resp.body.find("s3cret") == std::string::npos);

  // Given over http, the cookie is not secure (and goes over https too).
  request plain(plain_origin.url("/echo"));
  plain.cookies = {{"pref", "dark"}};
  fetch_in(ctx, s, std::move(plain));
  BOOST_TEST(fetch_in(ctx, s, over_tls("/echo")).resp.body.find("pref=dark") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_cookies_are_refused) {
  for (auto bad : {std::pair<std::string, std::string>{"a;b", "1"}, {"a", "1;2"}, {"a b", "1"}, {"a", "x\r\ny"},
                   {"", "1"}, {"a", "1,2"}}) {
    request req(url("/echo"));
    req.cookies = {bad};
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST((r.ec == error::invalid_request));
    BOOST_TEST(!r.resp.error_message.empty());
  }
  BOOST_TEST(origin.requests_served() == 0u);
}

BOOST_AUTO_TEST_CASE(jar_as_values_round_trips) {
  session s(ctx);
  cookie c;
  c.name = "sid";
  c.value = "abc";
  c.domain = "example.com";
  c.path = "/app";
  c.include_subdomains = true;
  c.secure = true;
  c.http_only = true;
  c.expires = std::chrono::system_clock::time_point(std::chrono::seconds(4102444800));  // 2100-01-01
  BOOST_TEST(!s.add_cookie(c));
  cookie session_cookie;
  session_cookie.name = "plain";
  session_cookie.value = "1";
  session_cookie.domain = "127.0.0.1";
  BOOST_TEST(!s.add_cookie(session_cookie));
  const std::vector<cookie> jar = s.cookies();
  BOOST_TEST_REQUIRE(jar.size() == 2u);
  const cookie& back = jar[0].name == "sid" ? jar[0] : jar[1];
  BOOST_TEST((back == c));
  BOOST_TEST(back.to_netscape() == "#HttpOnly_.example.com\tTRUE\t/app\tTRUE\t4102444800\tsid\tabc");
  const cookie& other = jar[0].name == "plain" ? jar[0] : jar[1];
  BOOST_TEST((other == session_cookie));

  cookie bad = c;
  bad.value = "a;b";
  BOOST_TEST((s.add_cookie(bad) == error::invalid_request));
  bad = c;
  bad.domain.clear();
  BOOST_TEST((s.add_cookie(bad) == error::invalid_request));
  s.clear_cookies();
  BOOST_TEST(s.cookies().empty());
}

// A cookie the server deleted (Max-Age=0) is never listed, although libcurl keeps it until
// its next request to that host.
BOOST_AUTO_TEST_CASE(expired_cookies_are_not_listed) {
  session s(ctx);
  fetch_in(ctx, s, request(url("/cookie/set?gone=1")));
  fetch_in(ctx, s, request(url("/cookie/set?keep=1")));
  BOOST_TEST(s.cookies().size() == 2u);
  fetch_in(ctx, s, request(url("/cookie/set?gone=;Max-Age=0")));
  const auto jar = s.cookies();
  BOOST_TEST_REQUIRE(jar.size() == 1u);
  BOOST_TEST(jar[0].name == "keep");
}

// 1 000 sessions on one context, each with a cookie of its own value: every one sees its own
// cookie and nobody else's, in flight at the same time on shared multi handles.
BOOST_AUTO_TEST_CASE(cookie_isolation_across_a_thousand_sessions) {
  constexpr int n = 1000;
  std::vector<std::unique_ptr<session>> sessions;
  for (int i = 0; i < n; ++i) sessions.push_back(std::make_unique<session>(ctx));
  std::vector<fetch_result> set(n), got(n);
  for (int i = 0; i < n; ++i)
    sessions[i]->async_get(url("/cookie/set?user=" + std::to_string(i) + ";Path=/"), record(set[i]));
  run_bounded(ctx);
  for (int i = 0; i < n; ++i) sessions[i]->async_get(url("/cookie/get"), record(got[i]));
  run_bounded(ctx);
  int own = 0;
  for (int i = 0; i < n; ++i) own += got[i].resp.body == "user=" + std::to_string(i);
  BOOST_TEST(own == n);
  BOOST_TEST(fetch(ctx, request(url("/cookie/get"))).resp.body.empty());  // and none for no session
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(session_verbs_and_hook, origin_fixture)

BOOST_AUTO_TEST_CASE(verbs_apply_the_defaults) {
  session s(ctx);
  s.defaults().headers.set("X-Default", "d");
  std::vector<fetch_result> results(7);
  s.async_get(url("/echo"), record(results[0]));
  s.async_head(url("/echo"), record(results[1]));
  s.async_delete(url("/echo"), record(results[2]));
  s.async_options(url("/echo"), record(results[3]));
  s.async_post(url("/echo"), "p", record(results[4]));
  s.async_put(url("/echo"), "u", record(results[5]));
  s.async_patch(url("/echo"), "a", record(results[6]));
  run_bounded(ctx);
  const char* methods[] = {"GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"};
  const char* bodies[] = {"", "", "", "", "p", "u", "a"};
  for (int i = 0; i < 7; ++i) {
    BOOST_TEST_CONTEXT(methods[i]) {
      BOOST_TEST(!results[i].ec);
      if (i == 1) {
        BOOST_TEST(results[i].resp.body.empty());
        continue;
      }
      BOOST_TEST(results[i].resp.body.substr(0, std::strlen(methods[i]) + 1) == std::string(methods[i]) + " ");
      BOOST_TEST(results[i].resp.body.find("X-Default: d\n") != std::string::npos);
      const std::string& b = results[i].resp.body;
      BOOST_TEST(b.substr(b.size() - std::strlen(bodies[i])) == bodies[i]);
    }
  }
}

// The hook sees each hop with its own request (URL, method), then the final response, on the
// handler's executor (a strand here), right before the handler; also when the operation fails.
BOOST_AUTO_TEST_CASE(hook_sees_every_hop_on_the_handler_executor) {
  auto strand = asio::make_strand(ctx);
  session s(ctx);
  struct seen {
    std::string method, url;
    unsigned status;
    bool on_strand;
  };
  std::vector<seen> hooked;
  bool handler_ran_after_hook = false;
  s.on_response([&](const request& req, const response& resp) {
    hooked.push_back({std::string(req.custom_method.empty() ? std::string(http::to_string(req.method)) : req.custom_method),
                      req.url, resp.status_code(), strand.running_in_this_thread()});
  });
  const std::string final_url = url("/echo");
  request req(http::verb::post, url("/redirect-to?status=303&url=" + escape_for_query(final_url)));
  req.body = "data";
  req.follow_redirects = true;
  fetch_result r;
  s.async_fetch(std::move(req), asio::bind_executor(strand, [&](error_code ec, response resp) {
                  handler_ran_after_hook = hooked.size() == 2;
                  record(r)(ec, std::move(resp));
                }));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(hooked.size() == 2u);
  BOOST_TEST(hooked[0].method == "POST");
  BOOST_TEST(hooked[0].status == 303u);
  BOOST_TEST(hooked[1].method == "GET");
  BOOST_TEST(hooked[1].url == final_url);
  BOOST_TEST(hooked[1].status == 200u);
  BOOST_TEST(hooked[0].on_strand);
  BOOST_TEST(hooked[1].on_strand);
  BOOST_TEST(handler_ran_after_hook);

  hooked.clear();
  request loop(url("/redirect-loop"));
  loop.follow_redirects = true;
  loop.max_redirects = 2;
  fetch_result failed = fetch_in(ctx, s, std::move(loop));
  BOOST_TEST((failed.ec == condition::too_many_redirects));
  BOOST_TEST(hooked.size() == 3u);  // two hops, then the response that would have been the third

  s.on_response(nullptr);
  hooked.clear();
  fetch_in(ctx, s, request(url("/bytes/1")));
  BOOST_TEST(hooked.empty());
}

BOOST_AUTO_TEST_SUITE_END()
