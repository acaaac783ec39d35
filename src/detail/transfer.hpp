#ifndef BOOST_CURL_SRC_DETAIL_TRANSFER_HPP
#define BOOST_CURL_SRC_DETAIL_TRANSFER_HPP

// One HTTP exchange: an easy handle configured from a `request`, collecting a `response`.
// Transfers are pooled by the multi_driver, so an easy handle (and its allocations) serves
// many requests.

#include "curl_handles.hpp"

#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <cstdint>

namespace boost_curl::detail {

// The socket callbacks every easy handle is given: they belong to the multi_driver, because
// libcurl may close a cached connection long after the transfer that opened it is gone.
struct socket_hooks {
  curl_opensocket_callback open;
  curl_closesocket_callback close;
  void* owner;
};

class transfer {
 public:
  transfer();  // throws std::bad_alloc if libcurl cannot create an easy handle
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  CURL* easy() const noexcept { return easy_.get(); }
  static transfer* from(CURL* easy) noexcept;

  // Configures the easy handle for `req` (taking its body and fields). On error the
  // transfer is left idle and the error says why.
  error_code prepare(request&& req, const socket_hooks& hooks);

  // Collects the results after libcurl reported `result`; returns the operation's error.
  error_code finish(CURLcode result);

  // Whether any request byte may have left (for `total` cancellation).
  bool request_started() const noexcept;

  response& result() noexcept { return response_; }

  // The pending operation, set by the driver while the transfer is active.
  struct operation {
    fetch_handler handler;
    boost::asio::any_completion_executor work;  // handler's executor, work tracked
    boost::asio::any_io_executor io_executor;
    boost::asio::cancellation_slot slot;
  } op;

  bool active = false;
  std::size_t active_index = 0;  // position in the driver's list of active transfers
  std::uint64_t generation = 0;  // bumped per operation: a late cancellation must not hit the next one

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) noexcept;

  easy_ptr easy_;
  slist_ptr header_list_;
  std::string body_;  // request body; libcurl reads it in place (CURLOPT_POSTFIELDS)
  response response_;
  std::size_t max_body_ = 0;
  bool body_limit_hit_ = false;
  bool used_ = false;  // the easy handle needs curl_easy_reset before reuse
  char error_buffer_[CURL_ERROR_SIZE];
};

}  // namespace boost_curl::detail

#endif
