// soak: a long run that must not drift. Keeps --concurrency transfers in flight for
// --requests requests against the embedded loopback origin, on --threads threads, half through
// a few sessions and half plain; 1% are cancelled at a random moment and 1% ask for a faulty
// answer (a reset before the answer, a body cut short, a slow drip, a length that lies and
// then silence). Every second it prints resident memory, open descriptors and the service's
// counters; at the end it fails (exit 1) when
//   - an operation completed other than exactly once, or a faulty answer succeeded,
//   - nothing completed for --stall seconds (every request has a timeout: one was lost),
//   - resident memory grew over the second half (least-squares slope, bytes per request,
//     over --max-slope; judged from 10 one-second samples on),
//   - once the context is gone, descriptors are not back to what they were before it.
// A program, not a timed test: its figures go in doc/reliability.md.
//   soak [--requests N] [--concurrency C] [--threads T] [--max-slope B] [--stall S]
//        [--faulty-percent P] [--cancel-percent P]   (default 1 and 1)
#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>
#include <origin/process_stats.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace boost_curl;
using namespace std::chrono_literals;

namespace {

struct settings {
  std::size_t requests = 2'000'000;
  std::size_t concurrency = 1000;
  unsigned threads = 2;
  double max_slope = 16;  // bytes of resident memory per request over the second half
  std::size_t sessions = 16;
  unsigned faulty_percent = 1, cancel_percent = 1;
  unsigned stall_seconds = 45;  // no completion for this long: an operation was lost (timeouts are 30 s at most)
};

struct sample {
  double seconds;
  std::size_t completed, rss_kb, descriptors, active, sockets;
};

// Kinds of request, by what the origin answers.
enum class kind { good, faulty, cancelled };

class soak {
 public:
  soak(const settings& s, tools::loopback_origin& origin, asio::io_context& ctx)
      : s_(s), origin_(origin), ctx_(ctx), completions_(s.requests), draws_(s.requests) {
    for (std::size_t i = 0; i < s.sessions; ++i) sessions_.push_back(std::make_unique<session>(ctx));
  }

  void start() {
    std::lock_guard lock(mutex_);
    fill();
  }

  bool wait(std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, limit, [&] { return finished_ == s_.requests; });
  }

  std::size_t finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

  // The verdicts, once done.
  std::size_t twice_or_never() const {
    std::size_t bad = 0;
    for (const auto& c : completions_) bad += c.load() != 1;
    return bad;
  }
  std::size_t faulty_succeeded() const { return faulty_ok_; }
  std::size_t good_failed() const { return good_failed_; }
  std::size_t cancelled() const { return cancelled_ok_ + cancelled_err_; }
  std::string last_unexpected() const {
    std::lock_guard lock(mutex_);
    return last_unexpected_;
  }
  void drop_sessions() { sessions_.clear(); }

