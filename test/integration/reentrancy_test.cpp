// Handlers that call back into the engine: a fetch started anywhere makes progress at once,
// and no user handler ever runs inside async_fetch or inside a cancellation signal's emit(),
// whichever thread starts, cancels or completes what.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;
using ct = boost::asio::cancellation_type;

namespace {

// Where the current thread is: inside an initiating function, inside emit().
thread_local int inside_async_fetch = 0;
thread_local int inside_emit = 0;

// Counts handlers invoked inside async_fetch or emit(), on any thread.
struct call_site_checker {
  std::atomic<int> handlers{0};
  std::atomic<int> violations{0};

  template <class F>
  auto wrap(F f) {
    return [this, f = std::move(f)](error_code ec, response r) mutable {
      ++handlers;
      if (inside_async_fetch || inside_emit) ++violations;
      f(ec, std::move(r));
    };
  }
  template <class Token>
  void start(asio::io_context& ctx, request req, Token&& token) {
    ++inside_async_fetch;
    async_fetch(ctx, std::move(req), std::forward<Token>(token));
    --inside_async_fetch;
  }
  void emit(asio::cancellation_signal& s, ct type) {
    ++inside_emit;
    s.emit(type);
    --inside_emit;
  }
};

// An executor that runs what it is given at once and lets its exceptions out, as a strand
// already running on the calling thread does, or a user's own executor may: the engine must
// neither drop a handler's exception nor lose the rest of the wake-up to it.
struct inline_executor {
  asio::io_context* ctx;
  asio::execution_context& query(asio::execution::context_t) const noexcept { return *ctx; }
  static constexpr asio::execution::blocking_t query(asio::execution::blocking_t) noexcept {
    return asio::execution::blocking.always;
  }
  template <class F>
  void execute(F&& f) const {
    std::forward<F>(f)();
  }
  friend bool operator==(const inline_executor& a, const inline_executor& b) noexcept { return a.ctx == b.ctx; }
  friend bool operator!=(const inline_executor& a, const inline_executor& b) noexcept { return a.ctx != b.ctx; }
};

// Runs ctx until it returns without an exception (at most `attempts` times); returns how many
// exceptions run() reported, an asio::multiple_exceptions counting for two.
int run_counting_exceptions(asio::io_context& ctx, int attempts) {
  int thrown = 0;
  for (int run = 0; run < attempts; ++run) {
    try {
      ctx.restart();
      ctx.run_for(run_limit);
      break;
    } catch (const asio::multiple_exceptions&) {
      thrown += 2;
    } catch (const std::exception&) {
      ++thrown;
    }
  }
  return thrown;
}

// A URL libcurl accepts as an option but fails to parse when the transfer starts, so the
// fetch fails inside the engine's first libcurl call for it.
const std::string fails_at_once = "http://[::1";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(reentrancy, origin_fixture)

// A handler the engine is delivering starts a fetch and blocks until it completed: the fetch
// must not wait for that handler to return (other threads run the context).
BOOST_AUTO_TEST_CASE(fetch_started_in_a_handler_progresses_while_the_handler_blocks) {
  std::atomic<int> outcome{0};  // 0 running, 1 inner fetch completed, 2 gave up
  async_fetch(ctx, request(url("/bytes/1")), [&](error_code, response) {
    auto inner = async_fetch(ctx, request(url("/bytes/2")), asio::use_future);
    outcome = inner.wait_for(5s) == std::future_status::ready && inner.get().body == "01" ? 1 : 2;
  });
  run_on_threads(ctx, 3, [&] { return outcome != 0; });
  BOOST_TEST(outcome.load() == 1);
}

// The same for several handlers completed together (delivered in one batch), each blocking.
// The context has more threads than there are such handlers: a context whose every thread
// blocks in a handler stops, whatever the library.
BOOST_AUTO_TEST_CASE(fetches_started_by_a_batch_of_handlers_all_progress) {
  constexpr int n = 8;
  std::atomic<int> completed_inner{0}, gave_up{0};
  for (int i = 0; i < n; ++i)
    async_fetch(ctx, request(url("/bytes/1")), [&](error_code, response) {
      auto inner = async_fetch(ctx, request(url("/bytes/5")), asio::use_future);
      (inner.wait_for(5s) == std::future_status::ready ? completed_inner : gave_up) += 1;
    });
  run_on_threads(ctx, n + 2, [&] { return completed_inner + gave_up == n; });
  BOOST_TEST(completed_inner.load() == n);
}

// The case: a handler starts P (which fails inside the engine's first libcurl call)
// and Q, then cancels Q. P's handler must not run inside that emit(), nor inside the
// async_fetch that started Q.
BOOST_AUTO_TEST_CASE(no_handler_runs_inside_emit_or_async_fetch) {
  call_site_checker check;
  asio::cancellation_signal signal;
  fetch_result p, q;
  bool started = false;
  check.start(ctx, request(url("/bytes/1")), check.wrap([&](error_code, response) {
    check.start(ctx, request(fails_at_once), check.wrap(record(p)));
    check.start(ctx, request(url("/hang")), asio::bind_cancellation_slot(signal.slot(), check.wrap(record(q))));
    check.emit(signal, ct::terminal);
    started = true;
  }));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(started);
  BOOST_TEST(p.calls == 1);
  BOOST_TEST((p.ec == condition::invalid_url));
  BOOST_TEST(q.calls == 1);
  BOOST_TEST((q.ec == asio::error::operation_aborted));
  BOOST_TEST(check.violations.load() == 0);
}

// Many chains on four threads: each round's handler starts a fetch that fails at once, one
// that hangs (and cancels it at once, terminal or partial), and one that succeeds; the next
// round starts from the successful one's handler.
BOOST_AUTO_TEST_CASE(chains_of_start_cancel_complete_on_four_threads) {
  constexpr int chains = 6, rounds = 40;
  call_site_checker check;
  std::mutex signals_mutex;
  std::deque<asio::cancellation_signal> signals;  // stable addresses; kept until the end
  std::atomic<int> chains_done{0}, failed_at_once{0}, aborted{0}, succeeded{0};
  const ct types[] = {ct::terminal, ct::partial, ct::terminal | ct::total};

  std::function<void(int, int)> round = [&](int chain, int n) {
    if (n == rounds) {
      ++chains_done;
      return;
    }
    asio::cancellation_signal* signal;
    {
      std::lock_guard lock(signals_mutex);
      signal = &signals.emplace_back();
    }
    check.start(ctx, request(fails_at_once), check.wrap([&](error_code ec, response) {
      if (ec == condition::invalid_url) ++failed_at_once;
    }));
    check.start(ctx, request(url("/hang")), asio::bind_cancellation_slot(signal->slot(), check.wrap([&](error_code ec, response) {
                  if (ec == asio::error::operation_aborted) ++aborted;
                })));
    check.emit(*signal, types[(chain + n) % 3]);
    check.start(ctx, request(url("/bytes/7")), check.wrap([&, chain, n](error_code ec, response r) {
      if (!ec && r.body == "0123456") ++succeeded;
      round(chain, n + 1);
    }));
  };
  for (int c = 0; c < chains; ++c)
    check.start(ctx, request(url("/bytes/1")), check.wrap([&, c](error_code, response) { round(c, 0); }));
  run_on_threads(ctx, 4, [&] { return chains_done == chains && check.handlers == chains * (1 + 3 * rounds); });

  BOOST_TEST(chains_done.load() == chains);
  BOOST_TEST(failed_at_once.load() == chains * rounds);
  BOOST_TEST(aborted.load() == chains * rounds);
  BOOST_TEST(succeeded.load() == chains * rounds);
  BOOST_TEST(check.violations.load() == 0);
}

// A handler that throws propagates from run(), as any Asio handler's exception does (the
// io_context's executor rethrows it once the engine's handler returned; two arrive as
// asio::multiple_exceptions). No completion is lost, nor a fetch the handlers started, also
// when they are delivered in the engine's later rounds. Here the handler of a fetch answered 20 ms later starts two fetches of
// a local file, which finish inside the engine's next libcurl calls and so are delivered in one
// round, then a fetch over HTTP; both file fetches' handlers throw.
BOOST_AUTO_TEST_CASE(a_throwing_handler_loses_no_other_completion) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("boost_curl_throwing_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << "abc";
  }
  auto from_file = [&] {
    request req("file://" + file.string());
    req.protocols = "file";
    return req;
  };
  int thrower_calls = 0, thrower_ok = 0;
  auto thrower = [&](error_code ec, response r) {
    ++thrower_calls;
    if (!ec && r.body == "abc") ++thrower_ok;
    throw std::runtime_error("thrown by a completion handler");
  };
  fetch_result over_http;
  async_fetch(ctx, request(url("/delay/20")), [&](error_code, response) {
    async_fetch(ctx, from_file(), thrower);
    async_fetch(ctx, from_file(), thrower);
    async_fetch(ctx, request(url("/bytes/3")), record(over_http));
  });
  int thrown = 0;
  for (int run = 0; run < 4; ++run) {
    try {
      ctx.restart();
      ctx.run_for(run_limit);
      break;
    } catch (const std::exception&) {
      ++thrown;
    }
  }
  std::filesystem::remove(file);
  BOOST_TEST(thrown >= 1);
  BOOST_TEST(thrower_calls == 2);
  BOOST_TEST(thrower_ok == 2);
  BOOST_TEST(over_http.calls == 1);
  BOOST_TEST(over_http.resp.body == "012");
}

