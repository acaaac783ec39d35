// Through real proxies started by with_proxies.sh on loopback: tinyproxy as an HTTP proxy (plain
// requests forwarded, HTTPS tunnelled with CONNECT) and microsocks as a SOCKS5 proxy, with and
// without credentials. The targets are the in-process origins (HTTP, and HTTPS with its own CA).

#define BOOST_TEST_MODULE boost_curl_proxies
#include "test_support.hpp"

#include <cstdlib>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  BOOST_TEST_REQUIRE(v != nullptr, name << " is not set: run this through test/proxies/with_proxies.sh");
  return v;
}
std::string http_proxy() { return "http://127.0.0.1:" + env("BOOST_CURL_HTTP_PROXY_PORT"); }
unsigned short port_of(const char* name) { return static_cast<unsigned short>(std::stoi(env(name))); }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(proxies, origin_fixture)

BOOST_AUTO_TEST_CASE(http_proxy_forwards_plain_requests) {
  request req(url("/echo"));
  req.proxy = http_proxy();
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
  BOOST_TEST(r.resp.body.find("Via: ") != std::string::npos);  // the proxy's mark
  BOOST_TEST(r.resp.primary_port == port_of("BOOST_CURL_HTTP_PROXY_PORT"));
  // Without the proxy, no Via: the field above came from tinyproxy.
  BOOST_TEST(fetch(ctx, request(url("/echo"))).resp.body.find("Via: ") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(https_through_connect) {
  tools::loopback_origin::options options;
  options.tls = true;
  tools::loopback_origin tls(options);
  request req(tls.url("/bytes/5"));
  req.ca_file = tls.ca_file();
  req.proxy = http_proxy();
  fetch_result r = fetch(ctx, req);
  BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
  BOOST_TEST(r.resp.body == "01234");
  BOOST_TEST(r.resp.primary_port == port_of("BOOST_CURL_HTTP_PROXY_PORT"));
  BOOST_TEST(tls.connections_accepted() == 1u);  // the tunnel reached it
  req.verify_peer = true;
  req.ca_file.clear();  // and verification still happens end to end, through the tunnel
  BOOST_TEST((fetch(ctx, std::move(req)).ec == condition::tls_failed));
}

BOOST_AUTO_TEST_CASE(socks5_with_and_without_credentials) {
  request plain(url("/bytes/3"));
  plain.proxy = "socks5://127.0.0.1:" + env("BOOST_CURL_SOCKS_PORT");
  fetch_result r = fetch(ctx, plain);
  BOOST_TEST_REQUIRE(!r.ec, r.resp.error_message);
  BOOST_TEST(r.resp.body == "012");
  BOOST_TEST(r.resp.primary_port == port_of("BOOST_CURL_SOCKS_PORT"));

  request remote_dns("http://localhost:" + std::to_string(origin.port()) + "/bytes/2");
  remote_dns.proxy = "socks5h://127.0.0.1:" + env("BOOST_CURL_SOCKS_PORT");  // the proxy resolves
  BOOST_TEST(fetch(ctx, remote_dns).resp.body == "01");

  request authenticated(url("/bytes/4"));
  authenticated.proxy = "socks5://proxyuser:proxypass@127.0.0.1:" + env("BOOST_CURL_SOCKS_AUTH_PORT");
  BOOST_TEST(fetch(ctx, authenticated).resp.body == "0123");
  authenticated.proxy = "socks5://proxyuser:wrong@127.0.0.1:" + env("BOOST_CURL_SOCKS_AUTH_PORT");
  fetch_result refused = fetch(ctx, authenticated);
  BOOST_TEST(refused.ec);
  BOOST_TEST(!refused.resp.error_message.empty());
}

BOOST_AUTO_TEST_SUITE_END()
