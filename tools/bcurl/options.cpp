#include "options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <string>

namespace bcurl {
namespace {

std::optional<std::uint64_t> parse_count(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_number(std::string_view s) {
  // std::from_chars for double is in libstdc++ 11+, but strtod also accepts "1e3" and is enough.
  if (s.empty()) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// One option: its spellings, whether it takes a value, which mode it belongs to, and what it
// does with its value. The handler returns an error message, empty when the value was fine.
enum class scope { any, fetch_only, load };

struct option_spec {
  char short_name;  // 0: long only
  std::string_view long_name;
  bool takes_value;
  std::function<std::string(options&, std::string_view)> apply;
  scope where = scope::any;
};

std::vector<option_spec> make_specs() {
  using sv = std::string_view;
  constexpr auto load = scope::load;
  constexpr auto fetch_only = scope::fetch_only;
  auto seconds_into = [](std::chrono::milliseconds& out, sv v, const char* what) -> std::string {
    auto d = parse_seconds(v);
    if (!d || *d <= std::chrono::nanoseconds::zero()) return std::string(what) + " needs a positive number of seconds";
    // Round up: a sub-millisecond timeout must not become "none".
    out = std::chrono::ceil<std::chrono::milliseconds>(*d);
    return {};
  };
  return {
      {'X', "request", true,
       [](options& o, sv v) -> std::string {
         o.method = boost_curl::http::string_to_verb(v);
         if (o.method == boost_curl::http::verb::unknown) return "unknown method '" + std::string(v) + "' (methods are case-sensitive: GET, POST, ...)";
         o.method_given = true;
         return {};
       }},
      {'H', "header", true,
       [](options& o, sv v) -> std::string {
         auto colon = v.find(':');
         if (colon == sv::npos || colon == 0) return "header '" + std::string(v) + "' is not 'Name: value'";
         std::string name = trim(v.substr(0, colon));
         if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos)
           return "header name in '" + std::string(v) + "' is not valid";
         o.headers.emplace_back(std::move(name), trim(v.substr(colon + 1)));
         return {};
       }},
      {'d', "data", true, [](options& o, sv v) -> std::string { o.data = std::string(v); return {}; }},
      {'L', "location", false, [](options& o, sv) -> std::string { o.follow_redirects = true; return {}; }},
      {'m', "max-time", true, [=](options& o, sv v) { return seconds_into(o.timeout, v, "-m/--max-time"); }},
      {0, "connect-timeout", true, [=](options& o, sv v) { return seconds_into(o.connect_timeout, v, "--connect-timeout"); }},
      {'k', "insecure", false, [](options& o, sv) -> std::string { o.insecure = true; return {}; }},
      {0, "cacert", true, [](options& o, sv v) -> std::string { o.ca_file = std::string(v); return {}; }},
      {0, "http1.1", false, [](options& o, sv) -> std::string { o.version = boost_curl::http_version::http1_1; return {}; }},
      {0, "http2", false, [](options& o, sv) -> std::string { o.version = boost_curl::http_version::http2; return {}; }},
      {0, "http2-prior-knowledge", false,
       [](options& o, sv) -> std::string { o.version = boost_curl::http_version::http2_prior_knowledge; return {}; }},
      {'o', "output", true, [](options& o, sv v) -> std::string { o.output_file = std::string(v); return {}; }, fetch_only},
      {'i', "include", false, [](options& o, sv) -> std::string { o.include_headers = true; return {}; }, fetch_only},
      {'v', "verbose", false, [](options& o, sv) -> std::string { o.verbose = true; return {}; }},
      {0, "timings", false, [](options& o, sv) -> std::string { o.timings = true; return {}; }, fetch_only},
      {'n', "requests", true, [](options& o, sv v) -> std::string {
         auto n = parse_count(v);
         if (!n || *n == 0) return "--requests needs a positive integer";
         o.requests = *n;
         return {};
       }, load},
      {'c', "concurrency", true, [](options& o, sv v) -> std::string {
         auto n = parse_count(v);
         if (!n || *n == 0 || *n > 100000) return "--concurrency needs an integer in 1..100000";
         o.concurrency = static_cast<unsigned>(*n);
         return {};
       }, load},
      {0, "rate", true, [](options& o, sv v) -> std::string {
         auto r = parse_number(v);
         if (!r || *r <= 0 || *r > 1e7) return "--rate needs a number of requests per second in (0, 1e7]";
         o.rate = *r;
         return {};
       }, load},
      {0, "duration", true, [](options& o, sv v) -> std::string {
         auto d = parse_seconds(v);
         if (!d || *d <= std::chrono::nanoseconds::zero()) return "--duration needs a positive number of seconds";
         o.duration = *d;
         return {};
       }, load},
      {0, "threads", true, [](options& o, sv v) -> std::string {
         auto n = parse_count(v);
         if (!n || *n == 0 || *n > 256) return "--threads needs an integer in 1..256";
         o.threads = static_cast<unsigned>(*n);
         return {};
       }, load},
      {0, "sessions", true, [](options& o, sv v) -> std::string {
         auto n = parse_count(v);
         if (!n || *n == 0 || *n > 100000) return "--sessions needs an integer in 1..100000";
         o.sessions = static_cast<unsigned>(*n);
         return {};
       }, load},
      {0, "json", false, [](options& o, sv) -> std::string { o.json = true; return {}; }, load},
      {0, "no-progress", false, [](options& o, sv) -> std::string { o.progress = false; return {}; }},
      {'h', "help", false, [](options& o, sv) -> std::string { o.help = true; return {}; }},
      {'V', "version", false, [](options& o, sv) -> std::string { o.show_version = true; return {}; }},
  };
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_seconds(std::string_view s) {
  auto v = parse_number(s);
  if (!v || *v < 0 || *v > 1e9) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(*v * 1e9)));
}

parse_result parse_options(const std::vector<std::string_view>& args) {
  parse_result res;
  options& o = res.opts;
  bool seen_load_option = false, seen_fetch_only_option = false;
  const std::vector<option_spec> specs = make_specs();
  auto apply = [&](const option_spec& spec, std::string_view value) {
    seen_load_option |= spec.where == scope::load;
    seen_fetch_only_option |= spec.where == scope::fetch_only;
    res.error = spec.apply(o, value);
    return res.ok();
  };
  auto by_short = [&](char c) { return std::find_if(specs.begin(), specs.end(), [c](auto& s) { return s.short_name == c; }); };
  auto by_long = [&](std::string_view n) { return std::find_if(specs.begin(), specs.end(), [n](auto& s) { return s.long_name == n; }); };

  o.demo = args.empty();
  bool only_urls = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (only_urls || a.size() < 2 || a[0] != '-') {  // "-" alone is not an option either
      o.urls.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_urls = true;
      continue;
    }
    // The value of an option: attached ("--rate=5", "-m5") or the next argument.
    auto take_value = [&](std::string_view name, std::optional<std::string_view> attached) -> std::optional<std::string_view> {
      if (attached) return attached;
      if (i + 1 < args.size()) return args[++i];
      res.error = "option " + std::string(name) + " needs a value";
      return std::nullopt;
    };
    if (a.substr(0, 2) == "--") {
      std::string_view name = a.substr(2);
      std::optional<std::string_view> attached;
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        attached = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      auto spec = by_long(name);
      if (spec == specs.end()) {
        res.error = "unknown option --" + std::string(name);
        return res;
      }
      std::string_view value;
      if (spec->takes_value) {
        auto v = take_value(a.substr(0, 2 + name.size()), attached);
        if (!v) return res;
        value = *v;
      } else if (attached) {
        res.error = "option --" + std::string(name) + " takes no value";
        return res;
      }
      if (!apply(*spec, value)) return res;
      continue;
    }
    // Short options may be grouped ("-Lk") and the last may carry its value ("-XPOST", "-m5").
    for (std::size_t j = 1; j < a.size(); ++j) {
      auto spec = by_short(a[j]);
      if (spec == specs.end()) {
        res.error = std::string("unknown option -") + a[j];
        return res;
      }
      std::string_view value;
      if (spec->takes_value) {
        std::optional<std::string_view> attached;
        if (j + 1 < a.size()) attached = a.substr(j + 1);
        auto v = take_value(std::string("-") + a[j], attached);
        if (!v) return res;
        value = *v;
        j = a.size();  // the rest of the argument was the value
      }
      if (!apply(*spec, value)) return res;
    }
  }
  if (o.help || o.show_version) return res;

