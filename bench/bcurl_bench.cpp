// bcurl-bench URL TOTAL CONCURRENCY [--style callback|coroutine] [--threads N] [--ca FILE]
//             [--http 1.1|2|h2c] [--per-multi N] [--sessions N] [--discard yes|group|after-head] [--receive-buffer BYTES]
//             [--read-buffer BYTES]
//
// Keeps CONCURRENCY fetches in flight with async_fetch (a fresh request per fetch, bodies
// read into the response as a user would) until TOTAL responses arrived, then prints
//   requests=N seconds=S rps=R errors=E bytes=B
// the line ../shared/bench/compare.sh reads. With --threads N, N io_contexts each run on
// their own thread and share the work. With --sessions N, each context has N sessions
// (cookie jar, shared TLS session cache) and every fetch goes through one of them,
// the slots spread round-robin: what a load test's virtual users do. With --discard yes, each
// body is read through a boost_curl::stream into one reused buffer per slot (64 KiB, or
// --read-buffer BYTES) and dropped, as a load generator or a proxy would (coroutine style):
// the first read is started right after the open (whose handler is a plain callback), so that
// a body arriving with its head goes straight into the buffer. --discard group starts the two
// together in a parallel_group of deferred operations; --discard after-head starts the read
// when the open has completed (the body then waits in the stream's ring: a second copy).

#include <boost_curl.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#ifdef BOOST_CURL_BENCH_SELF_TEST
#include <origin/loopback_origin.hpp>
#endif

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace asio = boost::asio;

namespace {

// --discard: when the first read is started. with_open: right after async_open is initiated
// (its handler a plain callback); in_group: with it, in a parallel_group of deferred
// operations; after_head: once the open's handler has run.
enum class read_start { with_open, in_group, after_head };

struct config {
  std::string url;
  long total = 0;
  long concurrency = 1;
  bool coroutine = false;
  unsigned threads = 1;
  std::string ca_file;
  boost_curl::http_version version = boost_curl::http_version::default_version;
  long per_multi = -1;  // curl_service::set_transfers_per_multi; -1 = the default
  long sessions = 0;    // per context; 0 = fetches of no session
  bool discard = false; // bodies read through a stream and dropped
  read_start read_with = read_start::with_open;  // --discard: when the first read starts
  long receive_buffer = -1;  // request::receive_buffer_size; -1 = the default
  std::size_t read_buffer = 65536;  // --discard: the reader's buffer
};

struct counters {
  std::atomic<long> started{0};
  std::atomic<long> done{0};
  std::atomic<long> errors{0};
  std::atomic<unsigned long long> bytes{0};
};

boost_curl::request make_request(const config& cfg) {
  boost_curl::request req(cfg.url);
  req.ca_file = cfg.ca_file;
  req.version = cfg.version;
  if (cfg.receive_buffer >= 0) req.receive_buffer_size = std::size_t(cfg.receive_buffer);
  return req;
}

bool claim(const config& cfg, counters& c) { return c.started.fetch_add(1, std::memory_order_relaxed) < cfg.total; }

void account(counters& c, const boost_curl::error_code& ec, const boost_curl::response& r) {
  if (ec || r.status != boost_curl::http::status::ok) c.errors.fetch_add(1, std::memory_order_relaxed);
  c.bytes.fetch_add(r.body.size(), std::memory_order_relaxed);
  c.done.fetch_add(1, std::memory_order_relaxed);
}

// Callback style: each completion starts the next fetch of its slot.
struct callback_loop {
  asio::io_context& ioc;
  boost_curl::session* session;  // null: no session
  const config& cfg;
  counters& c;
  void next() {
    if (!claim(cfg, c)) return;
    auto on_done = [this](boost_curl::error_code ec, boost_curl::response r) {
      account(c, ec, r);
      next();
    };
    if (session)
      session->async_fetch(make_request(cfg), std::move(on_done));
    else
      boost_curl::async_fetch(ioc, make_request(cfg), std::move(on_done));
  }
};

// --discard: one stream per slot, reopened for each request; the body goes through one buffer.
asio::awaitable<void> discard_loop(const config& cfg, counters& c, boost_curl::session* session) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<char> buffer(cfg.read_buffer);
  std::optional<boost_curl::stream> s;
  if (session)
    s.emplace(*session);
  else
    s.emplace(ex);
  while (claim(cfg, c)) {
    boost_curl::error_code ec;
    unsigned long long bytes = 0;
    if (cfg.read_with == read_start::with_open) {
      // The open with a plain handler, then the read awaited: the read completes after the
      // open's handler has run (same executor), so open_ec is set by then.
      boost_curl::error_code open_ec;
      s->async_open(make_request(cfg), [&open_ec](boost_curl::error_code e, boost_curl::response) { open_ec = e; });
      auto [read_ec, n] = co_await s->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      bytes = n;
      ec = open_ec ? open_ec : read_ec;
    } else if (cfg.read_with == read_start::in_group) {
      auto [order, open_ec, open_head, read_ec, n] =
          co_await asio::experimental::make_parallel_group(s->async_open(make_request(cfg), asio::deferred),
                                                           s->async_read_some(asio::buffer(buffer), asio::deferred))
              .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
      bytes = n;
      ec = open_ec ? open_ec : read_ec;
    } else {
      std::tie(ec, std::ignore) = co_await s->async_open(make_request(cfg), asio::as_tuple(asio::use_awaitable));
    }
    while (!ec) {
      auto [read_ec, n] = co_await s->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      bytes += n;
      ec = read_ec;
    }
    if (ec != asio::error::eof || s->head().status != boost_curl::http::status::ok) c.errors.fetch_add(1, std::memory_order_relaxed);
    c.bytes.fetch_add(bytes, std::memory_order_relaxed);
    c.done.fetch_add(1, std::memory_order_relaxed);
  }
}

