// Fetch mode: every URL at once on one io_context, one result line per URL as it completes.

#include "options.hpp"
#include "report.hpp"

#include <boost_curl.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/status.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace bcurl {

int run_fetch_mode(const options& o);  // called by main.cpp

namespace {

using clock_type = std::chrono::steady_clock;

std::string version_name(unsigned v) {
  switch (v) {
    case 10: return "HTTP/1.0";
    case 11: return "HTTP/1.1";
    case 20: return "HTTP/2";
    case 30: return "HTTP/3";
    default: return "HTTP/?";
  }
}

std::string phase(std::chrono::microseconds d) { return d.count() ? format_us(double(d.count())) : "-"; }

// Writes the body where -o says; returns false (after saying why) when it could not.
bool save_body(const std::string& path, const std::string& body) {
  if (path == "-") return std::fwrite(body.data(), 1, body.size(), stdout) == body.size() && std::fflush(stdout) == 0;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(body.data(), std::streamsize(body.size()));
  f.close();
  if (f) return true;
  std::fprintf(stderr, "bcurl: cannot write %s\n", path.c_str());
  return false;
}

// Prints one URL's outcome; returns whether it counts as a success (no error, status < 400).
// `body_bytes`: the body's size (in r.body, or in the file it was downloaded to).
bool report_one(std::FILE* out, const options& o, const std::string& url, const boost_curl::error_code& ec,
                const boost_curl::response& r, clock_type::duration elapsed, std::uint64_t body_bytes) {
  const auto measured = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  const auto total = r.time.total.count() ? r.time.total : measured;
  if (ec) {
    // libcurl's own message says the most (host, port, OS error); the code and its
    // condition are what a script would match on.
    const std::string kind = outcome_kind(ec, 0);
    std::string what = kind + ": " + (r.error_message.empty() ? ec.message() : r.error_message);
    what += " (" + ec.message() + " [" + ec.category().name() + ":" + std::to_string(ec.value()) + "])";
    std::fprintf(out, "failed  %s  %s  %s\n", format_us(double(measured.count())).c_str(), url.c_str(), what.c_str());
  } else {
    const auto reason = boost::beast::http::obsolete_reason(r.status);
    const bool known = reason != "<unknown-status>";
    // Exact byte count: a fetcher's user compares it with Content-Length or a file size.
    std::fprintf(out, "%u%s%.*s  %llu B  %s  %s  %s", r.status_code(), known ? " " : "", known ? int(reason.size()) : 0,
                 reason.data(), static_cast<unsigned long long>(body_bytes), format_us(double(total.count())).c_str(),
                 version_name(r.version).c_str(), url.c_str());
    if (r.redirect_count > 0 && r.effective_url != url) std::fprintf(out, " -> %s", r.effective_url.c_str());
    std::fputc('\n', out);
  }
  if (o.verbose)
    std::fprintf(out, "  connected to %s:%u, %ld redirect(s)\n", r.primary_ip.empty() ? "-" : r.primary_ip.c_str(),
                 unsigned(r.primary_port), r.redirect_count);
  if (o.verbose || o.timings)
    // Each phase is measured from the start of the transfer, as libcurl reports them.
    std::fprintf(out, "  timings: dns %s, connect %s, tls %s, request sent %s, first byte %s, total %s\n",
                 phase(r.time.name_lookup).c_str(), phase(r.time.connect).c_str(), phase(r.time.tls_handshake).c_str(),
                 phase(r.time.pretransfer).c_str(), phase(r.time.first_byte).c_str(), phase(r.time.total).c_str());
  if (o.include_headers && !ec)
    for (const auto& f : r.headers)
      std::fprintf(out, "  %.*s: %.*s\n", int(f.name_string().size()), f.name_string().data(), int(f.value().size()),
                   f.value().data());
  std::fflush(out);
  return !ec && r.status_code() < 400;
}

// "-o FILE": the body goes to FILE as it arrives (async_download: FILE.part until complete),
// with a live progress line on a terminal.
int download_to_file(const options& o) {
  boost::asio::io_context ioc;
  boost_curl::request req = make_request(o, o.urls.front());
  req.max_body_size = 0;  // a file: no limit, as curl -o
  const bool live = o.progress && ::isatty(STDERR_FILENO);
  if (live)
    req.on_progress = [](const boost_curl::transfer_progress& p) {
      if (p.download_total != 0)
        std::fprintf(stderr, "\r%llu of %llu bytes (%3u%%)", static_cast<unsigned long long>(p.downloaded),
                     static_cast<unsigned long long>(p.download_total),
                     static_cast<unsigned>(100 * p.downloaded / p.download_total));
      else
        std::fprintf(stderr, "\r%llu bytes", static_cast<unsigned long long>(p.downloaded));
    };
  bool ok = false;
  const auto start = clock_type::now();
  boost_curl::async_download(ioc, std::move(req), o.output_file, [&](boost_curl::error_code ec, boost_curl::response r) {
    if (live) std::fputc('\n', stderr);
    std::error_code size_ec;
    const auto size = ec ? 0 : std::filesystem::file_size(o.output_file, size_ec);
    ok = report_one(stdout, o, o.urls.front(), ec, r, clock_type::now() - start, size_ec ? 0 : size);
    ioc.stop();  // idle keep-alive connections may hold the context
  });
  ioc.run();
  return ok ? 0 : 1;
}

}  // namespace

int run_fetch_mode(const options& o) {
  if (!o.output_file.empty() && o.output_file != "-" && o.urls.size() == 1) return download_to_file(o);
  // With "-o -" the body owns stdout, so the result lines move to stderr.
  std::FILE* out = o.output_file == "-" ? stderr : stdout;
  boost::asio::io_context ioc;
  bool all_ok = true;
  std::size_t pending = o.urls.size();
  for (const std::string& url : o.urls) {
    const auto start = clock_type::now();
    boost_curl::async_fetch(ioc, make_request(o, url),
                            [&, url, start](boost_curl::error_code ec, boost_curl::response r) {
                              bool ok = report_one(out, o, url, ec, r, clock_type::now() - start, r.body.size());
                              if (!ec && !o.output_file.empty()) ok = save_body(o.output_file, r.body) && ok;
                              all_ok = all_ok && ok;
                              // Idle keep-alive connections may hold the context: stop at the last.
                              if (--pending == 0) ioc.stop();
                            });
  }
  ioc.run();
  return all_ok ? 0 : 1;
}

}  // namespace bcurl
