#include <boost_curl/async_download.hpp>

#include "detail/body_sink.hpp"

#include <curl/curl.h>

#include <boost/asio/append.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <system_error>

#include <unistd.h>

namespace boost_curl::detail {
namespace asio = boost::asio;

namespace {

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// Writes the body to `file`.part from libcurl's write callback (driver's mutex held: plain
// file writes, no user code), and at the end renames it or removes it.
class file_sink final : public body_sink {
 public:
  file_sink(std::filesystem::path file, bool resume, std::uint64_t limit)
      : file_(std::move(file)), part_(file_.native() + ".part"), resume_(resume), limit_(limit) {}

  // Opens the ".part" file: appended to when resuming, else made empty. Returns the bytes
  // already there (to ask for the rest), or sets `ec`.
  std::uint64_t open(error_code& ec) {
    out_.reset(std::fopen(part_.c_str(), resume_ ? "ab" : "wb"));
    if (!out_) {
      ec.assign(errno, boost::system::system_category());
      return 0;
    }
    if (resume_ && std::fseek(out_.get(), 0, SEEK_END) == 0) {
      const long at = std::ftell(out_.get());
      existing_ = at > 0 ? static_cast<std::uint64_t>(at) : 0;
    }
    return existing_;
  }

  void started(std::weak_ptr<multi_driver>, std::uint64_t) override {}
  bool take_notice() noexcept override { return false; }  // nothing for a user until the end
  void deliver(bool) override {}

  // A 206 continuing where the file ends is appended; anything else starts the file afresh.
  void head(const response& r) override {
    std::lock_guard lock(mutex_);
    status_ = r.status_code();
    if (existing_ == 0) return;
    try {
      const std::string_view range = r.headers["Content-Range"];
      const std::string expected = "bytes " + std::to_string(existing_) + "-";
      if (status_ == 206 && range.substr(0, expected.size()) == expected) {
        written_ = existing_;
        return;
      }
    } catch (...) {
      error_ = make_curl_error(CURLE_OUT_OF_MEMORY);  // in a libcurl callback: nothing may escape
      return;
    }
    if (status_ >= 200 && status_ < 300) {
      std::fflush(out_.get());
      if (::ftruncate(::fileno(out_.get()), 0) != 0) error_.assign(errno, boost::system::system_category());
      std::fseek(out_.get(), 0, SEEK_SET);
    }
  }

  std::size_t write(const char* data, std::size_t n) override {
    std::lock_guard lock(mutex_);
    if (error_) return 0;
    if (status_ < 200 || status_ >= 300) return n;  // not the file: dropped, the status says why
    if (limit_ != 0 && written_ + n > limit_) {
      error_ = error::body_too_large;
      return 0;
    }
    if (std::fwrite(data, 1, n, out_.get()) != n) {
      error_.assign(errno ? errno : EIO, boost::system::system_category());
      return 0;
    }
    written_ += n;
    return n;
  }

  error_code failure() const override {
    std::lock_guard lock(mutex_);
    return error_;
  }

  std::size_t read(char*, std::size_t) override { return CURL_READFUNC_ABORT; }  // refused before: no streamed body

  // After the exchange, on the handler's executor: the file is complete (renamed) or not there.
  void finish(error_code& ec, response& r) {
    std::lock_guard lock(mutex_);
    if (out_ && std::fclose(out_.release()) != 0 && !ec) ec.assign(errno, boost::system::system_category());
    const unsigned status = r.status_code();
    if (!ec && (status < 200 || status >= 300)) {
      ec = make_http_status_error(status);
      r.error_message = "the server answered " + std::to_string(status) + ": nothing saved";
    }
    std::error_code fs;
    if (!ec) {
      std::filesystem::rename(part_, file_, fs);
      if (!fs) return;
      ec.assign(fs.value(), boost::system::system_category());
      r.error_message = "could not rename " + part_.string() + " to " + file_.string() + ": " + fs.message();
    }
    if (!resume_) std::filesystem::remove(part_, fs);
  }

 private:
  mutable std::mutex mutex_;
  const std::filesystem::path file_, part_;
  const bool resume_;
  const std::uint64_t limit_;
  std::unique_ptr<std::FILE, file_closer> out_;
  std::uint64_t existing_ = 0, written_ = 0;
  unsigned status_ = 0;
  error_code error_;
};

// Completes the user's handler after the file is settled; its slot is the user's, where the
// engine puts its cancellation as for async_fetch.
struct download_completion {
  std::shared_ptr<file_sink> sink;
  fetch_handler handler;
  asio::cancellation_slot slot;

  using cancellation_slot_type = asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return slot; }

  void operator()(error_code ec, response r) {
    sink->finish(ec, r);
    std::move(handler)(ec, std::move(r));
  }
};

}  // namespace

void start_download(pending_operation<fetch_handler>&& op, request&& req, std::filesystem::path file,
                    const boost_curl::download_options& options, const std::shared_ptr<session_state>& session) {
  if (req.streamed_body) {
    response r;
    r.error_message = "request::streamed_body is written on a stream: use stream::async_open";
    asio::post(op.io, asio::bind_executor(std::move(op.work), asio::append(std::move(op.handler),
                                                                            error_code(error::invalid_request), std::move(r))));
    return;
  }
  auto sink = std::make_shared<file_sink>(std::move(file), options.resume, req.max_body_size);
  error_code ec;
  const std::uint64_t existing = sink->open(ec);
  if (ec) {
    response r;
    r.error_message = "could not open the download's file: " + ec.message();
    asio::post(op.io, asio::bind_executor(std::move(op.work), asio::append(std::move(op.handler), ec, std::move(r))));
    return;
  }
  if (existing != 0) req.headers.set(http::field::range, "bytes=" + std::to_string(existing) + "-");
  req.max_body_size = 0;  // the sink keeps the limit, on the file
  initiate_fetch(op.io, std::move(op.work), std::move(req),
                 fetch_handler(download_completion{sink, std::move(op.handler), op.slot}), session, sink);
}

}  // namespace boost_curl::detail
