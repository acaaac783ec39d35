// Streams under concurrency: several threads run the context, every stream on a strand of
// its own, readers of small pieces (so transfers pause and resume all the time), cancellations
// from foreign threads at random moments, handlers that open further streams, and plain
// fetches sharing the multi handles; half the streams start their first read with the open
// (before its handler ran). For ThreadSanitizer above all.

#include "test_support.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

struct tally {
  std::atomic<int> finished{0}, complete_bodies{0}, aborted{0}, other_errors{0}, broken{0}, double_completions{0},
      read_before_open{0};
};

// One stream read to its end in pieces of `piece` bytes, on its own strand.
struct reader : std::enable_shared_from_this<reader> {
  asio::strand<asio::io_context::executor_type> strand;
  stream s;
  std::string url;
  std::uint64_t size;
  std::vector<char> buffer;
  std::uint64_t total = 0;
  tally& t;
  int chained;  // streams this one opens from its last handler
  bool read_with_open;  // the first read started right after the open, not from its handler
  bool opened = false;  // the open's handler ran (on the strand)
  std::atomic<int> completions{0};

  reader(asio::io_context& ctx, std::string u, std::uint64_t n, std::size_t piece, tally& counts, int chain,
         bool with_open)
      : strand(asio::make_strand(ctx)), s(strand), url(std::move(u)), size(n), buffer(piece), t(counts),
        chained(chain), read_with_open(with_open) {}

  void start() {
    s.async_open(request(url), [self = shared_from_this()](error_code ec, response) {
      self->opened = true;
      if (self->read_with_open) return;  // the pending read completes next, with ec if any
      if (ec) return self->end(ec);
      self->read();
    });
    if (read_with_open) read();
  }
  void read() {
    s.async_read_some(asio::buffer(buffer), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (!self->opened) ++self->t.read_before_open;
      if (!has_origin_pattern(std::string_view(self->buffer.data(), n), self->total)) ++self->t.broken;
      self->total += n;
      if (ec) return self->end(ec);
      self->read();
    });
  }
  void end(error_code ec) {
    if (++completions != 1) ++t.double_completions;
    if (ec == asio::error::eof && total == size)
      ++t.complete_bodies;
    else if (ec == asio::error::operation_aborted)
      ++t.aborted;
    else
      ++t.other_errors;
    if (chained > 0) {  // a handler that opens the next stream
      auto next = std::make_shared<reader>(asio::query(strand, asio::execution::context), url, size, buffer.size(), t,
                                           chained - 1, read_with_open);
      next->start();
    }
    ++t.finished;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(stream_concurrency, origin_fixture)

BOOST_AUTO_TEST_CASE(many_streams_on_strands_with_foreign_cancellations) {
  const int streams = sanitized ? 24 : 96, chain = 2;
  const std::uint64_t size = 600000;  // past the stream's buffer: each transfer pauses
  tally t;
  std::vector<std::shared_ptr<reader>> readers;
  for (int i = 0; i < streams; ++i)
    readers.push_back(std::make_shared<reader>(ctx, url("/bytes/" + std::to_string(size)), size,
                                               i % 3 == 0 ? 1000 : 16384, t, i % 4 == 0 ? chain : 0, i % 2 == 1));
  std::atomic<int> fetches_done{0};
  for (auto& r : readers) r->start();
  // Plain fetches on the same multi handles meanwhile.
  for (int i = 0; i < 16; ++i)
    async_fetch(ctx, request(url("/bytes/1000")), [&](error_code ec, response r) {
      if (!ec && r.body.size() == 1000) ++fetches_done;
    });
  // A third cancelled from foreign threads, at random moments.
  std::vector<std::thread> cancellers;
  for (int k = 0; k < 2; ++k)
    cancellers.emplace_back([&, k] {
      std::mt19937 rng(20261202 + k);
      for (int i = k; i < streams; i += 6) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
        asio::post(readers[i]->strand, [r = readers[i]] { r->s.cancel(); });
      }
    });
  const int expected = streams + (streams / 4) * chain;
  run_on_threads(ctx, 4, [&] { return t.finished.load() == expected && fetches_done.load() == 16; });
  for (auto& c : cancellers) c.join();
  BOOST_TEST_MESSAGE(t.finished << " streams: " << t.complete_bodies << " read whole, " << t.aborted << " aborted, "
                                << t.other_errors << " other errors");
  BOOST_TEST(t.finished.load() == expected);
  BOOST_TEST(fetches_done.load() == 16);
  BOOST_TEST(t.double_completions.load() == 0);
  BOOST_TEST(t.read_before_open.load() == 0);
  BOOST_TEST(t.broken.load() == 0);
  BOOST_TEST(t.other_errors.load() == 0);
  BOOST_TEST(t.complete_bodies.load() >= expected - streams / 3);
  readers.clear();
  run_on_threads(ctx, 2, [&] { return service().active_transfers() == 0; });
  BOOST_TEST(service().active_transfers() == 0u);
}

// Destroying streams from other threads while their transfers run and pause.
BOOST_AUTO_TEST_CASE(streams_destroyed_mid_body_from_their_strands) {
  const int streams = sanitized ? 16 : 48;
  std::atomic<int> destroyed{0}, opened{0};
  std::vector<asio::strand<asio::io_context::executor_type>> strands;
  std::vector<std::unique_ptr<stream>> ss;
  for (int i = 0; i < streams; ++i) {
    strands.push_back(asio::make_strand(ctx));
    ss.push_back(std::make_unique<stream>(strands.back()));
  }
  for (int i = 0; i < streams; ++i)
    ss[i]->async_open(request(url("/bytes/5000000")), [&, i](error_code ec, response) {
      if (!ec) ++opened;
      // Destroyed from its strand with nothing read: its transfer is paused or running.
      asio::post(strands[i], [&, i] {
        ss[i].reset();
        ++destroyed;
      });
    });
  run_on_threads(ctx, 3, [&] { return destroyed.load() == streams; });
  BOOST_TEST(destroyed.load() == streams);
  BOOST_TEST(opened.load() == streams);
  run_on_threads(ctx, 2, [&] { return service().active_transfers() == 0; });
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
