// What goes on the wire and what comes back: methods, fields, bodies, redirects, metadata.

#include "test_support.hpp"

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;

BOOST_FIXTURE_TEST_SUITE(http_exchange, origin_fixture)

BOOST_AUTO_TEST_CASE(post_sends_body_and_fields_verbatim) {
  request req(http::verb::post, url("/echo"));
  req.headers.set("X-Token", "abc");
  req.headers.set(http::field::content_type, "application/json");
  req.body = std::string(3000, 'b');  // larger than libcurl's Expect: 100-continue threshold
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(!r.ec);
  const std::string& echo = r.resp.body;
  BOOST_TEST(echo.rfind("POST /echo\n", 0) == 0u);
  BOOST_TEST(echo.find("X-Token: abc\n") != std::string::npos);
  BOOST_TEST(echo.find("Content-Type: application/json\n") != std::string::npos);
  BOOST_TEST(echo.find("Content-Length: 3000\n") != std::string::npos);
  BOOST_TEST(echo.find("Expect") == std::string::npos);  // no 100-continue round trip
  BOOST_TEST(echo.substr(echo.size() - 3000) == std::string(3000, 'b'));
}

BOOST_AUTO_TEST_CASE(body_without_content_type_gets_none_invented) {
  request req(http::verb::put, url("/echo"));
  req.body = "x=1";
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(r.resp.body.rfind("PUT /echo\n", 0) == 0u);
  BOOST_TEST(r.resp.body.find("Content-Type") == std::string::npos);
  BOOST_TEST(r.resp.body.substr(r.resp.body.size() - 3) == "x=1");
}

