#ifndef BOOST_CURL_SRC_DETAIL_TRANSFER_HPP
#define BOOST_CURL_SRC_DETAIL_TRANSFER_HPP

// One HTTP operation: an easy handle configured from a `request`, collecting a `response`,
// hop by hop when it follows redirects (which the engine does itself, not libcurl: each hop is
// its own response, with its own timings, and what is sent to another host is decided here).
// Transfers are pooled by the multi_driver, so an easy handle (and its allocations) serves
// many requests.

#include "admission_ticket.hpp"
#include "body_sink.hpp"
#include "progress_relay.hpp"
#include "curl_handles.hpp"
#include "parsed_url_memo.hpp"
#include "socket_registry.hpp"

#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost_curl::detail {

class session_state;
struct completion;  // completion.hpp

// The session's response hook (session::on_response), shared by the operations started while
// it was set.
using response_hook = std::function<void(const request&, const response&)>;

// The socket callbacks every easy handle is given. Opening is told the transfer (which
// records the sockets it opened, and names its driver through `owner`); closing is told the
// driver, because libcurl may close a cached connection long after that transfer is gone.
struct socket_hooks {
  curl_opensocket_callback open;
  curl_closesocket_callback close;
  void* owner;
};

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

struct mime_deleter {
  void operator()(curl_mime* m) const noexcept { curl_mime_free(m); }
};
using mime_ptr = std::unique_ptr<curl_mime, mime_deleter>;

class transfer {
 public:
  // Throws std::bad_alloc if libcurl cannot create an easy handle. A transfer of a session
  // is attached to its share (cookies, caches) for life.
  explicit transfer(const socket_hooks& hooks, session_state* session = nullptr);
  ~transfer();
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  CURL* easy() const noexcept { return easy_.get(); }
  session_state* session() const noexcept { return session_; }
  const socket_hooks& hooks() const noexcept { return hooks_; }

  // Points the socket callbacks at another driver (a session's transfers move between them).
  // Connections keep the callbacks they were opened with.
  void use_hooks(const socket_hooks& hooks) noexcept;
  static transfer* from(CURL* easy) noexcept;

  // Configures the easy handle for the first hop of `req` (keeping it: its body is sent from
  // there). `keep_hops`: keep each hop's request for a response hook. `sink`: where the final
  // response's head and body go instead (max_body_size is then the sink's business). On error
  // the transfer is left idle, the error says what and result().error_message why.
  error_code prepare(request&& req, bool keep_hops = false, std::shared_ptr<body_sink> sink = nullptr);
  // The receive buffer a request of receive_buffer_size 0 (automatic) gets: set by the driver
  // before prepare() (multi_driver::start says which).
  void automatic_receive_buffer(std::size_t bytes) noexcept { automatic_receive_buffer_ = bytes; }
  // Large reads: a quarter of the recv calls (and polls, and write callbacks) of libcurl's 16
  // KiB on large bodies. Under 64 KiB because glibc consolidates its fast bins, and may trim
  // the heap, at every free of 64 KiB or more, and libcurl allocates the buffer (plus one byte)
  // at each transfer's start and frees it at its end.
  static constexpr std::size_t large_receive_buffer = std::size_t(63) << 10;

  // After libcurl finished the current hop: collects its response; returns the hop's error.
  error_code finish(CURLcode result);
  // After a successful finish(): when the request follows redirects and this hop is one, makes
  // it history and configures the next hop (true: add the easy handle again). False when the
  // operation is over; `ec` then says why if it failed (too many redirects, time is up...).
  bool follow_redirect(error_code& ec);
  // The operation is over with `ec`: the response gets its history, a status error when the
  // request asked for one (`ec` is updated), and the request's resources are freed.
  void complete(error_code& ec);

