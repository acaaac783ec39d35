#ifndef BOOST_CURL_SRC_DETAIL_BODY_SINK_HPP
#define BOOST_CURL_SRC_DETAIL_BODY_SINK_HPP

// Where a transfer's response body goes instead of response::body: a stream's bounded buffer,
// or async_download's file. The transfer calls it from libcurl's header and write callbacks,
// that is with its driver's mutex held: an implementation never runs user code, never calls
// into the driver, and may lock only mutexes that are never held while the driver's is taken.

#include "engine_notice.hpp"

#include <boost_curl/error.hpp>
#include <boost_curl/response.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace boost_curl::detail {

class multi_driver;

class body_sink : public engine_notice {
 public:
  // Whether one of the calls below left something to deliver (once: it then waits for
  // deliver()); the transfer then gives the sink to its driver's notice().
  virtual bool take_notice() noexcept = 0;
  // Once per operation: the driver running it and the operation's id (for resume()).
  virtual void started(std::weak_ptr<multi_driver> driver, std::uint64_t operation_id) = 0;
  // The final response's head (status, fields, version, address; timings so far; no body),
  // once, before its first body byte. Not called for the hops of a followed redirect.
  virtual void head(const response& r) = 0;
  // Body bytes of the final response: returns n (taken), CURL_WRITEFUNC_PAUSE (not taken:
  // libcurl holds them and the transfer until multi_driver::resume()), or anything else to
  // abort the transfer, failure() then saying why.
  virtual std::size_t write(const char* data, std::size_t n) = 0;
  virtual error_code failure() const = 0;
  // Request body bytes for a request::streamed_body: returns how many it put in `data` (at
  // most n), 0 at the end of the body, or CURL_READFUNC_PAUSE (none yet: the transfer's
  // sending waits until multi_driver::resume()).
  virtual std::size_t read(char* data, std::size_t n) = 0;

 protected:
  ~body_sink() = default;
};

}  // namespace boost_curl::detail

#endif