asio::awaitable<void> coroutine_loop(const config& cfg, counters& c, boost_curl::session* session) {
  if (cfg.discard) {
    co_await discard_loop(cfg, c, session);
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  while (claim(cfg, c)) {
    // Not a conditional expression with a co_await in each branch: g++ 12 miscompiles that.
    std::tuple<boost_curl::error_code, boost_curl::response> result;
    if (session)
      result = co_await session->async_fetch(make_request(cfg), asio::as_tuple(asio::use_awaitable));
    else
      result = co_await boost_curl::async_fetch(ex, make_request(cfg), asio::as_tuple(asio::use_awaitable));
    account(c, std::get<0>(result), std::get<1>(result));
  }
}

void raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
#ifdef BOOST_CURL_BENCH_SELF_TEST
  if (argc == 2 && !std::strcmp(argv[1], "--self-test")) {
    // Short runs against the in-process origin, for ctest: each style, with and without
    // sessions. Every run prints its contract line; any error fails the test.
    boost_curl::tools::loopback_origin origin;
    std::string url = origin.url("/bytes/100");
    const std::vector<std::vector<std::string>> variants = {
        {}, {"--sessions", "2"}, {"--style", "coroutine"}, {"--style", "coroutine", "--sessions", "2"},
        {"--discard", "yes"}, {"--discard", "yes", "--sessions", "2"}, {"--discard", "after-head"}, {"--discard", "group"},
        {"--discard", "yes", "--read-buffer", "40"}};
    std::size_t ok = 0;
    for (const auto& extra : variants) {
      std::vector<std::string> words = {argv[0], url, "200", "8"};
      words.insert(words.end(), extra.begin(), extra.end());
      std::vector<char*> args;
      for (auto& w : words) args.push_back(w.data());
      if (run(static_cast<int>(args.size()), args.data()) == 0) ++ok;
    }
    std::printf("self-test: %zu of %zu runs ok\n", ok, variants.size());
    return ok == variants.size() ? 0 : 1;
  }
#endif
  return run(argc, argv);
}

