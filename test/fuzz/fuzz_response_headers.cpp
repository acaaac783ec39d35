// libFuzzer target: the response header block parser (folding, oversize fields, bare LF, junk,
// trailers). Every field it yields must be findable by name, and copies must agree.
#include <boost_curl/response_headers.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string block(reinterpret_cast<const char*>(data), size);
  boost_curl::response_headers h(block);
  std::size_t n = 0;
  for (const auto& field : h) {
    ++n;
    if (h.count(field.name_string()) == 0) std::abort();  // what iteration gives, lookup finds
  }
  if (h.raw() != block) std::abort();  // kept as received
  const boost_curl::response_headers copy = h;
  std::size_t m = 0;
  for (auto it = copy.begin(); it != copy.end(); ++it) ++m;
  if (m != n) std::abort();
  (void)h[boost::beast::http::field::content_type];
  return 0;
}