  // Whether any request byte may have left (for `total` cancellation).
  bool request_started() const noexcept;
  // When request::timeout expires, over every hop (the epoch: no timeout).
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }

  response& result() noexcept { return response_; }
  // Each hop's request, oldest first (the final one last), when prepare() was asked to keep them.
  std::vector<request>& hop_requests() noexcept { return hop_requests_; }

  // The pending operation, set by the driver while the transfer is active.
  struct operation {
    fetch_handler handler;
    boost::asio::any_completion_executor work;  // handler's executor, work tracked
    boost::asio::any_io_executor io_executor;
    boost::asio::cancellation_slot slot;
    std::shared_ptr<session_state> session;  // keeps a session's share alive while in flight
    std::shared_ptr<const response_hook> hook;  // the session's, if it had one
    std::unique_ptr<admission_ticket> ticket;  // counted against the service's caps
    std::shared_ptr<progress_relay> progress;  // request::on_progress's, if set
  } op;
  // prepare() made it from request::on_progress; the driver puts it in `op`.
  const std::shared_ptr<progress_relay>& progress() const noexcept { return progress_; }

  // The pending operation's completion, made at start (see completion.hpp).
  std::unique_ptr<completion> record;

  bool active = false;
  std::size_t active_index = 0;  // position in the driver's list of active transfers
  opened_sockets sockets_opened;  // sockets this operation opened (see multi_driver::remove)
  int socket_errno = 0;           // why the last socket it asked for could not be made (EMFILE...)
  std::uint64_t operation_id = 0;  // unique per operation within its driver (cancellation names it)

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) noexcept;
  static std::size_t on_read(char* data, std::size_t size, std::size_t count, void* self) noexcept;
  static int on_seek(void* self, curl_off_t offset, int origin) noexcept;
  static int on_progress(void* self, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) noexcept;

  void read_info(response& r);   // status, URL, version, address and timings from the handle
  bool hop_is_followed_redirect();  // the current hop's status and Location make another hop
  bool send_head() noexcept;        // to the sink, once; false: not the final response yet
  void notify_driver(const std::shared_ptr<body_sink>& sink) noexcept;  // what the sink has to deliver
  bool set_fixed_options();
  error_code reset_for_hop();
  error_code apply();
  error_code apply_body(struct option_setter& set);
  error_code apply_fields(struct option_setter& set);
  error_code apply_auth_and_cookies(struct option_setter& set);
  error_code apply_uncommon(struct option_setter& set);
  error_code refuse(const char* why);  // error::invalid_request, with why as the message
  void release_request() noexcept;

  // The per-request options the easy handle holds now. apply() changes only what differs
  // from the previous request: curl_easy_reset plus setting everything again costs more than
  // the rest of a keep-alive exchange's setup.
  struct applied_options {
    http::verb method = http::verb::get;
    std::string custom_method;
    bool sends_body = false;
    bool mime = false;
    bool header_list = false;
    long timeout_ms = 0;
    long connect_timeout_ms = 0;
    bool verify_peer = true;
    bool verify_host = true;
    long http_version = 0;  // CURL_HTTP_VERSION_NONE
    bool forbid_reuse = false;
    bool pipewait = false;
    bool decompress = false;
    long buffer_size = CURL_MAX_WRITE_SIZE;  // libcurl's default
    std::optional<authentication> auth;
    std::string cookie;
    std::string url, ca_file, proxy, unix_socket_path;
    CURLU* parsed_url = nullptr;  // set as CURLOPT_CURLU (url_memo_ owns it), or null: the url string
    std::string protocols = "\x01";  // no request has this: the first one always sets them
  };

  socket_hooks hooks_;
  session_state* session_;
  easy_ptr easy_;
  applied_options applied_;
  parsed_url_memo url_memo_;  // outlives any easy handle pointing into it (see ~transfer)
  bool needs_reset_ = false;  // a failed prepare left options unknown: start from scratch
  bool receive_buffer_held_ = false;  // libcurl refused CURLOPT_BUFFERSIZE: it still holds a buffer
  std::string default_ca_file_;  // libcurl's built-in CA bundle, restored when ca_file is cleared
  std::optional<request> request_;  // the current hop's request (libcurl reads its body in place); none when idle
  slist_ptr header_list_;
  slist_ptr connect_to_list_;
  mime_ptr mime_;
  bool uncommon_used_ = false;  // an option apply_uncommon() sets was set: reset before the next request
  std::string header_block_;  // the current hop's response header lines so far
  response response_;
  std::vector<response> history_;        // earlier hops of a followed redirect chain
  std::vector<request> hop_requests_;    // with a response hook: each hop's request
  bool keep_hops_ = false;
  std::string first_origin_;  // scheme://host:port of the first hop: credentials stay there
  bool credentials_dropped_ = false;
  bool sent_earlier_hop_ = false;  // a previous hop's request left (total cancellation)
  std::chrono::steady_clock::time_point deadline_{};  // request::timeout over all hops
  std::size_t max_body_ = 0;
  std::size_t automatic_receive_buffer_ = CURL_MAX_WRITE_SIZE;
  bool decompressing_ = false;  // body_ counts decoded bytes; Content-Length counts encoded ones
  bool body_limit_hit_ = false;
  std::shared_ptr<body_sink> sink_;  // the operation's, if its body is streamed
  file_ptr body_file_;               // request::body_file, open while it is sent
  std::shared_ptr<progress_relay> progress_;
  bool head_sent_ = false;
  char error_buffer_[CURL_ERROR_SIZE];
};

}  // namespace boost_curl::detail

#endif