  // The operations started and not completed, described (at most `n`): for a stalled run.
  std::vector<std::string> unfinished(std::size_t n) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < started_ && out.size() < n; ++i)
      if (completions_[i].load() == 0) out.push_back("#" + std::to_string(i) + " " + describe(draws_[i]));
    return out;
  }

 private:
  void fill() {  // with mutex_ held
    while (started_ < s_.requests && started_ - finished_ < s_.concurrency) start_one();
  }

  // Everything about a request follows from its random draw `r` (kept, 4 bytes a request:
  // the bookkeeping must not grow the heap as the run goes, or it would be the drift measured).
  kind kind_of(unsigned r) const {
    const unsigned percent = r % 100;
    return percent < s_.faulty_percent                      ? kind::faulty
           : percent < s_.faulty_percent + s_.cancel_percent ? kind::cancelled
                                                             : kind::good;
  }
  static bool in_session(unsigned r) { return (r >> 16) % 2 == 0; }
  const char* route(unsigned r) const {
    if (kind_of(r) == kind::faulty) {
      switch ((r >> 8) % 4) {
        case 0: return "/close-immediately";
        case 1: return "/close-mid-body";
        case 2: return "/slow-body/5/20";  // a drip, cut by the request's 50 ms timeout
        default: return "/lie-length";      // then silence, cut by the timeout
      }
    }
    return (r >> 8) % 8 == 0 ? "/bytes/100000" : "/bytes/1000";
  }
  std::string describe(unsigned r) const {
    const kind k = kind_of(r);
    return std::string(k == kind::faulty ? "faulty " : k == kind::cancelled ? "cancelled " : "good ") +
           (in_session(r) ? "session " : "plain ") + route(r);
  }

  void start_one() {
    const std::size_t index = started_++;
    const unsigned r = rng_();
    draws_[index] = r;
    const kind k = kind_of(r);
    request req(origin_.url(route(r)));
    req.timeout = k == kind::faulty ? 50ms : 30s;
    const bool in_session = soak::in_session(r);
    auto signal = k == kind::cancelled ? std::make_shared<asio::cancellation_signal>() : nullptr;
    auto on_done = [this, index, k, signal](error_code ec, response resp) {
      ++completions_[index];
      std::lock_guard lock(mutex_);
      if (k == kind::faulty && !ec) ++faulty_ok_;
      if (k == kind::good && (ec || resp.status_code() != 200)) {
        ++good_failed_;
        last_unexpected_ = ec ? ec.message() + ": " + resp.error_message : "status " + std::to_string(resp.status_code());
      }
      if (k == kind::cancelled) (ec ? cancelled_err_ : cancelled_ok_) += 1;
      ++finished_;
      fill();
      if (finished_ == s_.requests) done_.notify_all();
    };
    if (signal) {
      auto token = asio::bind_cancellation_slot(signal->slot(), std::move(on_done));
      if (in_session) sessions_[(r >> 20) % sessions_.size()]->async_fetch(std::move(req), std::move(token));
      else async_fetch(ctx_, std::move(req), std::move(token));
      auto timer = std::make_shared<asio::steady_timer>(ctx_, std::chrono::microseconds(rng_() % 5000));
      timer->async_wait([timer, signal](error_code) { signal->emit(asio::cancellation_type::terminal); });
    } else if (in_session) {
      sessions_[(r >> 20) % sessions_.size()]->async_fetch(std::move(req), std::move(on_done));
    } else {
      async_fetch(ctx_, std::move(req), std::move(on_done));
    }
  }

  const settings& s_;
  tools::loopback_origin& origin_;
  asio::io_context& ctx_;
  std::vector<std::unique_ptr<session>> sessions_;
  std::vector<std::atomic<unsigned char>> completions_;
  std::vector<unsigned> draws_;  // each request's random draw (see describe())
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::mt19937 rng_{20261201};
  std::size_t started_ = 0, finished_ = 0;
  std::size_t faulty_ok_ = 0, good_failed_ = 0, cancelled_ok_ = 0, cancelled_err_ = 0;
  std::string last_unexpected_;
};

