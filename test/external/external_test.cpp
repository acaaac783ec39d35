// Against a real server (nginx, started by with_nginx.sh): HTTP/2 over TLS with ALPN,
// certificate verification, cleartext HTTP/2 with prior knowledge.

#define BOOST_TEST_MODULE boost_curl_external
#include "test_support.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  BOOST_TEST_REQUIRE(v != nullptr, name << " is not set: run this through test/external/with_nginx.sh");
  return v;
}

struct nginx_fixture {
  asio::io_context ctx;
  std::string https(std::string_view path) { return "https://localhost:" + env("BOOST_CURL_NGINX_HTTPS_PORT") + std::string(path); }
  std::string h2c(std::string_view path) { return "http://127.0.0.1:" + env("BOOST_CURL_NGINX_H2C_PORT") + std::string(path); }
  request trusted(std::string url) {
    request req(std::move(url));
    req.ca_file = env("BOOST_CURL_NGINX_CA");
    return req;
  }
  curl_service& service() { return asio::use_service<curl_service>(ctx); }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(tls, nginx_fixture)

BOOST_AUTO_TEST_CASE(self_signed_certificate_is_refused_by_default) {
  fetch_result r = fetch(ctx, request(https("/100b")));
  BOOST_TEST((r.ec == condition::tls_failed));
  BOOST_TEST(!r.resp.error_message.empty());
  BOOST_TEST(r.resp.body.empty());
}

BOOST_AUTO_TEST_CASE(trusted_with_ca_file_and_http2_by_alpn) {
  fetch_result r = fetch(ctx, trusted(https("/100b")));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.status_code() == 200u);
  BOOST_TEST(r.resp.version == 20u);
  BOOST_TEST(r.resp.body == std::string(100, 'a'));
  BOOST_TEST(r.resp.time.tls_handshake.count() > 0);
}

BOOST_AUTO_TEST_CASE(host_name_must_match_the_certificate) {
  // The certificate names only "localhost".
  const std::string by_ip = "https://127.0.0.1:" + env("BOOST_CURL_NGINX_HTTPS_PORT") + "/100b";
  BOOST_TEST((fetch(ctx, trusted(by_ip)).ec == condition::tls_failed));
  request lax = trusted(by_ip);
  lax.verify_host = false;
  BOOST_TEST(!fetch(ctx, std::move(lax)).ec);
}

BOOST_AUTO_TEST_CASE(verification_off_only_when_asked) {
  request req(https("/100b"));
  req.verify_peer = false;
  BOOST_TEST(!fetch(ctx, std::move(req)).ec);
  BOOST_TEST((fetch(ctx, request(https("/100b"))).ec == condition::tls_failed));  // back on by default
}

BOOST_AUTO_TEST_CASE(http1_1_when_asked) {
  request req = trusted(https("/100b"));
  req.version = http_version::http1_1;
  BOOST_TEST(fetch(ctx, std::move(req)).resp.version == 11u);
}

BOOST_AUTO_TEST_CASE(many_concurrent_streams_over_tls) {
  std::vector<fetch_result> results(100);
  for (auto& r : results) async_fetch(ctx, trusted(https(&r == &results[0] ? "/1m" : "/100b")), record(r));
  run_bounded(ctx);
  BOOST_TEST(results[0].resp.body.size() == 1048576u);
  for (auto& r : results) {
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.resp.version == 20u);
  }
}

BOOST_AUTO_TEST_CASE(http2_requests_share_connections) {
  // Asked for HTTP/2, concurrent requests wait for the first connection and multiplex on it
  // (one connection per multi handle: 64 transfers each by default).
  std::vector<fetch_result> results(100);
  for (auto& r : results) {
    request req = trusted(https("/100b"));
    req.version = http_version::http2;
    async_fetch(ctx, std::move(req), record(r));
  }
  run_bounded(ctx);
  for (auto& r : results) BOOST_TEST(!r.ec);
  BOOST_TEST(service().statistics().sockets_opened <= service().statistics().multi_handles * 2);
}

// With the default version, HTTP/2 is negotiated by ALPN; concurrent requests must wait for
// the first connection's handshake and share it, as `curl -Z` does (CURLOPT_PIPEWAIT), not
// open one TLS connection each.
BOOST_AUTO_TEST_CASE(default_version_multiplexes_concurrent_requests) {
  std::vector<fetch_result> results(16);
  for (auto& r : results) async_fetch(ctx, trusted(https("/100b")), record(r));
  run_bounded(ctx);
  for (auto& r : results) {
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.resp.version == 20u);
  }
  BOOST_TEST(service().statistics().sockets_opened == 1u);
}

// HTTP/1.1 over TLS (asked for): concurrent requests still get a connection each, after
// waiting at most for the first handshake.
BOOST_AUTO_TEST_CASE(http1_over_tls_still_opens_connections_in_parallel) {
  std::vector<fetch_result> results(8);
  for (auto& r : results) {
    request req = trusted(https("/100b"));
    req.version = http_version::http1_1;
    async_fetch(ctx, std::move(req), record(r));
  }
  run_bounded(ctx);
  for (auto& r : results) BOOST_TEST(r.resp.version == 11u);
  BOOST_TEST(service().statistics().sockets_opened == 8u);
}

