#include "report.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <utility>

namespace bcurl {

std::string_view condition_name(const boost_curl::error_code& ec) {
  using boost_curl::condition;
  static constexpr std::pair<condition, std::string_view> names[] = {
      {condition::timeout, "timeout"},
      {condition::connect_failed, "connect_failed"},
      {condition::name_resolution_failed, "name_resolution_failed"},
      {condition::tls_failed, "tls_failed"},
      {condition::too_many_redirects, "too_many_redirects"},
      {condition::body_too_large, "body_too_large"},
      {condition::connection_lost, "connection_lost"},
      {condition::invalid_url, "invalid_url"},
  };
  for (const auto& [c, name] : names)
    if (ec == c) return name;
  return {};
}

std::string outcome_kind(const boost_curl::error_code& ec, unsigned status) {
  if (ec) {
    if (auto name = condition_name(ec); !name.empty()) return std::string(name);
    if (ec == boost::asio::error::operation_aborted) return "cancelled";
    // No portable condition: name the exact code so it can be looked up.
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
  }
  if (status >= 400 && status < 600) return "http_" + std::to_string(status / 100) + "xx";
  if (status >= 600) return "http_" + std::to_string(status);
  return "ok";
}

void run_summary::tally(const boost_curl::error_code& ec, unsigned status, std::uint64_t body_bytes) {
  ++requests;
  bytes += body_bytes;
  if (!ec) status_class[status >= 100 && status < 600 ? status / 100 : 0] += 1;
  std::string kind = outcome_kind(ec, status);
  if (kind == "ok")
    ++ok;
  else
    ++errors[std::move(kind)];
}

void run_summary::merge(const run_summary& o) {
  requests += o.requests;
  ok += o.ok;
  bytes += o.bytes;
  connections += o.connections;
  for (std::size_t i = 0; i < status_class.size(); ++i) status_class[i] += o.status_class[i];
  for (const auto& [k, n] : o.errors) errors[k] += n;
  latency.merge(o.latency);
  service.merge(o.service);
  late_starts += o.late_starts;
  max_start_lag_us = std::max(max_start_lag_us, o.max_start_lag_us);
  seconds = std::max(seconds, o.seconds);
  interrupted = interrupted || o.interrupted;
}

namespace {

std::string printf_string(const char* fmt, auto... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(std::size_t(n), sizeof buf - 1));
}

// Three significant digits without trailing exponent noise.
std::string three_digits(double v, const char* unit) {
  if (v >= 100) return printf_string("%.0f %s", v, unit);
  if (v >= 10) return printf_string("%.1f %s", v, unit);
  return printf_string("%.2f %s", v, unit);
}

std::string percentiles_line(const latency_histogram& h) {
  if (h.count() == 0) return "no samples";
  return "mean " + format_us(h.mean()) + "  p50 " + format_us(double(h.percentile(50))) + "  p90 " +
         format_us(double(h.percentile(90))) + "  p99 " + format_us(double(h.percentile(99))) + "  p99.9 " +
         format_us(double(h.percentile(99.9))) + "  max " + format_us(double(h.max()));
}

std::string join_urls(const std::vector<std::string>& urls) {
  std::string s;
  for (const auto& u : urls) s += (s.empty() ? "" : ", ") + u;
  return s;
}

// Histogram bounds are round numbers: "50 us", "2 ms", "1 s".
std::string format_bound(std::uint64_t us) {
  if (us < 1000) return printf_string("%llu us", (unsigned long long)us);
  if (us < 1'000'000) return printf_string("%g ms", double(us) / 1e3);
  return printf_string("%g s", double(us) / 1e6);
}

std::string json_number(double v) { return printf_string("%.3f", v); }

void json_latency(std::ostream& out, const latency_histogram& h) {
  out << "{\"p50\": " << h.percentile(50) << ", \"p90\": " << h.percentile(90) << ", \"p99\": " << h.percentile(99)
      << ", \"p999\": " << h.percentile(99.9) << ", \"max\": " << h.max() << ", \"mean\": " << json_number(h.mean())
      << "}";
}

}  // namespace

std::string format_us(double us) {
  if (us < 1000) return three_digits(us, "us");
  if (us < 1'000'000) return three_digits(us / 1e3, "ms");
  return three_digits(us / 1e6, "s");
}

std::string format_bytes(double b) {
  if (b < 1000) return printf_string("%.0f B", b);
  if (b < 1e6) return three_digits(b / 1e3, "kB");
  if (b < 1e9) return three_digits(b / 1e6, "MB");
  return three_digits(b / 1e9, "GB");
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20)
          out += printf_string("\\u%04x", unsigned(c));
        else
          out += char(c);  // UTF-8 passes through; URLs are ASCII anyway
    }
  }
  return out + "\"";
}

