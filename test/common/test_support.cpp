#include "test_support.hpp"

#include <origin/process_stats.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace boost_curl::test {

unsigned short refused_port() {
  asio::io_context ctx;
  asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();  // closed when acceptor goes: nothing listens there
}

std::size_t peak_rss_kb() { return tools::peak_resident_kb(); }

std::string escape_for_query(std::string_view url) {
  std::string out;
  for (char c : url) out += (c == ':' ? "%3A" : c == '/' ? "%2F" : c == '?' ? "%3F" : c == '&' ? "%26" : c == '=' ? "%3D" : std::string(1, c));
  return out;
}

}  // namespace boost_curl::test
