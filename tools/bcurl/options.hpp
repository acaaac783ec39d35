#ifndef BCURL_OPTIONS_HPP
#define BCURL_OPTIONS_HPP

// bcurl's command line: a curl-like subset for fetching plus the load generator's knobs.
// Parsing is separate from running so it can be unit-tested and so usage errors (exit 2)
// are all found before any network activity.

#include <boost_curl/request.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bcurl {

inline constexpr std::uint64_t unlimited = UINT64_MAX;

struct options {
  // ---- what to send (both modes)
  std::vector<std::string> urls;
  boost_curl::http::verb method = boost_curl::http::verb::get;
  bool method_given = false;  // -X; otherwise -d implies POST, as with curl
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> data;
  bool follow_redirects = false;
  std::chrono::milliseconds timeout{0};          // -m; 0 = none (load mode defaults to 30 s)
  std::chrono::milliseconds connect_timeout{0};  // --connect-timeout
  bool insecure = false;
  std::string ca_file;
  boost_curl::http_version version = boost_curl::http_version::default_version;

  // ---- fetch mode output
  std::string output_file;  // -o; "-" is stdout
  bool include_headers = false;
  bool verbose = false;
  bool timings = false;

  // ---- load mode (chosen by any of these options, or by giving no URL)
  bool load_mode = false;
  bool demo = false;               // no argument at all: a short load test on the embedded origin
  std::uint64_t requests = 0;      // resolved: 2000 unless --duration, then unlimited
  unsigned concurrency = 0;        // resolved: 16 by default
  double rate = 0;                 // requests per second; 0 = closed loop
  std::optional<std::chrono::nanoseconds> duration;
  unsigned threads = 1;
  unsigned sessions = 0;           // virtual users per thread (boost_curl::session); 0 = none
  bool json = false;
  bool progress = true;            // --no-progress turns the live line off even on a terminal

  bool help = false;
  bool show_version = false;
};

inline constexpr std::uint64_t default_requests = 2000;
inline constexpr unsigned default_concurrency = 16;
inline constexpr std::chrono::milliseconds default_load_timeout{30'000};

struct parse_result {
  options opts;
  std::string error;  // non-empty: a usage error, to print with the hint and exit 2
  bool ok() const noexcept { return error.empty(); }
};

/// Parse arguments (without the program name). Never throws for bad input.
parse_result parse_options(const std::vector<std::string_view>& args);

/// The --help text.
std::string usage_text();

/// The request for one URL as the options describe it.
boost_curl::request make_request(const options& o, std::string url);

/// Seconds as given on the command line ("2.5") to a duration; nullopt when malformed or < 0.
std::optional<std::chrono::nanoseconds> parse_seconds(std::string_view s);

}  // namespace bcurl

#endif
