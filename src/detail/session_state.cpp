#include "session_state.hpp"

#include <boost/system/system_error.hpp>

#include <new>

namespace boost_curl::detail {
namespace {

// Idle transfers a session keeps for reuse; more are freed.
constexpr std::size_t max_idle_transfers = 1024;

void share_option(CURLSH* share, CURLSHoption option, long value) {
  const CURLSHcode rc = curl_share_setopt(share, option, value);
  if (rc != CURLSHE_OK)
    throw boost::system::system_error(make_error_code(error::setup_failed), curl_share_strerror(rc));
}

}  // namespace

session_state::session_state(const session_options& options) : options_(options) {
  ensure_curl_global_init();
  share_.reset(curl_share_init());
  if (!share_) throw std::bad_alloc();
  CURLSH* s = share_.get();
  curl_share_setopt(s, CURLSHOPT_LOCKFUNC, &session_state::lock);
  curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, &session_state::unlock);
  curl_share_setopt(s, CURLSHOPT_USERDATA, static_cast<void*>(this));
  if (options_.cookies) share_option(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  if (options_.share_dns_cache) share_option(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (options_.share_tls_sessions) share_option(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);

  cookie_handle_.reset(curl_easy_init());
  if (!cookie_handle_) throw std::bad_alloc();
  curl_easy_setopt(cookie_handle_.get(), CURLOPT_SHARE, s);
}

// Members go in reverse order: idle transfers and the cookie handle leave the share before
// curl_share_cleanup runs.
session_state::~session_state() = default;

void session_state::lock(CURL*, curl_lock_data data, curl_lock_access, void* self) noexcept {
  auto* state = static_cast<session_state*>(self);
  if (static_cast<std::size_t>(data) < state->share_locks_.size()) state->share_locks_[data].lock();
}

void session_state::unlock(CURL*, curl_lock_data data, void* self) noexcept {
  auto* state = static_cast<session_state*>(self);
  if (static_cast<std::size_t>(data) < state->share_locks_.size()) state->share_locks_[data].unlock();
}

void session_state::apply_defaults(request& req) const {
  for (const auto& field : defaults_.headers) {
    const auto name = field.name_string();
    if (req.headers.find(name) == req.headers.end()) req.headers.insert(name, field.value());
  }
}

std::unique_ptr<transfer> session_state::acquire(const socket_hooks& hooks) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<transfer> t = std::move(idle_.back());
      idle_.pop_back();
      t->use_hooks(hooks);
      return t;
    }
  }
  return std::make_unique<transfer>(hooks, this);
}

void session_state::release(std::unique_ptr<transfer> t) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_transfers) idle_.push_back(std::move(t));
}

std::vector<std::string> session_state::cookies() const {
  std::vector<std::string> lines;
  std::lock_guard lock(mutex_);
  curl_slist* list = nullptr;
  if (curl_easy_getinfo(cookie_handle_.get(), CURLINFO_COOKIELIST, &list) != CURLE_OK) return lines;
  const slist_ptr owner(list);
  for (curl_slist* item = list; item; item = item->next) lines.emplace_back(item->data);
  return lines;
}

error_code session_state::add_cookie(std::string_view line) {
  if (!options_.cookies || line.empty() || line.find_first_of("\r\n", 0) != std::string_view::npos ||
      line.find('\0') != std::string_view::npos)
    return error::invalid_request;
  const std::string copy(line);
  std::lock_guard lock(mutex_);
  const CURLcode rc = curl_easy_setopt(cookie_handle_.get(), CURLOPT_COOKIELIST, copy.c_str());
  return rc == CURLE_OK ? error_code{} : make_curl_error(rc);
}

void session_state::clear_cookies() {
  std::lock_guard lock(mutex_);
  curl_easy_setopt(cookie_handle_.get(), CURLOPT_COOKIELIST, "ALL");
}

}  // namespace boost_curl::detail
