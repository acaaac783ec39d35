// libFuzzer target: cookie lines. A Netscape line that parses writes back as the same line
// (what libcurl writes, read back, written again), and the check that guards
// CURLOPT_COOKIELIST never crashes.
#include <boost_curl/cookie.hpp>

#include <session_state.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)boost_curl::detail::acceptable_cookie_line(line);
  boost_curl::error_code ec;
  const boost_curl::cookie c = boost_curl::cookie::from_netscape(line, ec);
  if (ec) return 0;
  const std::string written = c.to_netscape();
  boost_curl::error_code ec2;
  const boost_curl::cookie again = boost_curl::cookie::from_netscape(written, ec2);
  if (ec2 || !(again == c)) std::abort();  // values survive a round trip
  if (again.to_netscape() != written) std::abort();
  return 0;
}
