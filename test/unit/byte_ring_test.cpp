// byte_ring: the FIFO a stream keeps its bytes in (src/detail/byte_ring.hpp).

#include "byte_ring.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using boost_curl::detail::byte_ring;

BOOST_AUTO_TEST_SUITE(byte_ring_fifo)

BOOST_AUTO_TEST_CASE(empty_ring_holds_nothing_and_takes_nothing) {
  byte_ring r;
  char out[4] = {};
  BOOST_TEST(r.take(out, sizeof out) == 0u);
  BOOST_TEST(r.capacity() == 0u);
  r.append("", 0);
  BOOST_TEST(r.size() == 0u);
}

// Bytes come out in the order they went in, across the wrap-around and across growth with a
// wrapped content, whatever the sizes of the pieces.
BOOST_AUTO_TEST_CASE(order_kept_across_wrap_and_growth) {
  byte_ring r;
  std::string in, out;
  unsigned next = 0;
  auto produce = [&](std::size_t n) {
    std::string piece;
    for (std::size_t i = 0; i < n; ++i) piece.push_back(static_cast<char>('a' + next++ % 26));
    r.append(piece.data(), piece.size(), 16);
    in += piece;
  };
  auto consume = [&](std::size_t n) {
    std::string piece(n, '\0');
    piece.resize(r.take(piece.data(), n));
    out += piece;
  };
  produce(10);
  consume(7);
  produce(12);  // wraps in a 16-byte ring
  BOOST_TEST(r.capacity() == 16u);
  consume(5);
  produce(30);  // grows while wrapped
  BOOST_TEST(r.capacity() >= r.size());
  for (int i = 0; i < 50; ++i) {
    produce(static_cast<std::size_t>(i % 7 + 1));
    consume(static_cast<std::size_t>(i % 5 + 1));
  }
  consume(r.size());
  BOOST_TEST(r.size() == 0u);
  BOOST_TEST(out == in);
}

BOOST_AUTO_TEST_SUITE_END()
