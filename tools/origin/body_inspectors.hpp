#ifndef BOOST_CURL_TOOLS_ORIGIN_BODY_INSPECTORS_HPP
#define BOOST_CURL_TOOLS_ORIGIN_BODY_INSPECTORS_HPP

// What the loopback origin learns from a request body without keeping it: its SHA-256, or the
// parts of a multipart/form-data body (name, file name, type, size, SHA-256 of each), fed
// piece by piece as the body arrives, so a test can upload gigabytes and check every byte.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost_curl::tools::detail {

// Lower-case hex of `n` bytes.
std::string to_hex(const unsigned char* bytes, std::size_t n);

class sha256_digest {
 public:
  sha256_digest();
  ~sha256_digest();
  sha256_digest(sha256_digest&&) noexcept;
  sha256_digest& operator=(sha256_digest&&) noexcept;

  void update(std::string_view bytes);
  std::string hex();  // finishes; then starts again
  std::uint64_t size() const noexcept { return size_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint64_t size_ = 0;
};

class multipart_inspector {
 public:
  struct part {
    std::string name, filename, content_type;
    std::uint64_t size = 0;
    std::string sha256;
  };

  // `content_type`: the request's Content-Type (its boundary parameter is used).
  explicit multipart_inspector(std::string_view content_type);
  bool valid() const noexcept { return !delimiter_.empty(); }
  void update(std::string_view bytes);
  // The parts seen, one line each: "name=N filename=F type=T size=S sha256=H" ("-" when absent),
  // and a last line "complete" or "incomplete" (no closing delimiter seen).
  std::string report();

 private:
  enum class state { preamble, after_delimiter, headers, body, done };
  void run();
  void start_part();
  void header_line(std::string_view line);

  std::string delimiter_;  // "--" + boundary (the first one); "\r\n--" + boundary afterwards
  std::string pending_;
  state state_ = state::preamble;
  std::vector<part> parts_;
  sha256_digest digest_;
};

}  // namespace boost_curl::tools::detail

#endif
