#include <boost_curl/response_headers.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using boost_curl::response_headers;
namespace http = boost_curl::http;

namespace {
const std::string block =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "X-Multi: one\r\n"
    "x-multi:  two \t\r\n"
    "X-Empty:\r\n"
    " folded continuation\r\n"
    "no colon here\r\n"
    "ETag: \"abc:def\"\r\n"
    "\r\n";

std::vector<std::string> values(const response_headers& h, std::string_view name) {
  std::vector<std::string> out;
  auto [first, last] = h.equal_range(name);
  for (auto it = first; it != last; ++it) out.emplace_back(it->value());
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(response_headers_parsing)

BOOST_AUTO_TEST_CASE(parses_fields_in_order_and_keeps_repeats) {
  const response_headers h(block);
  BOOST_TEST(h[http::field::content_type] == "text/plain");
  BOOST_TEST(h["etag"] == "\"abc:def\"");  // only the first colon separates
  BOOST_TEST(values(h, "X-Multi") == (std::vector<std::string>{"one", "two"}), boost::test_tools::per_element());
  BOOST_TEST(h.count("X-Empty") == 1u);
  BOOST_TEST(h.count("no colon here") == 0u);
  BOOST_TEST((h.find(" folded continuation") == h.end()));
  BOOST_TEST(h["X-Empty"] == "folded continuation");  // an obsolete fold joins its line with a space
  std::vector<std::string> names;
  for (const auto& f : h) names.emplace_back(f.name_string());
  BOOST_TEST(names == (std::vector<std::string>{"Content-Type", "X-Multi", "x-multi", "X-Empty", "ETag"}),
             boost::test_tools::per_element());
  BOOST_TEST((h.begin()->name() == http::field::content_type));  // known names keep their enum
  BOOST_TEST(h.raw() == block);
}

BOOST_AUTO_TEST_CASE(empty_value_and_folds) {
  const response_headers h("HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Fold: a\r\n \t b\r\n\tc\r\nX-After: 1\r\n\r\n");
  BOOST_TEST(h.count("X-Empty") == 1u);
  BOOST_TEST(h["X-Empty"] == "");
  BOOST_TEST(h["X-Fold"] == "a b c");
  BOOST_TEST(h["X-After"] == "1");
  const response_headers lf("HTTP/1.1 200 OK\nX-Fold: a\n b\nX-After: 1\n\n");  // bare LF line ends
  BOOST_TEST(lf["X-Fold"] == "a b");
  BOOST_TEST(lf["X-After"] == "1");
}

BOOST_AUTO_TEST_CASE(fields_too_large_for_beast_are_skipped_not_thrown) {
  // Beast cannot hold a value of 65 534 bytes or more; libcurl accepts lines up to 100 KiB.
  const std::string huge(70000, 'v');
  const response_headers h("HTTP/1.1 200 OK\r\nX-Before: 1\r\nX-Huge: " + huge + "\r\nX-After: 2\r\n\r\n");
  BOOST_TEST(h["X-Before"] == "1");
  BOOST_TEST(h["X-After"] == "2");
  BOOST_TEST(h.count("X-Huge") == 0u);
  BOOST_TEST(h.raw().find(huge) != std::string_view::npos);  // still in the block as received
  // The exact limit: Beast takes 65 533 bytes and throws at 65 534.
  const response_headers edge("HTTP/1.1 200 OK\r\nX-Max: " + std::string(65533, 'm') + "\r\nX-Over: " +
                              std::string(65534, 'o') + "\r\n\r\n");
  BOOST_TEST(edge["X-Max"].size() == 65533u);
  BOOST_TEST(edge.count("X-Over") == 0u);
}

BOOST_AUTO_TEST_CASE(empty_and_default) {
  const response_headers none;
  BOOST_TEST(none.empty());
  BOOST_TEST(none.raw().empty());
  const response_headers status_only("HTTP/1.1 204 No Content\r\n\r\n");
  BOOST_TEST(status_only.empty());
}

BOOST_AUTO_TEST_CASE(copies_and_moves_parsed_or_not) {
  response_headers a(block);
  response_headers b(a);  // copied before either parsed
  BOOST_TEST(b[http::field::content_type] == "text/plain");
  BOOST_TEST(a[http::field::content_type] == "text/plain");
  response_headers c(std::move(a));  // moved after parsing
  BOOST_TEST(c.count("X-Multi") == 2u);
  BOOST_TEST(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  response_headers d(block);
  response_headers e(std::move(d));  // moved before parsing
  BOOST_TEST(e["ETag"] == "\"abc:def\"");
  response_headers f;
  f = e;
  BOOST_TEST(f.count("X-Multi") == 2u);
  f = response_headers("HTTP/1.1 200 OK\r\nA: 1\r\n");
  BOOST_TEST(f["A"] == "1");
  BOOST_TEST(f.count("X-Multi") == 0u);
}

BOOST_AUTO_TEST_CASE(edits_are_kept_by_copies) {
  response_headers h(block);
  h.fields().set("X-Added", "yes");
  h.fields().erase(http::field::content_type);
  const response_headers copy(h);
  BOOST_TEST(copy["X-Added"] == "yes");
  BOOST_TEST(copy.count(http::field::content_type) == 0u);
  BOOST_TEST(copy.raw() == block);  // raw() stays what was received
}

BOOST_AUTO_TEST_CASE(first_parse_from_many_threads_at_once) {
  // Const access is thread-safe: one parse, every reader sees it complete (TSan checks).
  for (int round = 0; round < 20; ++round) {
    const response_headers h(block);
    std::atomic<int> good{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t)
      readers.emplace_back([&] {
        if (h.count("X-Multi") == 2u && h[http::field::content_type] == "text/plain") ++good;
      });
    for (auto& r : readers) r.join();
    BOOST_TEST(good.load() == 4);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(response_headers_edits)

BOOST_AUTO_TEST_CASE(fields_added_to_an_empty_set_survive_moves) {
  response_headers h;
  h.fields().set("A", "1");
  response_headers moved(std::move(h));
  BOOST_TEST(moved["A"] == "1");
  response_headers assigned;
  assigned = std::move(moved);
  BOOST_TEST(assigned["A"] == "1");
  assigned = response_headers();
  BOOST_TEST(assigned.empty());
}

BOOST_AUTO_TEST_SUITE_END()
