#ifndef BOOST_CURL_SRC_DETAIL_PROGRESS_RELAY_HPP
#define BOOST_CURL_SRC_DETAIL_PROGRESS_RELAY_HPP

#include "engine_notice.hpp"

#include <boost_curl/request.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

namespace boost_curl::detail {

// Carries request::on_progress's calls from libcurl's progress callback (driver's mutex held)
// to the operation's executor: the latest figures are kept, and one call at a time is due, at
// most every 100 ms, handed over by the driver once its mutex is released; finish() gives the
// final figures just before the handler.
class progress_relay final : public engine_notice, public std::enable_shared_from_this<progress_relay> {
 public:
  explicit progress_relay(std::function<void(const transfer_progress&)> callback) : callback_(std::move(callback)) {}
  // At start, before any update: where calls go (the operation's I/O executor, to post
  // through, and the handler's executor).
  void target(boost::asio::any_io_executor io, boost::asio::any_completion_executor handler_executor);
  // From libcurl's callbacks. True: a call is due, give this relay to the driver's notice().
  // `final`: the figures at the end, for finish() only.
  bool update(const transfer_progress& p, bool final = false) noexcept;
  // engine_notice: the call, on the handler's executor.
  void deliver(bool post) override;
  // On the handler's executor, just before the handler: the last call.
  void finish();

 private:
  class tick;  // one call, queued to the handler's executor
  void call();
  void not_called() noexcept;  // a tick destroyed unrun: the next update may queue another
  std::function<void(const transfer_progress&)> callback_;
  boost::asio::any_io_executor io_;
  boost::asio::any_completion_executor handler_executor_;
  std::mutex mutex_;  // the figures and flags below; never held while the callback runs
  transfer_progress latest_;
  bool posted_ = false;
  std::chrono::steady_clock::time_point last_post_{};
  std::mutex calling_;  // held while the callback runs: finish() waits for a call in progress
  bool finished_ = false;
};

}  // namespace boost_curl::detail

#endif
