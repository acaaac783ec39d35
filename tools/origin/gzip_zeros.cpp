#include "gzip_zeros.hpp"

#include <zlib.h>

#include <stdexcept>
#include <vector>

namespace boost_curl::tools::detail {
namespace {

constexpr uInt mib_bytes = 1u << 20;

// Raw deflate of one MiB of zeros, ended by a full flush: byte-aligned, with no reference to
// what came before, so the same bytes can follow each other any number of times.
std::string deflate_one_mebibyte() {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::vector<unsigned char> zeros(mib_bytes), out(64 * 1024);
  z.next_in = zeros.data();
  z.avail_in = mib_bytes;
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FULL_FLUSH);
  const std::size_t produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_OK || z.avail_in != 0) throw std::runtime_error("deflate");
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(produced));
}

void append_le32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

const std::string& gzip_zeros::header() {
  // Magic, deflate, no flags, no time, no extra flags, OS unknown.
  static const std::string h("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  return h;
}

const std::string& gzip_zeros::mebibyte() {
  static const std::string block = deflate_one_mebibyte();
  return block;
}

std::string gzip_zeros::trailer(std::uint64_t mib) {
  static const std::vector<unsigned char> zeros(mib_bytes);
  static const uLong crc_of_one = crc32(crc32(0L, Z_NULL, 0), zeros.data(), mib_bytes);
  // CRC-32 of `mib` MiB of zeros by doubling: O(log mib) combinations.
  uLong crc = crc32(0L, Z_NULL, 0), power = crc_of_one;
  z_off_t power_length = mib_bytes;
  for (std::uint64_t n = mib; n != 0; n >>= 1) {
    if (n & 1) crc = crc32_combine(crc, power, power_length);
    power = crc32_combine(power, power, power_length);
    power_length *= 2;
  }
  std::string t("\x03\x00", 2);  // a final, empty, fixed-Huffman block
  append_le32(t, static_cast<std::uint32_t>(crc));
  append_le32(t, static_cast<std::uint32_t>((mib << 20) & 0xffffffffu));  // ISIZE: length mod 2^32
  return t;
}

}  // namespace boost_curl::tools::detail