// Least-squares slope of rss (bytes) against completed requests.
double slope_bytes_per_request(const std::vector<sample>& v) {
  if (v.size() < 3) return 0;
  double mx = 0, my = 0;
  for (const auto& s : v) mx += double(s.completed), my += double(s.rss_kb) * 1024;
  mx /= double(v.size()), my /= double(v.size());
  double num = 0, den = 0;
  for (const auto& s : v) {
    const double dx = double(s.completed) - mx;
    num += dx * (double(s.rss_kb) * 1024 - my);
    den += dx * dx;
  }
  return den == 0 ? 0 : num / den;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  bool usage = argc % 2 == 0;
  for (int i = 1; i + 1 < argc && !usage; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    try {
      if (a == "--requests") s.requests = std::stoull(v);
      else if (a == "--concurrency") s.concurrency = std::stoull(v);
      else if (a == "--threads") s.threads = static_cast<unsigned>(std::stoul(v));
      else if (a == "--max-slope") s.max_slope = std::stod(v);
      else if (a == "--faulty-percent") s.faulty_percent = static_cast<unsigned>(std::stoul(v));
      else if (a == "--cancel-percent") s.cancel_percent = static_cast<unsigned>(std::stoul(v));
      else if (a == "--stall") s.stall_seconds = static_cast<unsigned>(std::stoul(v));
      else usage = true;
    } catch (const std::exception&) {
      usage = true;
    }
  }
  if (usage || s.requests == 0 || s.concurrency == 0 || s.threads == 0 || s.threads > 64 ||
      s.faulty_percent + s.cancel_percent > 100) {
    std::fprintf(stderr, "usage: soak [--requests N] [--concurrency C] [--threads T] [--max-slope BYTES] [--stall SECONDS]\n"
                 "            [--faulty-percent P] [--cancel-percent P]\n");
    return 2;
  }

  // Each connection takes two descriptors here (the origin is in this process): raise the soft
  // limit to the hard one.
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }

  tools::loopback_origin origin;
  {  // whatever libcurl and the libraries open once belongs in the baseline
    asio::io_context warm;
    async_fetch(warm, request(origin.url("/bytes/1")), [](error_code, response) {});
    warm.run_for(10s);
  }
  for (int i = 0; i < 500 && origin.open_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  const std::size_t baseline_fds = tools::open_descriptors();
  std::printf("soak: %zu requests, %zu in flight, %u threads, %zu sessions; descriptors before: %zu\n",
              s.requests, s.concurrency, s.threads, s.sessions, baseline_fds);
  std::printf("%8s %10s %9s %6s %7s %8s\n", "seconds", "completed", "rss_kib", "fds", "active", "sockets");

  std::vector<sample> samples;
  bool finished_all = false;
  std::size_t twice = 0, faulty_ok = 0, good_failed = 0, cancelled = 0, active_end = 0;
  std::string unexpected;
  service_statistics stats;
  const auto t0 = std::chrono::steady_clock::now();
  {
    asio::io_context ctx(static_cast<int>(s.threads));
    auto& service = asio::use_service<curl_service>(ctx);
    soak run(s, origin, ctx);
    auto work = asio::make_work_guard(ctx);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < s.threads; ++i) threads.emplace_back([&] { ctx.run(); });
    run.start();
    // Bounded: every request has a timeout (30 s at most), so a run that completes nothing for
    // --stall seconds has lost an operation: it stops and says which.
    std::size_t last_completed = 0;
    auto last_progress = std::chrono::steady_clock::now();
    while (!(finished_all = run.wait(1s))) {
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - t0).count();
      samples.push_back({secs, run.finished(), tools::resident_kb(), tools::open_descriptors(), service.active_transfers(),
                         service.open_sockets()});
      const sample& x = samples.back();
      std::printf("%8.1f %10zu %9zu %6zu %7zu %8zu\n", x.seconds, x.completed, x.rss_kb, x.descriptors, x.active,
                  x.sockets);
      std::fflush(stdout);
      if (x.completed != last_completed) last_completed = x.completed, last_progress = now;
      if (now - last_progress > std::chrono::seconds(s.stall_seconds)) {
        std::printf("soak: STALLED: nothing completed for %u s; %zu unfinished, among them:\n", s.stall_seconds,
                    s.requests - x.completed);
        for (const std::string& w : run.unfinished(20)) std::printf("  %s\n", w.c_str());
        break;
      }
    }
    std::this_thread::sleep_for(100ms);  // cancellation timers that outlived their operations
    twice = run.twice_or_never();
    faulty_ok = run.faulty_succeeded();
    good_failed = run.good_failed();
    cancelled = run.cancelled();
    unexpected = run.last_unexpected();
    active_end = service.active_transfers();
    stats = service.statistics();
    run.drop_sessions();
    work.reset();
    ctx.stop();
    for (auto& t : threads) t.join();
  }
  for (int i = 0; i < 500 && origin.open_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  const std::size_t end_fds = tools::open_descriptors();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<sample> second_half;
  for (const auto& x : samples)
    if (x.completed >= s.requests / 2) second_half.push_back(x);
  // Fewer samples than this say nothing about a trend (a run of a few seconds): not judged.
  constexpr std::size_t min_samples = 10;
  const bool slope_judged = second_half.size() >= min_samples;
  const double slope = slope_bytes_per_request(second_half);
  const std::size_t peak_rss = tools::peak_resident_kb();  // the kernel's high-water mark, origin included

  std::printf("soak: %s in %.1f s (%.0f requests/s); %zu cancelled at random, %zu good requests failed%s%s\n",
              finished_all ? "finished" : "DID NOT FINISH", secs, double(s.requests) / secs, cancelled, good_failed,
              good_failed ? " (last: " : "", good_failed ? (unexpected + ")").c_str() : "");
  std::printf("soak: rss peak %zu KiB (process, origin included), slope over the second half %.2f bytes/request (%zu samples, limit %.1f%s)\n",
              peak_rss, slope, second_half.size(), s.max_slope, slope_judged ? "" : "; too few samples, not judged");
  std::printf("soak: descriptors %zu before, %zu after the context; %zu completed other than once; %zu faulty "
              "answers taken for good; %zu active at the end\n",
              baseline_fds, end_fds, twice, faulty_ok, active_end);

  std::printf("soak: service: %zu transfers, %zu connections opened, %zu multi handles (%zu retirements), %zu "
              "timeouts enforced by the engine (libcurl lost the timer)\n",
              stats.transfers_started, stats.sockets_opened, stats.multi_handles, stats.multi_handles_retired,
              stats.timeouts_enforced);

  bool ok = finished_all && twice == 0 && faulty_ok == 0 && good_failed == 0 && active_end == 0 &&
            end_fds == baseline_fds && (!slope_judged || slope <= s.max_slope);
  std::printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