BOOST_AUTO_TEST_CASE(methods_reach_the_server) {
  for (http::verb v : {http::verb::get, http::verb::delete_, http::verb::patch, http::verb::options}) {
    request req(v, url("/echo"));
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_CONTEXT(http::to_string(v)) {
      BOOST_TEST(r.resp.body.rfind(std::string(http::to_string(v)) + " /echo\n", 0) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(head_gets_headers_without_body) {
  fetch_result r = fetch(ctx, request(http::verb::head, url("/bytes/1000")));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body.empty());
  BOOST_TEST(r.resp.headers[http::field::content_length] == "1000");
}

BOOST_AUTO_TEST_CASE(empty_field_value_is_sent) {
  request req(url("/echo"));
  req.headers.set("X-Empty", "");
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(r.resp.body.find("X-Empty: \n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(repeated_response_fields_are_kept) {
  fetch_result r = fetch(ctx, request(url("/headers")));
  auto range = r.resp.headers.equal_range("X-Multi");
  std::vector<std::string> values;
  for (auto it = range.first; it != range.second; ++it) values.emplace_back(it->value());
  BOOST_TEST(values == (std::vector<std::string>{"one", "two"}), boost::test_tools::per_element());
  BOOST_TEST(r.resp.headers.count(http::field::set_cookie) == 2u);
  BOOST_TEST(r.resp.headers.count("X-Empty") == 1u);
}

BOOST_AUTO_TEST_CASE(response_metadata) {
  fetch_result r = fetch(ctx, request(url("/bytes/10")));
  BOOST_TEST(r.resp.version == 11u);
  BOOST_TEST(r.resp.effective_url == url("/bytes/10"));
  BOOST_TEST(r.resp.primary_ip == "127.0.0.1");
  BOOST_TEST(r.resp.primary_port == origin.port());
  BOOST_TEST(r.resp.time.total.count() > 0);
  BOOST_TEST(r.resp.time.first_byte <= r.resp.time.total);
  BOOST_TEST(r.resp.error_message.empty());
}

BOOST_AUTO_TEST_CASE(chunked_and_large_bodies_arrive_intact) {
  fetch_result a = fetch(ctx, request(url("/chunked/12345")));
  BOOST_TEST(a.resp.body.size() == 12345u);
  BOOST_TEST(has_origin_pattern(a.resp.body));
  fetch_result b = fetch(ctx, request(url("/bytes/10000000")));
  BOOST_TEST(b.resp.body.size() == 10000000u);
  BOOST_TEST(has_origin_pattern(b.resp.body));
}

BOOST_AUTO_TEST_CASE(slow_body_in_pieces) {
  fetch_result r = fetch(ctx, request(url("/slow-body/5/20")));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body.size() == 5000u);
}

BOOST_AUTO_TEST_CASE(redirects_not_followed_by_default) {
  fetch_result r = fetch(ctx, request(url("/redirect/2")));
  BOOST_TEST(r.resp.status_code() == 302u);
  BOOST_TEST(r.resp.headers[http::field::location] == "/redirect/1");
}

BOOST_AUTO_TEST_CASE(redirects_followed_when_asked) {
  request req(url("/redirect/3"));
  req.follow_redirects = true;
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.status_code() == 200u);
  BOOST_TEST(r.resp.body == "done");
  BOOST_TEST(r.resp.redirect_count == 3);
  BOOST_TEST(r.resp.effective_url == url("/redirect/0"));
  BOOST_TEST(r.resp.headers.count(http::field::location) == 0u);  // only the final response's fields
}

BOOST_AUTO_TEST_CASE(same_url_again_after_a_followed_redirect) {
  // The pooled easy handle keeps the URL it was given (not set again when unchanged): the
  // second request must start from it, not from where the first one's redirects ended.
  request req(url("/redirect/2"));
  req.follow_redirects = true;
  for (int i = 0; i < 2; ++i) {
    fetch_result r = fetch(ctx, req);
    BOOST_TEST(r.resp.redirect_count == 2);
    BOOST_TEST(r.resp.effective_url == url("/redirect/0"));
  }
  fetch_result plain = fetch(ctx, request(url("/redirect/2")));  // same URL, not followed
  BOOST_TEST(plain.resp.status_code() == 302u);
  BOOST_TEST(plain.resp.effective_url == url("/redirect/2"));
  BOOST_TEST(service().statistics().transfers_started == 3u);
}

// On a redirect to another origin (another port counts) the request's credentials and cookies
// stay behind, and so does every field that may carry one: only content-negotiation and
// caching fields go on (libcurl 7.88 alone dropped Authorization and Cookie but sent
// X-Api-Key and Proxy-Authorization). Within the same origin everything goes on.
BOOST_AUTO_TEST_CASE(fields_sent_to_another_host_on_redirect) {
  tools::loopback_origin other;
  auto with_credentials = [](std::string u) {
    request req(std::move(u));
    req.follow_redirects = true;
    req.auth = authentication::basic("ann", "pw");
    req.headers.set(http::field::authorization, "Bearer secret-token");
    req.headers.set(http::field::cookie, "session=secret");
    req.headers.set("X-Api-Key", "secret-key");
    req.headers.set(http::field::proxy_authorization, "Basic c2VjcmV0");
    req.headers.set(http::field::accept, "text/plain");
    req.headers.set(http::field::user_agent, "agent/1");
    req.cookies = {{"c", "v"}};
    return req;
  };
  fetch_result r = fetch(ctx, with_credentials(url("/redirect-to?url=" + escape_for_query(other.url("/echo")))));
  BOOST_TEST_REQUIRE(!r.ec);
  BOOST_TEST(r.resp.effective_url == other.url("/echo"));
  const std::string& seen = r.resp.body;
  for (const char* secret : {"secret-token", "session=secret", "secret-key", "c2VjcmV0", "c=v", "Authorization"})
    BOOST_TEST(seen.find(secret) == std::string::npos, secret);
  BOOST_TEST(seen.find("Accept: text/plain\n") != std::string::npos);
  BOOST_TEST(seen.find("User-Agent: agent/1\n") != std::string::npos);

  fetch_result same = fetch(ctx, with_credentials(url("/redirect-to?url=%2Fecho")));
  BOOST_TEST_REQUIRE(!same.ec);
  BOOST_TEST(same.resp.body.find("X-Api-Key: secret-key\n") != std::string::npos);
  BOOST_TEST(same.resp.body.find("session=secret") != std::string::npos);
  BOOST_TEST(same.resp.body.find("Authorization: Bearer secret-token\n") != std::string::npos);
}

// A 307 or 308 to another origin re-sends the body there (RFC 9110 keeps method and body; what
// libcurl and browsers do), with the fields that describe it, and without the credentials:
// doc/security.md lists it, and `protocols` or not following redirects are the ways out. A 303
// turns it into a GET without a body.
BOOST_AUTO_TEST_CASE(a_307_to_another_origin_sends_the_body_there) {
  tools::loopback_origin other;
  for (const unsigned status : {307u, 308u, 303u}) {
    request req(url("/redirect-to?status=" + std::to_string(status) + "&url=" + escape_for_query(other.url("/echo"))));
    req.follow_redirects = true;
    req.method = http::verb::post;
    req.body = "payload";
    req.headers.set(http::field::content_type, "text/x-payload");
    req.auth = authentication::basic("ann", "pw");
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_CONTEXT(status) {
      BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
      BOOST_TEST(r.resp.effective_url == other.url("/echo"));
      const bool kept = status != 303;
      BOOST_TEST(r.resp.body.rfind(kept ? "POST /echo\n" : "GET /echo\n", 0) == 0);
      BOOST_TEST((r.resp.body.find("\n\npayload") != std::string::npos) == kept);
      BOOST_TEST((r.resp.body.find("Content-Type: text/x-payload\n") != std::string::npos) == kept);
      BOOST_TEST(r.resp.body.find("Authorization") == std::string::npos);
    }
  }
  BOOST_TEST(other.requests_served() == 3u);
}

// Cleartext with the default version is HTTP/1.1: a second concurrent request must not wait
// for the first one's response to learn whether the connection multiplexes (which
// CURLOPT_PIPEWAIT would make it do).
BOOST_AUTO_TEST_CASE(concurrent_cleartext_requests_do_not_wait_for_each_other) {
  fetch_result slow, quick;
  bool quick_first = false;
  async_fetch(ctx, request(url("/delay/1000")), record(slow));
  async_fetch(ctx, request(url("/bytes/1")), [&](error_code ec, response r) {
    quick_first = !slow.done;
    record(quick)(ec, std::move(r));
  });
  run_bounded(ctx);
  BOOST_TEST(quick_first);
  BOOST_TEST(slow.resp.body == "delayed");
  BOOST_TEST(origin.connections_accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(redirect_loop_is_an_error) {
  request req(url("/redirect-loop"));
  req.follow_redirects = true;
  req.max_redirects = 5;
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST((r.ec == condition::too_many_redirects));
  BOOST_TEST(r.resp.redirect_count == 5);
}

BOOST_AUTO_TEST_CASE(redirect_to_disallowed_scheme_is_refused) {
  request req(url("/redirect-to?url=file%3A%2F%2F%2Fetc%2Fpasswd"));
  req.follow_redirects = true;
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(r.ec);
  BOOST_TEST((r.ec == condition::invalid_url));
  BOOST_TEST(r.resp.body.find("root:") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_codes_are_responses_not_errors) {
  for (unsigned code : {201u, 404u, 500u, 599u}) {
    fetch_result r = fetch(ctx, request(url("/status/" + std::to_string(code))));
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.resp.status_code() == code);
  }
}

BOOST_AUTO_TEST_CASE(cookies_header_round_trip) {
  request req(url("/cookie/get"));
  req.headers.set(http::field::cookie, "k=v");
  BOOST_TEST(fetch(ctx, std::move(req)).resp.body == "k=v");
}

BOOST_AUTO_TEST_SUITE_END()

// Transfers (and their easy handles) are pooled and only the options that differ from the
// previous request are changed: nothing of one request may leak into the next.
BOOST_FIXTURE_TEST_SUITE(pooled_transfers, origin_fixture)

BOOST_AUTO_TEST_CASE(options_do_not_leak_between_requests) {
  // Sequential, so every request reuses the same pooled transfer.
  request post(http::verb::post, url("/echo"));
  post.body = "payload";
  post.headers.set("X-One", "1");
  post.timeout = 5s;
  BOOST_TEST(fetch(ctx, std::move(post)).resp.body.rfind("POST /echo\n", 0) == 0u);

  fetch_result get = fetch(ctx, request(url("/echo")));
  BOOST_TEST(get.resp.body.rfind("GET /echo\n", 0) == 0u);
  BOOST_TEST(get.resp.body.find("X-One") == std::string::npos);
  BOOST_TEST(get.resp.body.find("payload") == std::string::npos);
  BOOST_TEST(get.resp.body.find("Content-Length") == std::string::npos);

  BOOST_TEST(fetch(ctx, request(http::verb::head, url("/bytes/100"))).resp.body.empty());
  BOOST_TEST(fetch(ctx, request(url("/bytes/100"))).resp.body.size() == 100u);  // NOBODY cleared

  request del(http::verb::delete_, url("/echo"));
  BOOST_TEST(fetch(ctx, std::move(del)).resp.body.rfind("DELETE /echo\n", 0) == 0u);
  BOOST_TEST(fetch(ctx, request(url("/echo"))).resp.body.rfind("GET /echo\n", 0) == 0u);  // custom method cleared

  request follow(url("/redirect/1"));
  follow.follow_redirects = true;
  BOOST_TEST(fetch(ctx, std::move(follow)).resp.status_code() == 200u);
  BOOST_TEST(fetch(ctx, request(url("/redirect/1"))).resp.status_code() == 302u);  // following cleared

  request limited(url("/bytes/5000"));
  limited.max_body_size = 100;
  BOOST_TEST((fetch(ctx, std::move(limited)).ec == error::body_too_large));
  BOOST_TEST(fetch(ctx, request(url("/bytes/5000"))).resp.body.size() == 5000u);  // limit cleared

  request short_timeout(url("/delay/300"));
  short_timeout.timeout = 50ms;
  BOOST_TEST((fetch(ctx, std::move(short_timeout)).ec == condition::timeout));
  BOOST_TEST(!fetch(ctx, request(url("/delay/300"))).ec);  // timeout cleared

  request file("file:///proc/self/status");
  file.protocols = "file";
  BOOST_TEST(!fetch(ctx, std::move(file)).ec);
  BOOST_TEST((fetch(ctx, request("file:///proc/self/status")).ec == condition::invalid_url));  // protocols restored

  BOOST_TEST(service().statistics().transfers_started == 14u);
}

BOOST_AUTO_TEST_CASE(explicit_proxy_is_used_and_dropped_again) {
  // The origin stands in for a forward proxy: it routes the absolute-form target by its path.
  request via_proxy(url("/echo").replace(0, url("").size(), "http://proxied.invalid"));
  via_proxy.proxy = origin.base_url();
  fetch_result r = fetch(ctx, via_proxy);
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body.rfind("GET http://proxied.invalid/echo\n", 0) == 0u);
  BOOST_TEST(r.resp.body.find("Host: proxied.invalid\n") != std::string::npos);
  // The same pooled easy handle, now without a proxy: straight to a host that does not resolve.
  request direct = via_proxy;
  direct.proxy.clear();
  fetch_result d = fetch(ctx, direct);
  BOOST_TEST((d.ec == condition::name_resolution_failed));
  // And a proxy again.
  BOOST_TEST(!fetch(ctx, via_proxy).ec);
  BOOST_TEST(service().statistics().transfers_started == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