int run(int argc, char** argv) {
  // Options may come before the three positional arguments too (compare.sh appends
  // URL TOTAL CONCURRENCY to the command it is given).
  config cfg;
  if (const char* ca = std::getenv("BENCH_CAINFO")) cfg.ca_file = ca;
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
      positional.push_back(argv[i]);
      continue;
    }
    const char* name = argv[i];
    const char* value = argv[++i];
    if (!std::strcmp(name, "--style"))
      cfg.coroutine = !std::strcmp(value, "coroutine");
    else if (!std::strcmp(name, "--threads"))
      cfg.threads = std::max(1, std::atoi(value));
    else if (!std::strcmp(name, "--ca"))
      cfg.ca_file = value;
    else if (!std::strcmp(name, "--per-multi"))  // transfers per multi handle, 0 = one handle
      cfg.per_multi = std::atol(value);
    else if (!std::strcmp(name, "--sessions"))  // sessions per context, 0 = none
      cfg.sessions = std::max(0L, std::atol(value));
    else if (!std::strcmp(name, "--receive-buffer"))  // request::receive_buffer_size, 0 = automatic
      cfg.receive_buffer = std::max(0L, std::atol(value));
    else if (!std::strcmp(name, "--read-buffer"))  // --discard: the reader's buffer size
      cfg.read_buffer = std::size_t(std::max(1L, std::atol(value)));
    else if (!std::strcmp(name, "--discard")) {  // bodies through a stream, dropped (coroutine style)
      cfg.discard = cfg.coroutine = !std::strcmp(value, "yes") || !std::strcmp(value, "group") ||
                                    !std::strcmp(value, "after-head");
      cfg.read_with = !std::strcmp(value, "group")        ? read_start::in_group
                      : !std::strcmp(value, "after-head") ? read_start::after_head
                                                          : read_start::with_open;
    }
    else if (!std::strcmp(name, "--http"))  // 1.1, 2 (ALPN / upgrade) or h2c (prior knowledge)
      cfg.version = !std::strcmp(value, "1.1") ? boost_curl::http_version::http1_1
                    : !std::strcmp(value, "2") ? boost_curl::http_version::http2
                    : boost_curl::http_version::http2_prior_knowledge;
    else {
      std::fprintf(stderr, "unknown option %s\n", name);
      return 2;
    }
  }
  if (positional.size() != 3) {
    std::fprintf(stderr,
                 "usage: %s URL TOTAL CONCURRENCY [--style callback|coroutine] [--threads N] [--ca FILE] "
                 "[--http 1.1|2|h2c] [--per-multi N] [--sessions N] [--discard yes|group|after-head] [--receive-buffer BYTES] "
                 "[--read-buffer BYTES]\n",
                 argv[0]);
    return 2;
  }
  cfg.url = positional[0];
  cfg.total = std::atol(positional[1]);
  cfg.concurrency = std::max(1L, std::atol(positional[2]));
  raise_descriptor_limit();

  counters c;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<callback_loop>> loops;
  std::vector<std::vector<boost_curl::session>> sessions(cfg.threads);
  for (unsigned t = 0; t < cfg.threads; ++t) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    if (cfg.per_multi >= 0)
      asio::use_service<boost_curl::curl_service>(*contexts.back()).set_transfers_per_multi(std::size_t(cfg.per_multi));
    for (long k = 0; k < cfg.sessions; ++k) sessions[t].emplace_back(*contexts.back());
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < cfg.concurrency; ++i) {
    const std::size_t t = static_cast<std::size_t>(i) % contexts.size();
    asio::io_context& ioc = *contexts[t];
    boost_curl::session* session =
        sessions[t].empty() ? nullptr : &sessions[t][static_cast<std::size_t>(i) / contexts.size() % sessions[t].size()];
    if (cfg.coroutine) {
      asio::co_spawn(ioc, coroutine_loop(cfg, c, session), asio::detached);
    } else {
      loops.push_back(std::make_unique<callback_loop>(callback_loop{ioc, session, cfg, c}));
      loops.back()->next();
    }
  }
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < cfg.threads; ++t) threads.emplace_back([&, t] { contexts[t]->run(); });
  contexts[0]->run();
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long done = c.done.load();
  std::printf("requests=%ld seconds=%.3f rps=%.0f errors=%ld bytes=%llu\n", done, seconds, done / seconds,
              c.errors.load(), c.bytes.load());
  return c.errors.load() ? 1 : 0;
}
