// bcurl: a curl-like fetcher and an HTTP load generator built on boost_curl.
// See doc/bcurl.md.

#include "heap_tuning.hpp"
#include "load_generator.hpp"
#include "options.hpp"
#include "report.hpp"

#include <boost_curl/version.hpp>
#include <origin/loopback_origin.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace bcurl {
int run_fetch_mode(const options& o);  // fetch_mode.cpp
}

namespace {

int run_load_mode(const bcurl::options& o) {
  bcurl::keep_freed_memory_for_reuse();  // best effort: a program on another allocator runs as it is
  bcurl::load_config cfg;
  cfg.urls = o.urls;
  // No URL: serve ourselves, so bcurl works (and can be demonstrated) without any network.
  std::optional<boost_curl::tools::loopback_origin> origin;
  if (cfg.urls.empty()) {
    boost_curl::tools::loopback_origin::options origin_opts;
    origin_opts.threads = o.threads;
    origin.emplace(origin_opts);
    cfg.urls.push_back(origin->url("/bytes/100"));
    if (o.demo)
      std::fprintf(stderr,
                   "bcurl: demo: %llu requests, %u in flight, against the embedded origin %s (bcurl --help for usage)\n",
                   (unsigned long long)o.requests, o.concurrency, cfg.urls[0].c_str());
    else
      std::fprintf(stderr, "bcurl: no URL given, using the embedded origin %s\n", cfg.urls[0].c_str());
  }
  cfg.prototype = bcurl::make_request(o, {});
  cfg.requests = o.requests;
  cfg.concurrency = o.concurrency;
  cfg.rate = o.rate;
  cfg.duration = o.duration;
  cfg.threads = o.threads;
  cfg.sessions = o.sessions;
  // The live line uses \r, which only makes sense on a terminal; logs get just the summary.
  cfg.progress = o.progress && ::isatty(STDERR_FILENO);

  const bcurl::run_summary summary = bcurl::run_load(cfg);
  if (o.json)
    bcurl::print_json(std::cout, summary);
  else
    bcurl::print_text(std::cout, summary, o.verbose);
  std::cout.flush();
  if (summary.interrupted) return 130;
  return summary.error_count() == 0 && summary.requests > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const bcurl::parse_result parsed = bcurl::parse_options(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "bcurl: %s\nTry 'bcurl --help'.\n", parsed.error.c_str());
    return 2;
  }
  const bcurl::options& o = parsed.opts;
  if (o.help) {
    std::fputs(bcurl::usage_text().c_str(), stdout);
    return 0;
  }
  if (o.show_version) {
    std::printf("bcurl %s\n", boost_curl::version_string().c_str());
    return 0;
  }
  try {
    return o.load_mode ? run_load_mode(o) : bcurl::run_fetch_mode(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bcurl: %s\n", e.what());
    return 1;
  }
}
