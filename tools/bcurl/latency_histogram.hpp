#ifndef BCURL_LATENCY_HISTOGRAM_HPP
#define BCURL_LATENCY_HISTOGRAM_HPP

// A log-linear latency histogram in the spirit of HdrHistogram.
//
// Values are microseconds. Below 2^sub_bucket_bits every value has its own bucket (exact);
// above, each power-of-two range [2^k, 2^(k+1)) is split into 2^(sub_bucket_bits-1) equal
// buckets, so a bucket is never wider than 1/128 of its lowest value: any value read back
// (percentile) is within 0.79 % of a value actually recorded. The bucket array is a fixed
// member, so record() is O(1) and never allocates; a histogram is ~22 KiB, allocate the
// object itself once (on the heap, or as a member).
//
// Not thread-safe: one histogram per thread, merge() at the end (or under a lock).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bcurl {

class latency_histogram {
 public:
  static constexpr unsigned sub_bucket_bits = 8;                    // 256 exact values, then 128 per octave
  static constexpr std::uint64_t highest_trackable = 100'000'000;   // 100 s; larger values are clamped
  /// Largest relative distance between a recorded value and what percentile() reports.
  static constexpr double relative_precision = 1.0 / (1u << (sub_bucket_bits - 1));

  latency_histogram() noexcept { reset(); }

  void record(std::uint64_t us) noexcept {
    counts_[index_of(us < highest_trackable ? us : highest_trackable)] += 1;
    ++count_;
    sum_ += us;
    if (us > max_) max_ = us;
    if (us < min_) min_ = us;
  }
  void record(std::chrono::microseconds d) noexcept { record(d.count() > 0 ? std::uint64_t(d.count()) : 0); }

  void merge(const latency_histogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Exact largest / smallest value recorded (not clamped); 0 when empty.
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  /// Exact arithmetic mean of the recorded values; 0 when empty.
  double mean() const noexcept { return count_ ? double(sum_) / double(count_) : 0.0; }

  /// The value below or at which p percent (0..100) of the recorded values fall: the highest
  /// value of the bucket holding that rank, clamped to [min, max]. 0 when empty.
  std::uint64_t percentile(double p) const noexcept;

  /// Coarse buckets for display: upper bounds 1, 2, 5, 10, 20, 50 ... µs, covering min..max,
  /// each with the number of values in (previous bound, bound]. Fine buckets that straddle a
  /// bound are counted by their lowest value, so counts are exact to within the precision.
  struct coarse_bucket {
    std::uint64_t le_us;
    std::uint64_t count;
  };
  std::vector<coarse_bucket> coarse_buckets() const;

  // ---- the bucket layout, exposed for tests
  static std::size_t index_of(std::uint64_t v) noexcept;
  static std::uint64_t lowest_equivalent(std::size_t index) noexcept;
  static std::uint64_t highest_equivalent(std::size_t index) noexcept;
  static constexpr std::size_t bucket_count() noexcept { return buckets; }

 private:
  static constexpr std::uint64_t sub_bucket_count = std::uint64_t(1) << sub_bucket_bits;
  static constexpr std::uint64_t half_count = sub_bucket_count / 2;
  // Octaves above the exact range needed to reach highest_trackable (< 2^27).
  static constexpr unsigned octaves = 27 - sub_bucket_bits;
  static_assert(highest_trackable < (std::uint64_t(1) << 27));
  static constexpr std::size_t buckets = sub_bucket_count + octaves * half_count;

  std::array<std::uint64_t, buckets> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = 0;
};

}  // namespace bcurl

#endif
