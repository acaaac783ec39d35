#include <boost_curl/response_headers.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>

namespace boost_curl {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Beast stores a field's offsets in 16 bits and throws std::length_error for a name or value
// of 65 534 bytes or more; libcurl accepts header lines up to 100 KiB.
constexpr std::size_t max_beast_part = std::numeric_limits<std::uint16_t>::max() - 2;

// Obsolete line folding (RFC 9112 5.2): a line starting with a space or tab continues the
// previous one. Replaces each fold (a line end, CRLF or bare LF, then whitespace) by one space;
// rare, so only done when a fold is present.
std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t')) {
      if (!out.empty() && out.back() == '\r') out.pop_back();
      ++i;
      while (i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t')) ++i;
      out += ' ';
      continue;
    }
    out += raw[i];
  }
  return out;
}

bool has_fold(std::string_view raw) noexcept {
  return raw.find("\n ") != std::string_view::npos || raw.find("\n\t") != std::string_view::npos;
}

// Adds the "Name: value" lines of `raw` to `out`. Status lines, the blank line ending the
// block, lines without a name and fields too large for Beast are skipped (raw() keeps them).
void parse_into(std::string_view raw, http::fields& out) {
  std::string unfolded;
  if (has_fold(raw)) raw = unfolded = unfold(raw);
  while (!raw.empty()) {
    const std::size_t eol = raw.find('\n');
    std::string_view line = raw.substr(0, eol);
    raw.remove_prefix(eol == std::string_view::npos ? raw.size() : eol + 1);
    if (line.empty() || line.front() == ' ' || line.front() == '\t' || line.substr(0, 5) == "HTTP/") continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (name.size() > max_beast_part || value.size() > max_beast_part) continue;
    out.insert(name, value);
  }
}

}  // namespace

response_headers::response_headers(const response_headers& other) : raw_(other.raw_), state_(unparsed) {
  if (other.state_.load(std::memory_order_acquire) == parsed) {
    fields_ = std::make_unique<http::fields>(*other.fields_);  // may have been edited: copy what it holds
    state_.store(parsed, std::memory_order_relaxed);
  }
}

// The source is left empty and unparsed, as if default constructed.
response_headers::response_headers(response_headers&& other) noexcept
    : raw_(std::move(other.raw_)),
      fields_(std::move(other.fields_)),
      state_(other.state_.load(std::memory_order_acquire)) {
  other.raw_.clear();
  other.state_.store(unparsed, std::memory_order_relaxed);
}

response_headers::~response_headers() = default;

response_headers& response_headers::operator=(const response_headers& other) {
  if (this != &other) *this = response_headers(other);
  return *this;
}

response_headers& response_headers::operator=(response_headers&& other) noexcept {
  if (this == &other) return *this;
  raw_ = std::move(other.raw_);
  fields_ = std::move(other.fields_);
  state_.store(other.state_.load(std::memory_order_acquire), std::memory_order_release);
  other.raw_.clear();
  other.state_.store(unparsed, std::memory_order_relaxed);
  return *this;
}

void response_headers::parse_once() const {
  for (;;) {
    unsigned char expected = unparsed;
    if (state_.compare_exchange_strong(expected, parsing, std::memory_order_acquire)) {
      try {
        auto parsed_fields = std::make_unique<http::fields>();
        parse_into(raw_, *parsed_fields);
        fields_ = std::move(parsed_fields);
      } catch (...) {
        state_.store(unparsed, std::memory_order_release);
        throw;
      }
      state_.store(parsed, std::memory_order_release);
      return;
    }
    if (expected == parsed) return;
    std::this_thread::yield();  // another thread is parsing: a few microseconds at most
  }
}

}  // namespace boost_curl
