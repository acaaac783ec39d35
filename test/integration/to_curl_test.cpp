// to_curl: the command line it writes, run by the real curl tool (/bin/sh, then curl), sends the
// request async_fetch sends: what the origin saw is compared byte for byte.

#include "test_support.hpp"

#include <origin/body_inspectors.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;

namespace {

bool have_curl_tool() { return std::system("curl --version >/dev/null 2>&1") == 0; }

// Runs `line` with /bin/sh and returns what it wrote to standard output.
std::string run_shell(const std::string& line) {
  std::string out;
  FILE* p = ::popen((line + " 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Every byte a value may hold that a shell could take for syntax.
const std::string nasty = "it's \"quoted\" $HOME `id` \\ $(echo x) ; & | < > * ? ! # ~ %s {a,b} \t\xc3\xa9\xff";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(to_curl_replays, origin_fixture)

BOOST_AUTO_TEST_CASE(same_request_as_async_fetch) {
  if (!have_curl_tool()) {
    BOOST_TEST_MESSAGE("no curl tool here: skipped");
    return;
  }
  std::vector<request> requests;
  {
    request r(http::verb::put, url("/echo"));
    r.add_query("q", nasty);
    r.headers.set("X-Nasty", nasty);
    r.headers.set("X-Empty", "");
    r.headers.set(http::field::cookie, "from=field");
    r.cookies = {{"a", "1"}, {"b", "x$y"}};
    r.body = nasty + "\nsecond line\n";
    r.auth = authentication::basic("ann", nasty);
    r.timeout = 20s;
    requests.push_back(std::move(r));
  }
  {
    request r(http::verb::post, url("/echo"));
    r.set_form({{"name", nasty}, {"x", "1"}});
    requests.push_back(std::move(r));
  }
  {
    request r(url("/echo"));
    r.custom_method = "PURGE";
    r.headers.set(http::field::user_agent, "agent/1 'quoted'");
    r.auth = authentication::bearer("t0k'en");
    requests.push_back(std::move(r));
  }
  {
    request r(http::verb::delete_, url("/redirect-to?url=%2Fecho&status=307"));
    r.follow_redirects = true;
    r.max_redirects = 3;
    r.version = http_version::http1_1;
    requests.push_back(std::move(r));
  }
  for (request& r : requests) {
    const std::string line = to_curl(r);
    BOOST_TEST_CONTEXT(line) {
      fetch_result ours = fetch(ctx, r);
      BOOST_TEST_REQUIRE(!ours.ec, ours.resp.error_message);
      BOOST_TEST(run_shell(line) == ours.resp.body);
    }
  }
}

BOOST_AUTO_TEST_CASE(binary_bodies_multipart_and_digest) {
  if (!have_curl_tool()) {
    BOOST_TEST_MESSAGE("no curl tool here: skipped");
    return;
  }
  std::string binary;
  for (int i = 0; i < 512; ++i) binary += static_cast<char>(i);  // every byte, NUL included
  request with_nul(http::verb::post, url("/hash"));
  with_nul.body = binary;
  const std::string line = to_curl(with_nul);
  BOOST_TEST(line.find("printf") == 0u);
  BOOST_TEST(run_shell(line) == fetch(ctx, with_nul).resp.body);

  const auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + " it's \"a\" file;.txt");
  std::ofstream(path, std::ios::binary) << nasty;
  multipart_form form;
  form.add_field("field", nasty).add_file("upload", path, "text/plain").add_data("blob", "b'lob.bin", binary);
  request mp(url("/multipart"));
  mp.set_multipart(form);
  const std::string mp_line = to_curl(mp);
  const std::string theirs = run_shell(mp_line);
  fetch_result ours = fetch(ctx, mp);
  std::filesystem::remove(path);
  BOOST_TEST_CONTEXT(mp_line) {
    BOOST_TEST(theirs == ours.resp.body);
    BOOST_TEST(ours.resp.body.find("complete") != std::string::npos);
  }

  request digest(url("/auth/digest/bob/pa'55"));
  digest.auth = authentication::digest("bob", "pa'55");
  BOOST_TEST(run_shell(to_curl(digest)) == "authenticated Digest");
  BOOST_TEST(fetch(ctx, digest).resp.body == "authenticated Digest");
}

BOOST_AUTO_TEST_CASE(what_one_command_cannot_say_is_refused) {
  request user_colon(url("/"));
  user_colon.auth = authentication::basic("a:b", "c");
  BOOST_CHECK_THROW(to_curl(user_colon), std::invalid_argument);
  multipart_form two;
  two.add_data("a", "a.bin", "1").add_data("b", "b.bin", "2");
  request r(url("/"));
  r.set_multipart(two);
  BOOST_CHECK_THROW(to_curl(r), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
