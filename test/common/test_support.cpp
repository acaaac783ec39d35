#include "test_support.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace boost_curl::test {

unsigned short refused_port() {
  asio::io_context ctx;
  asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();  // closed when acceptor goes: nothing listens there
}

}  // namespace boost_curl::test
