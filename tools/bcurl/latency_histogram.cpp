#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bcurl {

std::size_t latency_histogram::index_of(std::uint64_t v) noexcept {
  if (v < sub_bucket_count) return static_cast<std::size_t>(v);
  const unsigned msb = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= sub_bucket_bits
  const unsigned shift = msb - (sub_bucket_bits - 1);                // keeps the top 8 bits
  const std::uint64_t sub = v >> shift;                              // in [half_count, sub_bucket_count)
  return static_cast<std::size_t>(sub_bucket_count + (msb - sub_bucket_bits) * half_count + (sub - half_count));
}

std::uint64_t latency_histogram::lowest_equivalent(std::size_t index) noexcept {
  if (index < sub_bucket_count) return index;
  const std::uint64_t j = index - sub_bucket_count;
  const unsigned shift = static_cast<unsigned>(j / half_count) + 1;
  return (half_count + j % half_count) << shift;
}

std::uint64_t latency_histogram::highest_equivalent(std::size_t index) noexcept {
  if (index < sub_bucket_count) return index;
  const unsigned shift = static_cast<unsigned>((index - sub_bucket_count) / half_count) + 1;
  return lowest_equivalent(index) + (std::uint64_t(1) << shift) - 1;
}

void latency_histogram::reset() noexcept {
  counts_.fill(0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < buckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t latency_histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank of the value asked for, 1-based: p=50 of 10 values is the 5th.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * double(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // Clamped values all sit in the top bucket: only max_ knows how large they were.
      if (highest_equivalent(i) >= highest_trackable) return max_;
      return std::clamp(highest_equivalent(i), min(), max_);
    }
  }
  return max_;
}

std::vector<latency_histogram::coarse_bucket> latency_histogram::coarse_buckets() const {
  std::vector<coarse_bucket> out;
  if (count_ == 0) return out;
  // Bounds 1, 2, 5, 10, 20, 50 ...: round numbers a reader can compare at a glance.
  static constexpr std::uint64_t steps[] = {1, 2, 5};
  for (std::uint64_t decade = 1;; decade *= 10) {
    for (std::uint64_t s : steps) out.push_back({s * decade, 0});
    if (out.back().le_us >= max_ || decade >= highest_trackable) break;
  }
  std::size_t b = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    if (counts_[i] == 0) continue;
    const std::uint64_t lo = lowest_equivalent(i);
    while (b + 1 < out.size() && out[b].le_us < lo) ++b;
    out[b].count += counts_[i];
  }
  // Keep the span from the first to the last non-empty bucket.
  while (!out.empty() && out.back().count == 0) out.pop_back();
  auto first = std::find_if(out.begin(), out.end(), [](const coarse_bucket& c) { return c.count != 0; });
  out.erase(out.begin(), first);
  return out;
}

}  // namespace bcurl
