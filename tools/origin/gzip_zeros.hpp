// A gzip stream of zero bytes, cheap to serve at any size: the origin's /gzip-bomb route.
#ifndef BOOST_CURL_TOOLS_ORIGIN_GZIP_ZEROS_HPP
#define BOOST_CURL_TOOLS_ORIGIN_GZIP_ZEROS_HPP

#include <cstdint>
#include <string>

namespace boost_curl::tools::detail {

// The stream is header(), then mebibyte() once per MiB, then trailer(mib): a valid gzip member
// that inflates to `mib` MiB of zeros while costing about 1 KiB per MiB to send, and no
// compression work per request (each MiB is the same deflate block, full-flushed).
struct gzip_zeros {
  static const std::string& header();
  static const std::string& mebibyte();
  static std::string trailer(std::uint64_t mib);  // the final empty block, CRC-32 and size
};

}  // namespace boost_curl::tools::detail

#endif