// The same with handlers bound to an executor that lets their exceptions out of dispatch
// (inline_executor): each exception still propagates from run(), and the other completions of
// the wake-up still arrive. (deliver_one, which must not throw, dropped such an exception.)
BOOST_AUTO_TEST_CASE(an_exception_an_executor_lets_out_propagates_and_loses_nothing) {
  const inline_executor lets_out{&ctx};
  int thrower_calls = 0;
  auto thrower = asio::bind_executor(lets_out, [&](error_code ec, response r) {
    ++thrower_calls;
    BOOST_TEST(!ec);
    BOOST_TEST(r.body == "012");
    throw std::runtime_error("thrown by a completion handler");
  });
  fetch_result over_http;
  int started = 0;
  // Four fetches started by one handler: delivered in one of the engine's rounds, dispatched.
  async_fetch(ctx, request(url("/delay/20")), [&](error_code, response) {
    for (int i = 0; i < 3; ++i, ++started) async_fetch(ctx, request(url("/bytes/3")), thrower);
    async_fetch(ctx, request(url("/bytes/3")), record(over_http));
  });
  const int thrown = run_counting_exceptions(ctx, 8);
  BOOST_TEST(started == 3);
  BOOST_TEST(thrower_calls == 3);
  BOOST_TEST(thrown >= 2);  // all three, in one wake-up (multiple_exceptions: two) or more
  BOOST_TEST(over_http.calls == 1);
  BOOST_TEST(over_http.resp.body == "012");
}

