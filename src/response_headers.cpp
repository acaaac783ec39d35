#include <boost_curl/response_headers.hpp>

#include <thread>

namespace boost_curl {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Adds the "Name: value" lines of `raw` to `out`. Status lines, the blank line ending the
// block, obsolete folded continuations and lines without a name are skipped.
void parse_into(std::string_view raw, http::fields& out) {
  while (!raw.empty()) {
    const std::size_t eol = raw.find('\n');
    std::string_view line = raw.substr(0, eol);
    raw.remove_prefix(eol == std::string_view::npos ? raw.size() : eol + 1);
    if (line.empty() || line.front() == ' ' || line.front() == '\t' || line.substr(0, 5) == "HTTP/") continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    out.insert(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
}

}  // namespace

response_headers::response_headers(const response_headers& other) : raw_(other.raw_), state_(unparsed) {
  if (raw_.empty() || other.state_.load(std::memory_order_acquire) == parsed) {
    fields_ = other.fields();  // may have been edited: copy what it holds now
    state_.store(parsed, std::memory_order_relaxed);
  }
}

// Unparsed fields are empty: only parsed ones are moved (a response is moved several times
// on its way to the handler, and moving a Beast fields is not free). A moved-from Beast fields
// is empty, as if default constructed; so is the source here.
response_headers::response_headers(response_headers&& other) noexcept
    : raw_(std::move(other.raw_)), state_(other.state_.load(std::memory_order_acquire)) {
  if (state_.load(std::memory_order_relaxed) == parsed && other.fields_.begin() != other.fields_.end())
    fields_ = std::move(other.fields_);
  other.raw_.clear();
  other.state_.store(parsed, std::memory_order_relaxed);
}

response_headers& response_headers::operator=(const response_headers& other) {
  if (this != &other) *this = response_headers(other);
  return *this;
}

response_headers& response_headers::operator=(response_headers&& other) noexcept {
  if (this == &other) return *this;
  raw_ = std::move(other.raw_);
  const unsigned char state = other.state_.load(std::memory_order_acquire);
  if (state == parsed && other.fields_.begin() != other.fields_.end())
    fields_ = std::move(other.fields_);
  else
    fields_.clear();
  state_.store(state, std::memory_order_release);
  other.raw_.clear();
  other.state_.store(parsed, std::memory_order_relaxed);
  return *this;
}

void response_headers::parse_once() const {
  for (;;) {
    unsigned char expected = unparsed;
    if (state_.compare_exchange_strong(expected, parsing, std::memory_order_acquire)) {
      try {
        parse_into(raw_, fields_);
      } catch (...) {
        fields_.clear();
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
