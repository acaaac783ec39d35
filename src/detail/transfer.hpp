#ifndef BOOST_CURL_SRC_DETAIL_TRANSFER_HPP
#define BOOST_CURL_SRC_DETAIL_TRANSFER_HPP

// One HTTP exchange: an easy handle configured from a `request`, collecting a `response`.
// Transfers are pooled by the multi_driver, so an easy handle (and its allocations) serves
// many requests.

#include "curl_handles.hpp"
#include "socket_registry.hpp"

#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace boost_curl::detail {

class session_state;

// The socket callbacks every easy handle is given. Opening is told the transfer (which
// records the sockets it opened, and names its driver through `owner`); closing is told the
// driver, because libcurl may close a cached connection long after that transfer is gone.
struct socket_hooks {
  curl_opensocket_callback open;
  curl_closesocket_callback close;
  void* owner;
};

class transfer {
 public:
  // Throws std::bad_alloc if libcurl cannot create an easy handle. A transfer of a session
  // is attached to its share (cookies, caches) for life.
  explicit transfer(const socket_hooks& hooks, session_state* session = nullptr);
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  CURL* easy() const noexcept { return easy_.get(); }
  session_state* session() const noexcept { return session_; }
  const socket_hooks& hooks() const noexcept { return hooks_; }

  // Points the socket callbacks at another driver (a session's transfers move between them).
  // Connections keep the callbacks they were opened with.
  void use_hooks(const socket_hooks& hooks) noexcept;
  static transfer* from(CURL* easy) noexcept;

  // Configures the easy handle for `req` (taking its body and fields). On error the
  // transfer is left idle, the error says what and result().error_message why.
  error_code prepare(request&& req);

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
    std::shared_ptr<session_state> session;  // keeps a session's share alive while in flight
  } op;

  bool active = false;
  std::size_t active_index = 0;  // position in the driver's list of active transfers
  opened_sockets sockets_opened;  // sockets this operation opened (see multi_driver::remove)
  std::uint64_t operation_id = 0;  // unique per operation within its driver (cancellation names it)

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) noexcept;

  void set_fixed_options();
  error_code apply(request& req);
  error_code refuse(const char* why);  // error::invalid_request, with why as the message

  // The per-request options the easy handle holds now. prepare() changes only what differs
  // from the previous request: curl_easy_reset plus setting everything again costs more than
  // the rest of a keep-alive exchange's setup.
  struct applied_options {
    http::verb method = http::verb::get;
    bool sends_body = false;
    bool header_list = false;
    long timeout_ms = 0;
    long connect_timeout_ms = 0;
    bool follow = false;
    long max_redirects = -1;
    bool verify_peer = true;
    bool verify_host = true;
    long http_version = 0;  // CURL_HTTP_VERSION_NONE
    bool forbid_reuse = false;
    bool pipewait = false;
    bool decompress = false;
    std::string url, ca_file, proxy, unix_socket_path;
    std::string protocols = "\x01";  // no request has this: the first one always sets them
  };

  socket_hooks hooks_;
  session_state* session_;
  easy_ptr easy_;
  applied_options applied_;
  bool needs_reset_ = false;  // a failed prepare left options unknown: start from scratch
  std::string default_ca_file_;  // libcurl's built-in CA bundle, restored when ca_file is cleared
  slist_ptr header_list_;
  std::string body_;  // request body; libcurl reads it in place (CURLOPT_POSTFIELDS)
  std::string header_block_;  // the final response's header lines so far
  response response_;
  std::size_t max_body_ = 0;
  bool decompressing_ = false;  // body_ counts decoded bytes; Content-Length counts encoded ones
  bool body_limit_hit_ = false;
  char error_buffer_[CURL_ERROR_SIZE];
};

}  // namespace boost_curl::detail

#endif