  // Resolve the mode and the defaults that depend on it.
  o.load_mode = seen_load_option || o.urls.empty();
  if (o.load_mode && seen_fetch_only_option) {
    res.error = o.urls.empty() ? "-o, -i and --timings need a URL (without one bcurl runs a load test)"
                               : "-o, -i and --timings are for fetch mode, not with load options";
    return res;
  }
  if (!o.output_file.empty() && o.urls.size() != 1) {
    res.error = "-o writes the body of a single URL; " + std::to_string(o.urls.size()) + " given";
    return res;
  }
  if (o.load_mode) {
    if (o.requests == 0) o.requests = o.duration ? unlimited : default_requests;
    if (o.concurrency == 0) o.concurrency = default_concurrency;
    if (o.threads > o.concurrency) {
      res.error = "--threads (" + std::to_string(o.threads) + ") cannot exceed --concurrency (" +
                  std::to_string(o.concurrency) + "): each thread needs at least one request in flight";
      return res;
    }
    // A load generator must not wait forever on a server that never answers.
    if (o.timeout.count() == 0) o.timeout = default_load_timeout;
  }
  if (o.data && !o.method_given) o.method = boost_curl::http::verb::post;
  return res;
}

boost_curl::request make_request(const options& o, std::string url) {
  boost_curl::request req(o.method, std::move(url));
  for (const auto& [name, value] : o.headers) req.headers.insert(name, value);
  if (o.data) req.body = *o.data;
  req.follow_redirects = o.follow_redirects;
  req.timeout = o.timeout;
  req.connect_timeout = o.connect_timeout;
  req.verify_peer = req.verify_host = !o.insecure;
  req.ca_file = o.ca_file;
  req.version = o.version;
  return req;
}

std::string usage_text() {
  return R"(usage: bcurl [options] URL...                      fetch URLs concurrently, one line each
       bcurl [load options] [options] [URL...]      load test (URLs used in turn)
       bcurl                                        demo: 2000 requests, concurrency 16,
                                                    against the embedded loopback origin
Without a URL, bcurl starts an embedded HTTP/1.1 origin on 127.0.0.1 and uses /bytes/100.

request options (both modes):
  -X, --request METHOD        method (default GET, or POST with -d)
  -H, --header 'Name: value'  add a request header (repeatable)
  -d, --data DATA             request body (implies POST unless -X)
  -L, --location              follow redirects
  -m, --max-time SECONDS      timeout for the whole exchange (load mode default: 30)
      --connect-timeout SECONDS   timeout for connecting
  -k, --insecure              do not verify the server's certificate or name
      --cacert FILE           trust the CA certificates in FILE (PEM)
      --http1.1               HTTP/1.1 only
      --http2                 HTTP/2 (ALPN on TLS, Upgrade on cleartext), else 1.1
      --http2-prior-knowledge HTTP/2 on cleartext without upgrade (h2c)
fetch mode:
  -o, --output FILE           write the body of the (single) URL to FILE as it arrives
                              (FILE.part until complete; progress line on a terminal;
                              no size limit), '-' = stdout (result lines then go to stderr)
  -i, --include               print the response headers
      --timings               print the timing breakdown
  -v, --verbose               timings, address and redirects (load mode: per-thread lines)
load mode (any of these selects it):
  -n, --requests N            total requests (default 2000; unlimited with --duration)
  -c, --concurrency C         requests in flight at most (default 16)
      --rate R                open loop: start R requests/second on a fixed schedule;
                              latency counts from each scheduled time
      --duration SECONDS      stop starting requests after SECONDS
      --threads T             T threads, each with its own io_context (T <= C)
      --sessions S            S virtual users per thread, each a boost_curl::session
                              (own cookie jar, TLS session cache); request slot i
                              belongs to user i mod S
      --json                  print the summary as one JSON object
      --no-progress           no live progress line (shown only when stderr is a terminal)
  -h, --help                  this text
  -V, --version               versions of bcurl, boost_curl and libcurl
exit status: 0 all requests succeeded with status < 400; 1 otherwise; 2 usage error
)";
}

}  // namespace bcurl
