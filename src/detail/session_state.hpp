#ifndef BOOST_CURL_SRC_DETAIL_SESSION_STATE_HPP
#define BOOST_CURL_SRC_DETAIL_SESSION_STATE_HPP

// What a `session` shares between its requests: a CURLSH (cookie jar, TLS session cache,
// DNS cache if asked) and easy handles of its own.
//
// Easy handles attached to the share are never lent to other sessions or to session-less
// requests: an easy handle keeps its cookie engine after it leaves a share, and a pooled
// handle going back to the context's pool would carry one session's cookies into unrelated
// requests. So a session pools its own transfers, whichever multi_driver runs them.
//
// Lifetime: the `session` object and every operation in flight hold a shared_ptr; idle
// transfers are owned here and destroyed (before the share, which refuses to go while easy
// handles use it) with the last reference.
//
// Locking: a driver's mutex may be held when idle transfers are taken or given back (order:
// driver, then `mutex_`); libcurl takes the share's own locks inside any call on an attached
// handle, from whichever thread runs that driver.

#include "curl_handles.hpp"
#include "transfer.hpp"
#include "transfer_pool.hpp"

#include <boost_curl/request.hpp>
#include <boost_curl/session.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace boost_curl::detail {

// Whether CURLOPT_COOKIELIST would store `line` as a cookie (see add_cookie).
bool acceptable_cookie_line(std::string_view line) noexcept;

class session_state {
 public:
  explicit session_state(const session_options& options);
  ~session_state();
  session_state(const session_state&) = delete;
  session_state& operator=(const session_state&) = delete;

  const session_options& options() const noexcept { return options_; }
  CURLSH* share() const noexcept { return share_.get(); }

  request& defaults() noexcept { return defaults_; }
  // Adds the default header fields `req` does not set itself.
  void apply_defaults(request& req) const;

  // An idle transfer of this session, or a new one wired to `hooks`.
  std::unique_ptr<transfer> acquire(const socket_hooks& hooks);
  void release(std::unique_ptr<transfer> t);

  std::vector<std::string> cookies() const;
  error_code add_cookie(std::string_view line);
  void clear_cookies();

  // The response hook, shared with the operations started while it is set.
  void set_hook(response_hook hook);
  std::shared_ptr<const response_hook> hook() const;

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) noexcept;
  static void unlock(CURL*, curl_lock_data data, void* self) noexcept;

  session_options options_;
  request defaults_;
  // One mutex per kind of shared data (curl_lock_data indexes it); declared before the
  // share, which must go first.
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks_;
  share_ptr share_;
  mutable std::mutex mutex_;   // guards idle_ and cookie_handle_
  easy_ptr cookie_handle_;     // attached to the share, never performed: reads and edits the jar
  transfer_pool idle_{1024};  // this session's own idle transfers
  std::shared_ptr<const response_hook> hook_;  // guarded by mutex_
  std::atomic<bool> has_hook_{false};           // spares the lock to sessions without one
};

}  // namespace boost_curl::detail

#endif