// Progress callbacks run on the operation's executor, dispatched from the engine's wake-ups
// with the completions found there. Here they throw through inline_executor while chains of
// small fetches complete around them: no completion of those wake-ups may be lost (a chain
// stalls if one is), and the callbacks' exceptions propagate from run().
BOOST_AUTO_TEST_CASE(a_progress_callback_that_throws_loses_no_completion) {
  const inline_executor lets_out{&ctx};
  constexpr int slow = 4, chains = 16;
  std::atomic<int> progress_calls{0};
  int slow_done = 0, chains_done = 0, chain_started = 0, chain_ok = 0;
  for (int i = 0; i < slow; ++i) {
    request req(url("/slow-body/20/25"));  // 20 pieces 25 ms apart: progress about every 100 ms
    req.on_progress = [&](const transfer_progress&) {
      ++progress_calls;
      throw std::runtime_error("thrown by a progress callback");
    };
    async_fetch(ctx, std::move(req), asio::bind_executor(lets_out, [&](error_code, response) { ++slow_done; }));
  }
  // Each chain fetches one small body after the other until the slow fetches have all ended.
  std::function<void()> chain = [&] {
    ++chain_started;
    async_fetch(ctx, request(url("/bytes/2")), [&](error_code ec, response r) {
      if (!ec && r.body == "01") ++chain_ok;
      if (slow_done < slow)
        chain();
      else
        ++chains_done;
    });
  };
  for (int c = 0; c < chains; ++c) chain();
  const int thrown = run_counting_exceptions(ctx, 200);
  BOOST_TEST(slow_done == slow);
  BOOST_TEST(chains_done == chains);  // a lost completion stalls its chain
  BOOST_TEST(chain_ok == chain_started);
  BOOST_TEST(chain_started > 2 * chains);
  BOOST_TEST(progress_calls.load() > slow);  // the final calls, and some on the way
  BOOST_TEST(thrown >= 1);
  BOOST_TEST(thrown <= progress_calls.load());
}

