// When the engine hands new transfers to libcurl, observed where it acts: the calls of
// curl_multi_socket_action(CURL_SOCKET_TIMEOUT) (interposed), the call that runs a transfer
// libcurl has just been given. Fetches started by the completion handlers of one engine
// wake-up are handed over together once those handlers returned, as libcurl's own loop adds
// transfers between two rounds; and rounds that keep finding finished transfers still leave the
// other handlers of the io_context their turn. Part of the interposing program.

#include "test_support.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <curl/curl.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {
std::atomic<std::size_t> timeout_actions{0};
}  // namespace

extern "C" CURLMcode curl_multi_socket_action(CURLM* multi, curl_socket_t s, int ev_bitmask, int* running) {
  using action_fn = CURLMcode (*)(CURLM*, curl_socket_t, int, int*);
  static const auto real_action = reinterpret_cast<action_fn>(::dlsym(RTLD_NEXT, "curl_multi_socket_action"));
  if (s == CURL_SOCKET_TIMEOUT) ++timeout_actions;
  return real_action(multi, s, ev_bitmask, running);
}

BOOST_FIXTURE_TEST_SUITE(start_batching, origin_fixture)

// A fetch started outside the engine's handlers is handed to libcurl inside async_fetch, and
// so is the first one a round of the engine's handlers starts; the others they start, once
// they returned, together: one libcurl call inside the handler (a few at most: libcurl may ask
// to be called again), not one per fetch, and all of them complete. Plain handlers and
// handlers bound to a strand alike.
BOOST_AUTO_TEST_CASE(fetches_started_by_a_handler_start_when_it_returns) {
  constexpr int fan_out = 16;
  auto strand = asio::make_strand(ctx);
  for (const bool on_strand : {false, true}) {
    BOOST_TEST_CONTEXT("handlers on a strand: " << on_strand) {
      std::size_t in_handler_before = 0, in_handler_after = 0;
      int completed = 0, ok = 0;
      auto fan = [&](error_code ec, response) {
        BOOST_TEST(!ec, ec.message());
        in_handler_before = timeout_actions.load();
        for (int i = 0; i < fan_out; ++i) {
          auto count = [&](error_code e, response r) {
            ++completed;
            if (!e && r.status_code() == 200 && r.body.size() == 10) ++ok;
          };
          if (on_strand)
            async_fetch(ctx, request(url("/bytes/10")), asio::bind_executor(strand, count));
          else
            async_fetch(ctx, request(url("/bytes/10")), count);
        }
        in_handler_after = timeout_actions.load();
      };
      const std::size_t at_start = timeout_actions.load();
      // Answered 20 ms later: it completes at a wake-up of the engine, never inside async_fetch.
      if (on_strand)
        async_fetch(ctx, request(url("/delay/20")), asio::bind_executor(strand, fan));
      else
        async_fetch(ctx, request(url("/delay/20")), fan);
      BOOST_TEST(timeout_actions.load() > at_start);  // under way before async_fetch returned
      run_bounded(ctx);
      BOOST_TEST(in_handler_before > at_start);
      BOOST_TEST(in_handler_after - in_handler_before >= 1u);  // the first one at once
      BOOST_TEST(in_handler_after - in_handler_before <= 4u);  // not the 15 others
      BOOST_TEST(completed == fan_out);
      BOOST_TEST(ok == fan_out);
    }
  }
}

// 32 chains of fetches, each handler starting the next, on one thread, while another handler
// keeps posting itself. The fetches read a local file (file://), so each one finishes inside
// the libcurl call that starts it: every round of handlers and starts finds finished transfers
// again, the interleaving that would keep the engine going forever. Its rounds are bounded (9
// rounds of at most 32 completions here), then the completions left wait for the next
// wake-up, behind what else is queued. Counted: the most completions between two turns of the
// other handler (all of them with no bound).
BOOST_AUTO_TEST_CASE(a_busy_chain_of_fetches_leaves_other_handlers_their_turn) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("boost_curl_batching_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << "0123456789";
  }
  constexpr int chains = 32;
  const int total = sanitized ? 1000 : 4000;
  int started = 0, completed = 0, failed = 0, since_tick = 0, most_between_ticks = 0, ticks = 0;
  bool finished = false;
  std::function<void()> tick = [&] {
    ++ticks;
    since_tick = 0;
    if (!finished) asio::post(ctx, tick);
  };
  std::function<void()> next = [&] {
    ++started;
    request req("file://" + file.string());
    req.protocols = "file";
    async_fetch(ctx, std::move(req), [&](error_code ec, response r) {
      ++completed;
      if (ec || r.body != "0123456789") ++failed;
      most_between_ticks = std::max(most_between_ticks, ++since_tick);
      if (started < total)
        next();
      else if (completed == total)
        finished = true;
    });
  };
  // Begun by a handler the engine runs (a fetch answered 20 ms later), as a load generator's
  // chains are: the first round of starts is then served by the engine's rounds.
  async_fetch(ctx, request(url("/delay/20")), [&](error_code ec, response) {
    BOOST_TEST(!ec, ec.message());
    for (int i = 0; i < chains; ++i) next();
    asio::post(ctx, tick);
  });
  run_bounded(ctx);
  std::filesystem::remove(file);
  BOOST_TEST(completed == total);
  BOOST_TEST(failed == 0);
  BOOST_TEST_MESSAGE("most completions between two turns of another handler: " << most_between_ticks << ", turns: "
                                                                                << ticks);
  BOOST_TEST(most_between_ticks <= 9 * chains);
}

BOOST_AUTO_TEST_SUITE_END()