void print_text(std::ostream& out, const run_summary& s, bool verbose) {
  auto row = [&](const char* label, const std::string& value) { out << "  " << label << std::string(13 - std::string_view(label).size(), ' ') << value << '\n'; };
  out << "bcurl load test: " << join_urls(s.urls) << (s.interrupted ? "  (interrupted)" : "") << '\n';
  std::string threads = std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
  if (s.sessions) threads += ", " + std::to_string(s.sessions) + " sessions each";
  if (s.open_loop)
    row("mode", printf_string("open loop, %.6g req/s scheduled, at most %u in flight, ", s.rate, s.concurrency) + threads);
  else
    row("mode", "closed loop, " + std::to_string(s.concurrency) + " in flight, " + threads);
  row("requests", std::to_string(s.requests) + " completed, " + std::to_string(s.ok) + " ok, " +
                      std::to_string(s.error_count()) + " failed");
  row("duration", printf_string("%.3f s", s.seconds));
  row("throughput", printf_string("%.1f req/s", s.rps()));
  row("received", format_bytes(double(s.bytes)) + " of bodies (" +
                      format_bytes(s.seconds > 0 ? double(s.bytes) / s.seconds : 0.0) + "/s)");
  row("connections", std::to_string(s.connections) + " sockets opened");
  std::string status;
  for (std::size_t i = 1; i < s.status_class.size(); ++i)
    if (s.status_class[i]) status += (status.empty() ? "" : ", ") + std::to_string(i) + "xx " + std::to_string(s.status_class[i]);
  if (s.status_class[0]) status += (status.empty() ? "" : ", ") + std::string("other ") + std::to_string(s.status_class[0]);
  row("status", status.empty() ? "no responses" : status);
  std::string errors;
  for (const auto& [kind, n] : s.errors) errors += (errors.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  row("errors", errors.empty() ? "none" : errors);
  if (s.open_loop) {
    row("latency", percentiles_line(s.latency) + "   (from scheduled send time)");
    row("service", percentiles_line(s.service) + "   (from actual send)");
    row("schedule", std::to_string(s.late_starts) + " started more than 1 ms late, max lag " +
                        format_us(double(s.max_start_lag_us)));
  } else {
    row("latency", percentiles_line(s.latency));
  }
  for (const auto& line : s.per_thread)
    if (verbose) row("thread", line);

  const auto buckets = s.latency.coarse_buckets();
  if (buckets.empty()) return;
  out << "  latency histogram:\n";
  std::uint64_t most = 0;
  for (const auto& b : buckets) most = std::max(most, b.count);
  constexpr int bar_width = 40;
  for (const auto& b : buckets) {
    // Non-empty buckets always show at least one mark, so rare slow outliers stay visible.
    int len = int(double(b.count) * bar_width / double(most) + 0.5);
    if (b.count && len == 0) len = 1;
    out << printf_string("    <= %-8s %9llu %6.2f%% ", format_bound(b.le_us).c_str(), (unsigned long long)b.count,
                         100.0 * double(b.count) / double(s.latency.count()))
        << std::string(std::size_t(len), '#') << '\n';
  }
}

void print_json(std::ostream& out, const run_summary& s) {
  out << "{\"urls\": [";
  for (std::size_t i = 0; i < s.urls.size(); ++i) out << (i ? ", " : "") << json_string(s.urls[i]);
  out << "], \"mode\": " << (s.open_loop ? "\"open\"" : "\"closed\"") << ", \"rate\": " << json_number(s.rate)
      << ", \"concurrency\": " << s.concurrency << ", \"threads\": " << s.threads << ", \"sessions\": " << s.sessions << ", \"requests\": " << s.requests
      << ", \"ok\": " << s.ok << ", \"seconds\": " << json_number(s.seconds) << ", \"rps\": " << json_number(s.rps())
      << ", \"bytes\": " << s.bytes << ", \"connections\": " << s.connections << ", \"status\": {";
  bool first = true;
  for (std::size_t i = 1; i < s.status_class.size(); ++i) {
    if (!s.status_class[i]) continue;
    out << (first ? "" : ", ") << "\"" << i << "xx\": " << s.status_class[i];
    first = false;
  }
  out << "}, \"errors\": {";
  first = true;
  for (const auto& [kind, n] : s.errors) {
    out << (first ? "" : ", ") << json_string(kind) << ": " << n;
    first = false;
  }
  out << "}, \"latency_us\": ";
  json_latency(out, s.latency);
  if (s.open_loop) {
    out << ", \"service_us\": ";
    json_latency(out, s.service);
    out << ", \"late_starts\": " << s.late_starts << ", \"max_start_lag_us\": " << s.max_start_lag_us;
  }
  out << ", \"histogram\": [";
  first = true;
  for (const auto& b : s.latency.coarse_buckets()) {
    out << (first ? "" : ", ") << "{\"le_us\": " << b.le_us << ", \"count\": " << b.count << "}";
    first = false;
  }
  out << "], \"interrupted\": " << (s.interrupted ? "true" : "false") << "}\n";
}

std::string progress_line(std::uint64_t done, std::uint64_t total, double elapsed_s, double duration_s,
                          std::uint64_t errors, const latency_histogram& so_far) {
  std::string line = total == UINT64_MAX
                         ? printf_string("%llu done  %.1f/%.1f s", (unsigned long long)done, elapsed_s, duration_s)
                         : printf_string("%llu/%llu  %.1f s", (unsigned long long)done, (unsigned long long)total, elapsed_s);
  line += printf_string("  %.0f req/s  errors %llu", elapsed_s > 0 ? double(done) / elapsed_s : 0.0,
                        (unsigned long long)errors);
  if (so_far.count())
    line += "  p50 " + format_us(double(so_far.percentile(50))) + "  p99 " + format_us(double(so_far.percentile(99)));
  return line;
}

}  // namespace bcurl
