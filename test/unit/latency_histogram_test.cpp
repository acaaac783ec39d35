// bcurl's latency histogram (tools/bcurl/latency_histogram.hpp): bucket layout, percentiles
// against known distributions, merge, and the edges (empty, clamped values).
#include <bcurl/latency_histogram.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

using bcurl::latency_histogram;

namespace {

// Histograms are ~22 KiB; keep them off the test's stack.
std::unique_ptr<latency_histogram> make() { return std::make_unique<latency_histogram>(); }

// What a percentile may report for a true value v: v itself up to the top of v's bucket.
bool within_precision(std::uint64_t reported, std::uint64_t v) {
  return reported >= v && double(reported) <= double(v) * (1.0 + latency_histogram::relative_precision) + 1.0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(latency_histogram_suite)

BOOST_AUTO_TEST_CASE(empty_histogram_reports_zeros) {
  auto h = make();
  BOOST_TEST(h->count() == 0u);
  BOOST_TEST(h->percentile(50) == 0u);
  BOOST_TEST(h->percentile(100) == 0u);
  BOOST_TEST(h->max() == 0u);
  BOOST_TEST(h->min() == 0u);
  BOOST_TEST(h->mean() == 0.0);
  BOOST_TEST(h->coarse_buckets().empty());
}

BOOST_AUTO_TEST_CASE(uniform_1_to_10000) {
  auto h = make();
  for (std::uint64_t v = 1; v <= 10000; ++v) h->record(v);
  BOOST_TEST(h->count() == 10000u);
  BOOST_TEST(h->min() == 1u);
  BOOST_TEST(h->max() == 10000u);
  BOOST_TEST(h->mean() == 5000.5);  // the sum is kept exactly
  BOOST_TEST(within_precision(h->percentile(50), 5000), h->percentile(50));
  BOOST_TEST(within_precision(h->percentile(90), 9000), h->percentile(90));
  BOOST_TEST(within_precision(h->percentile(99), 9900), h->percentile(99));
  BOOST_TEST(within_precision(h->percentile(99.9), 9990), h->percentile(99.9));
  BOOST_TEST(h->percentile(100) == 10000u);
  BOOST_TEST(h->percentile(0) == 1u);
}

BOOST_AUTO_TEST_CASE(small_values_are_exact) {
  auto h = make();
  for (std::uint64_t v = 1; v <= 100; ++v) h->record(v);
  BOOST_TEST(h->percentile(50) == 50u);
  BOOST_TEST(h->percentile(99) == 99u);
  BOOST_TEST(h->percentile(1) == 1u);
}

BOOST_AUTO_TEST_CASE(single_value_is_reported_exactly) {
  // Clamping to [min, max] removes the bucket's rounding when all values are equal.
  auto h = make();
  for (int i = 0; i < 10; ++i) h->record(12345);
  BOOST_TEST(h->percentile(0) == 12345u);
  BOOST_TEST(h->percentile(50) == 12345u);
  BOOST_TEST(h->percentile(100) == 12345u);
}

BOOST_AUTO_TEST_CASE(bimodal_distribution_keeps_the_tail) {
  auto h = make();
  for (int i = 0; i < 9900; ++i) h->record(1000);
  for (int i = 0; i < 100; ++i) h->record(100'000);
  BOOST_TEST(within_precision(h->percentile(50), 1000));
  BOOST_TEST(within_precision(h->percentile(99), 1000));  // rank 9900 is the last fast one
  BOOST_TEST(h->percentile(99.9) == 100'000u);
  BOOST_TEST(h->max() == 100'000u);
}

BOOST_AUTO_TEST_CASE(exponential_distribution_matches_exact_quantiles) {
  // Random values against their own sorted order: the histogram's answer must lie between
  // the exact quantile and the top of its bucket.
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> dist(1.0 / 2000.0);  // mean 2 ms
  std::vector<std::uint64_t> values(200'000);
  auto h = make();
  for (auto& v : values) {
    v = std::uint64_t(dist(rng)) + 1;
    h->record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const std::uint64_t exact = values[std::size_t(std::ceil(p / 100.0 * double(values.size()))) - 1];
    BOOST_TEST(within_precision(h->percentile(p), exact), "p" << p << ": " << h->percentile(p) << " vs " << exact);
  }
  BOOST_TEST(h->max() == values.back());
}

BOOST_AUTO_TEST_CASE(merge_equals_recording_everything_in_one) {
  auto a = make(), b = make(), all = make();
  for (std::uint64_t v = 1; v <= 10000; ++v) {
    (v % 2 ? *a : *b).record(v * 7);
    all->record(v * 7);
  }
  a->merge(*b);
  BOOST_TEST(a->count() == all->count());
  BOOST_TEST(a->max() == all->max());
  BOOST_TEST(a->min() == all->min());
  BOOST_TEST(a->mean() == all->mean());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) BOOST_TEST(a->percentile(p) == all->percentile(p));

  auto empty = make();
  a->merge(*empty);  // merging nothing changes nothing, min included
  BOOST_TEST(a->min() == 7u);
  empty->merge(*a);
  BOOST_TEST(empty->percentile(50) == a->percentile(50));
}

BOOST_AUTO_TEST_CASE(bucket_layout_is_contiguous_and_within_precision) {
  for (std::size_t i = 0; i + 1 < latency_histogram::bucket_count(); ++i) {
    const auto lo = latency_histogram::lowest_equivalent(i), hi = latency_histogram::highest_equivalent(i);
    BOOST_TEST_REQUIRE(latency_histogram::highest_equivalent(i) + 1 == latency_histogram::lowest_equivalent(i + 1));
    BOOST_TEST_REQUIRE(latency_histogram::index_of(lo) == i);
    BOOST_TEST_REQUIRE(latency_histogram::index_of(hi) == i);
    // A bucket is never wider than the precision allows, relative to its own values.
    BOOST_TEST_REQUIRE(double(hi - lo) <= double(lo) * latency_histogram::relative_precision);
  }
  BOOST_TEST(latency_histogram::index_of(latency_histogram::highest_trackable) < latency_histogram::bucket_count());
  BOOST_TEST(latency_histogram::relative_precision < 0.01);  // better than 2 significant digits
}

BOOST_AUTO_TEST_CASE(values_beyond_the_range_are_clamped_but_max_is_exact) {
  auto h = make();
  h->record(5);
  h->record(std::uint64_t(1) << 40);  // ~12.7 days in microseconds
  BOOST_TEST(h->count() == 2u);
  BOOST_TEST(h->max() == std::uint64_t(1) << 40);
  BOOST_TEST(h->percentile(100) == std::uint64_t(1) << 40);
  BOOST_TEST(h->percentile(50) == 5u);
}

BOOST_AUTO_TEST_CASE(durations_and_negative_values) {
  auto h = make();
  h->record(std::chrono::microseconds(-3));  // a clock oddity must not wrap to 2^64
  h->record(std::chrono::milliseconds(2));
  BOOST_TEST(h->min() == 0u);
  BOOST_TEST(h->max() == 2000u);
}

BOOST_AUTO_TEST_CASE(coarse_buckets_cover_every_value) {
  auto h = make();
  for (std::uint64_t v = 1; v <= 10000; ++v) h->record(v);
  const auto buckets = h->coarse_buckets();
  std::uint64_t total = 0, previous = 0;
  for (const auto& b : buckets) {
    BOOST_TEST(b.le_us > previous);
    previous = b.le_us;
    total += b.count;
  }
  BOOST_TEST(total == h->count());
  BOOST_TEST(buckets.front().le_us == 1u);
  BOOST_TEST(buckets.back().le_us >= h->max());
  // 1-2-5 bounds below 256 us are exact: (100, 200] holds exactly 100 values.
  for (const auto& b : buckets)
    if (b.le_us == 200) BOOST_TEST(b.count == 100u);
}

BOOST_AUTO_TEST_CASE(reset_empties) {
  auto h = make();
  h->record(10);
  h->reset();
  BOOST_TEST(h->count() == 0u);
  BOOST_TEST(h->percentile(50) == 0u);
  h->record(3);
  BOOST_TEST(h->min() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