BOOST_AUTO_TEST_CASE(post_over_http2) {
  request req = trusted(https("/echo"));
  req.method = http::verb::post;
  req.body = "data";
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body == "ok");
}

BOOST_AUTO_TEST_SUITE_END()

// TLS options against nginx: client certificates (files, in memory, encrypted key), CA
// directory and in-memory bundle, public key pinning, minimum TLS version.
BOOST_FIXTURE_TEST_SUITE(tls_options, nginx_fixture)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

BOOST_AUTO_TEST_CASE(client_certificates) {
  const std::string url = "https://localhost:" + env("BOOST_CURL_NGINX_MTLS_PORT") + "/whoami";
  fetch_result none = fetch(ctx, trusted(url));
  BOOST_TEST(none.resp.status_code() == 400u);  // nginx: "No required SSL certificate was sent"

  request files = trusted(url);
  files.client_cert = env("BOOST_CURL_NGINX_CLIENT_CERT");
  files.client_key = env("BOOST_CURL_NGINX_CLIENT_KEY");
  fetch_result by_file = fetch(ctx, files);
  BOOST_TEST(!by_file.ec, by_file.resp.error_message);
  BOOST_TEST(by_file.resp.body == "CN=client");

  request memory = trusted(url);
  memory.client_cert_pem = read_file(env("BOOST_CURL_NGINX_CLIENT_CERT"));
  memory.client_key_pem = read_file(env("BOOST_CURL_NGINX_CLIENT_KEY"));
  BOOST_TEST(fetch(ctx, memory).resp.body == "CN=client");

  request encrypted = trusted(url);
  encrypted.client_cert = env("BOOST_CURL_NGINX_CLIENT_CERT");
  encrypted.client_key = env("BOOST_CURL_NGINX_CLIENT_KEY_ENCRYPTED");
  encrypted.key_password = "hunter2";
  BOOST_TEST(fetch(ctx, encrypted).resp.body == "CN=client");
  encrypted.key_password = "wrong";
  encrypted.set_curl_option(CURLOPT_FRESH_CONNECT, 1);  // the key password is no part of connection reuse
  fetch_result bad_password = fetch(ctx, encrypted);
  BOOST_TEST(bad_password.ec);
  BOOST_TEST(!bad_password.resp.error_message.empty(), bad_password.ec.message() << " / " << bad_password.ec.category().name() << " " << bad_password.ec.value());

  // The pooled handle that had a client certificate forgets it.
  BOOST_TEST(fetch(ctx, trusted(url)).resp.status_code() == 400u);
}

BOOST_AUTO_TEST_CASE(ca_directory_and_in_memory_bundle) {
  request dir(https("/100b"));
  dir.ca_path = env("BOOST_CURL_NGINX_CA_DIR");
  fetch_result by_dir = fetch(ctx, dir);
  BOOST_TEST(!by_dir.ec, by_dir.resp.error_message);

  request memory(https("/100b"));
  memory.ca_pem = read_file(env("BOOST_CURL_NGINX_CA"));
  fetch_result by_memory = fetch(ctx, memory);
  BOOST_TEST(!by_memory.ec, by_memory.resp.error_message);
  BOOST_TEST((fetch(ctx, request(https("/100b"))).ec == condition::tls_failed));  // not kept
}

BOOST_AUTO_TEST_CASE(pinned_public_key) {
  request pinned = trusted(https("/100b"));
  pinned.pinned_public_key = env("BOOST_CURL_NGINX_PIN");
  BOOST_TEST(!fetch(ctx, pinned).ec);
  pinned.pinned_public_key = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  fetch_result wrong = fetch(ctx, pinned);
  BOOST_TEST(wrong.ec);
  BOOST_TEST(!wrong.resp.error_message.empty());
}

BOOST_AUTO_TEST_CASE(minimum_tls_version) {
  request req = trusted("https://localhost:" + env("BOOST_CURL_NGINX_TLS12_PORT") + "/100b");
  BOOST_TEST(!fetch(ctx, req).ec);
  req.min_tls_version = tls_version::tls1_3;
  BOOST_TEST((fetch(ctx, req).ec == condition::tls_failed));
  req.min_tls_version = tls_version::tls1_2;
  BOOST_TEST(!fetch(ctx, req).ec);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(h2c, nginx_fixture)

// libcurl 7.88 breaks reused h2c prior-knowledge connections (curl#10634); boost_curl works
// around it, so sequential and concurrent requests all succeed.
BOOST_AUTO_TEST_CASE(prior_knowledge_sequential_and_concurrent) {
  for (int i = 0; i < 10; ++i) {
    request req(h2c("/100b"));
    req.version = http_version::http2_prior_knowledge;
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_CONTEXT("sequential " << i) {
      BOOST_TEST(!r.ec);
      BOOST_TEST(r.resp.version == 20u);
    }
  }
  std::vector<fetch_result> results(50);
  for (auto& r : results) {
    request req(h2c("/100b"));
    req.version = http_version::http2_prior_knowledge;
    async_fetch(ctx, std::move(req), record(r));
  }
  run_bounded(ctx);
  for (auto& r : results) BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_SUITE_END()
