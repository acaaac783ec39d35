#ifndef BOOST_CURL_SRC_DETAIL_PARSED_URL_MEMO_HPP
#define BOOST_CURL_SRC_DETAIL_PARSED_URL_MEMO_HPP

// The last few URLs one pooled easy handle was given, each parsed once it came a second time,
// for CURLOPT_CURLU: libcurl copies a parsed URL handle for a transfer (curl_url_dup) instead of
// parsing the URL string, which is the largest single item of its per-request work (about 10 000
// instructions of a small request's 77 000; bench/results/2026-12-03-parsed-url.md). A URL seen
// once is not parsed here (libcurl parses it anyway), so requests that never repeat a URL pay
// only the comparisons; a load generator cycling over a few URLs gets each parsed once per
// handle. Used under the transfer's owner only (one thread at a time).

#include "curl_handles.hpp"
#include "url_parts.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <utility>

namespace boost_curl::detail {

class parsed_url_memo {
 public:
  static constexpr std::size_t capacity = 4;

  // A URL's parsed handle, and its text as libcurl makes it from the string (what libcurl then
  // reports as the effective URL); both null when there is none. The text is valid until the
  // next find() (libcurl copies it); the handle until find() forgets it.
  struct form {
    CURLU* handle = nullptr;
    const char* text = nullptr;
  };

  // The parsed form of `url` when it came before (parsing it now if this is its second time);
  // none the first time, or when it does not parse (libcurl then parses the string and says
  // why). The memo remembers `url` either way, forgetting the least recently used one; what it
  // forgets goes to `retired`, for the caller to free once libcurl no longer points at it.
  form find(const std::string& url, url_ptr& retired) {
    std::size_t at = 0;
    while (at < used_ && entries_[at].url != url) ++at;
    if (at == used_) {
      std::string copy(url);  // may throw (out of memory): nothing changed yet
      if (used_ < capacity)
        ++used_;
      else
        retired = std::move(entries_[--at].parsed);  // the least recently used: at the back
      entry& fresh = entries_[at];
      fresh.url = std::move(copy);
      fresh.tried = false;
      fresh.parsed.reset();
      fresh.text.clear();
      to_front(at);
      return {};
    }
    entry& e = entries_[at];
    if (!e.tried) {
      e.tried = true;
      e.parsed = parse_as_libcurl_does(e.url, e.text);
    }
    to_front(at);
    const entry& front = entries_[0];  // after the move: a short text lives inside its string
    return front.parsed ? form{front.parsed.get(), front.text.c_str()} : form{};
  }

 private:
  struct entry {
    std::string url;
    bool tried = false;  // parsed (or failed to) on its second time
    url_ptr parsed;
    std::string text;
  };

  void to_front(std::size_t at) noexcept {
    for (; at > 0; --at) std::swap(entries_[at], entries_[at - 1]);
  }

  std::array<entry, capacity> entries_;
  std::size_t used_ = 0;
};

}  // namespace boost_curl::detail

#endif
