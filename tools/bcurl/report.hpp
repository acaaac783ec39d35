#ifndef BCURL_REPORT_HPP
#define BCURL_REPORT_HPP

// What a load run measured, and how it is printed: a text summary for people, one JSON
// object for scripts, a one-line live progress display. Kept apart from the generator so the
// formats can be tested without a network.

#include "latency_histogram.hpp"

#include <boost_curl/error.hpp>

#include <array>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bcurl {

/// The outcome of one request, for tallying: "ok", an error condition name ("timeout",
/// "connect_failed", ...), "http_4xx"/"http_5xx" for error statuses, "cancelled", or
/// "category:value" for an error no condition covers.
std::string outcome_kind(const boost_curl::error_code& ec, unsigned status);

/// Name of the boost_curl::condition an error matches, or empty.
std::string_view condition_name(const boost_curl::error_code& ec);

struct run_summary {
  // ---- how the run was set up
  std::vector<std::string> urls;
  bool open_loop = false;
  double rate = 0;  // scheduled requests per second (open loop)
  unsigned concurrency = 0;
  unsigned threads = 1;
  unsigned sessions = 0;  // per thread

  // ---- what happened
  std::uint64_t requests = 0;  // completed, successfully or not
  std::uint64_t ok = 0;        // no transport error and status < 400
  double seconds = 0;          // from the start to the last completion
  std::uint64_t bytes = 0;     // response body bytes
  std::uint64_t connections = 0;                 // TCP connections opened (reuse shows as fewer)
  std::array<std::uint64_t, 6> status_class{};  // [1..5] = 1xx..5xx, [0] = no/odd status
  std::map<std::string, std::uint64_t> errors;   // outcome_kind -> count, "ok" excluded
  bool interrupted = false;                      // stopped by SIGINT/SIGTERM

  // Latency of every completed request, failed ones included (a timeout is what the user
  // waited). Open loop: from the request's scheduled send time.
  latency_histogram latency;
  // Open loop only: from the actual send, i.e. what a closed-loop tool would report.
  latency_histogram service;
  std::uint64_t late_starts = 0;     // open loop: started more than 1 ms after their schedule
  std::uint64_t max_start_lag_us = 0;

  std::vector<std::string> per_thread;  // optional lines for -v

  double rps() const noexcept { return seconds > 0 ? double(requests) / seconds : 0.0; }
  std::uint64_t error_count() const noexcept { return requests - ok; }

  /// Adds one completed request's outcome (not its latency).
  void tally(const boost_curl::error_code& ec, unsigned status, std::uint64_t body_bytes);
  /// Adds another partial summary's counters and histograms (the setup fields are kept).
  void merge(const run_summary& other);
};

/// "850 us", "12.3 ms", "1.52 s": three significant digits, the unit chosen by magnitude.
std::string format_us(double us);
/// "1.2 kB", "15.0 MB" (decimal units, as throughput is usually quoted).
std::string format_bytes(double bytes);
/// A JSON string literal (quotes included) for s.
std::string json_string(std::string_view s);

void print_text(std::ostream& out, const run_summary& s, bool verbose = false);
/// One JSON object on one line: requests, seconds, rps, bytes, errors, latency_us, histogram
/// and the setup; see doc/bcurl.md.
void print_json(std::ostream& out, const run_summary& s);

/// The live progress line (no \r, no newline): done[/total], rate, errors, p50/p99 so far.
/// With total == UINT64_MAX (a --duration run) the planned duration_s is shown instead.
std::string progress_line(std::uint64_t done, std::uint64_t total, double elapsed_s, double duration_s,
                          std::uint64_t errors, const latency_histogram& so_far);

}  // namespace bcurl

#endif