// Exceptions the io_context's executor keeps and exceptions the engine catches, in the same
// wake-up: both reach run() (as asio::multiple_exceptions: one handler of the reactor ran
// them). A handler starts two file fetches; the first finishes inside its start, and its
// handler, bound to inline_executor, is dispatched by the round's next turn; the second starts
// after the round's handlers, where its progress callback (on the io_context's executor,
// throwing on its first call) is dispatched, before that turn.
BOOST_AUTO_TEST_CASE(exceptions_kept_by_asio_and_by_the_engine_all_reach_run) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("boost_curl_two_throwers_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << std::string(100000, 'x');
  }
  auto from_file = [&] {
    request req("file://" + file.string());
    req.protocols = "file";
    return req;
  };
  const inline_executor lets_out{&ctx};
  int handler_calls = 0, progress_calls = 0, quiet_calls = 0;
  async_fetch(ctx, request(url("/delay/20")), [&](error_code, response) {
    async_fetch(ctx, from_file(), asio::bind_executor(lets_out, [&](error_code, response) {
                  ++handler_calls;
                  throw std::runtime_error("thrown through inline_executor");
                }));
    request with_progress = from_file();
    with_progress.on_progress = [&](const transfer_progress&) {
      if (progress_calls++ == 0) throw std::logic_error("thrown by a progress callback");
    };
    async_fetch(ctx, std::move(with_progress), [&](error_code, response) { ++quiet_calls; });
  });
  const int reported = run_counting_exceptions(ctx, 8);
  std::filesystem::remove(file);
  BOOST_TEST(handler_calls == 1);
  BOOST_TEST(quiet_calls == 1);
  BOOST_TEST(progress_calls >= 2);  // on the way, and the final call
  BOOST_TEST(reported == 2);
}

// A stream's read handler bound to inline_executor throws (after starting the next read): the
// exception reaches run(), and the stream reads on to the end. The first read is started with
// the open, so the engine's wake-up completes it, dispatching it inline.
BOOST_AUTO_TEST_CASE(a_stream_handler_that_throws_through_its_executor_reaches_run) {
  const inline_executor lets_out{&ctx};
  boost_curl::stream s(ctx);
  char buffer[512];
  int reads = 0;
  std::size_t total = 0;
  bool at_eof = false;
  std::function<void()> read_more;
  read_more = [&] {
    s.async_read_some(asio::buffer(buffer), asio::bind_executor(lets_out, [&](error_code ec, std::size_t n) {
                        ++reads;
                        total += n;
                        if (ec) {
                          at_eof = ec == asio::error::eof;
                          return;
                        }
                        read_more();
                        if (reads == 1) throw std::runtime_error("thrown by a stream's read handler");
                      }));
  };
  error_code open_ec = asio::error::would_block;
  s.async_open(request(url("/slow-body/4/30")), [&](error_code ec, response) { open_ec = ec; });
  read_more();
  const int thrown = run_counting_exceptions(ctx, 8);
  BOOST_TEST(!open_ec);
  BOOST_TEST(thrown == 1);
  BOOST_TEST(at_eof);
  BOOST_TEST(total == 4000u);
}

// A session's response hook and the handler both throw: the handler still runs once, and run()
// reports one asio::multiple_exceptions holding the hook's exception (before: only the
// handler's arrived, the hook's was lost).
BOOST_AUTO_TEST_CASE(a_hook_and_its_handler_both_throwing_reach_run_together) {
  session s(ctx);
  s.on_response([](const request&, const response&) { throw std::logic_error("thrown by the hook"); });
  int handler_calls = 0;
  s.async_fetch(request(url("/bytes/3")), [&](error_code, response) {
    ++handler_calls;
    throw std::runtime_error("thrown by the handler");
  });
  bool hook_first = false;
  int other = 0;
  for (int run = 0; run < 4; ++run) {
    try {
      ctx.restart();
      ctx.run_for(run_limit);
      break;
    } catch (const asio::multiple_exceptions& e) {
      try {
        std::rethrow_exception(e.first_exception());
      } catch (const std::logic_error&) {
        hook_first = true;
      } catch (...) {
        ++other;
      }
    } catch (const std::exception&) {
      ++other;
    }
  }
  BOOST_TEST(handler_calls == 1);
  BOOST_TEST(hook_first);
  BOOST_TEST(other == 0);
}

BOOST_AUTO_TEST_SUITE_END()
