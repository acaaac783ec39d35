#ifndef BCURL_LOAD_GENERATOR_HPP
#define BCURL_LOAD_GENERATOR_HPP

// The load generator: closed loop (keep C requests in flight) or open loop (start requests on
// a fixed schedule, at most C in flight), on one or more io_contexts, one thread each.

#include "report.hpp"

#include <boost_curl/request.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bcurl {

struct load_config {
  std::vector<std::string> urls;  // request k goes to urls[k % size]
  boost_curl::request prototype;  // copied for every request, url replaced
  std::uint64_t requests = 0;     // bcurl::unlimited: until duration
  unsigned concurrency = 1;
  double rate = 0;  // requests per second; 0 = closed loop
  std::optional<std::chrono::nanoseconds> duration;
  unsigned threads = 1;
  unsigned sessions = 0;  // per thread; request slot i uses session i % sessions; 0 = none
  bool progress = false;  // live line on stderr (the caller checks it is a terminal)
};

/// Runs the load test to completion and returns what it measured. SIGINT/SIGTERM stop it
/// early (in-flight requests are cancelled, the summary says "interrupted"); a second one
/// exits at once.
run_summary run_load(const load_config& cfg);

}  // namespace bcurl

#endif
