#ifndef BOOST_CURL_RESPONSE_HEADERS_HPP
#define BOOST_CURL_RESPONSE_HEADERS_HPP

#include <boost_curl/config.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace boost_curl {

namespace http = boost::beast::http;

/** The header fields of a response: kept as received, parsed into an `http::fields` the
    first time they are looked at.

    Building an `http::fields` costs an allocation and a tree insertion per field, about as
    much as the rest of a small keep-alive exchange; load generators that only read the
    status and the body should not pay it. Lookups read like Beast's: `h[http::field::etag]`,
    `h.find("X-Id")`, `h.count(...)`, `h.equal_range(...)`, iteration in the order received
    (repeated fields kept); `fields()` is the `http::fields` itself.

    Const access is thread-safe, as for standard containers: the first parse is done once,
    whichever thread asks first. Non-const `fields()` gives a modifiable `http::fields`;
    `raw()` keeps the block as received.

    Parsing: obsolete folded lines are joined to the line before with one space; status
    lines and lines without a name are skipped, and so are fields whose name or value is
    65 534 bytes or more (Beast cannot store them; libcurl accepts header lines up to
    100 KiB): they remain in raw().
*/
class BOOST_CURL_DECL response_headers {
 public:
  using const_iterator = http::fields::const_iterator;

  response_headers() noexcept : state_(unparsed) {}
  /// From the header lines as received, each ending in CRLF (the status line may lead).
  explicit response_headers(std::string raw) noexcept : raw_(std::move(raw)), state_(unparsed) {}

  response_headers(const response_headers& other);
  response_headers(response_headers&& other) noexcept;
  response_headers& operator=(const response_headers& other);
  response_headers& operator=(response_headers&& other) noexcept;
  ~response_headers();

  /// The fields as an `http::fields` (parsed on first use).
  const http::fields& fields() const {
    if (state_.load(std::memory_order_acquire) != parsed) parse_once();
    return *fields_;
  }
  http::fields& fields() {
    if (state_.load(std::memory_order_acquire) != parsed) parse_once();
    return *fields_;
  }
  operator const http::fields&() const { return fields(); }

  /// The header block as libcurl received it (the final response's), CRLF line ends.
  std::string_view raw() const noexcept { return raw_; }

  const_iterator begin() const { return fields().begin(); }
  const_iterator end() const { return fields().end(); }
  bool empty() const { return fields().begin() == fields().end(); }

  /// The value of the first field of that name, or an empty view.
  std::string_view operator[](http::field name) const { return fields()[name]; }
  std::string_view operator[](std::string_view name) const { return fields()[name]; }

  const_iterator find(http::field name) const { return fields().find(name); }
  const_iterator find(std::string_view name) const { return fields().find(name); }
  std::size_t count(http::field name) const { return fields().count(name); }
  std::size_t count(std::string_view name) const { return fields().count(name); }
  std::pair<const_iterator, const_iterator> equal_range(http::field name) const { return fields().equal_range(name); }
  std::pair<const_iterator, const_iterator> equal_range(std::string_view name) const {
    return fields().equal_range(name);
  }

 private:
  enum : unsigned char { unparsed, parsing, parsed };
  void parse_once() const;

  // The parsed fields live on the heap, created by the first parse: a response is moved
  // several times on its way to the handler, and an unparsed one then moves a string and a
  // null pointer, not a Beast fields.
  std::string raw_;
  mutable std::unique_ptr<http::fields> fields_;  // set once state_ is parsed
  mutable std::atomic<unsigned char> state_;
};

}  // namespace boost_curl

#endif
