#include "session_state.hpp"

#include <boost/beast/core/string.hpp>
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
  if (defaults_.headers.begin() == defaults_.headers.end()) return;
  // Decided against the request as given, so a default repeated under one name is added whole.
  std::vector<const http::fields::value_type*> missing;
  for (const auto& field : defaults_.headers)
    if (req.headers.find(field.name_string()) == req.headers.end()) missing.push_back(&field);
  for (const auto* field : missing) req.headers.insert(field->name_string(), field->value());
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

// What CURLOPT_COOKIELIST would take as a cookie: a Netscape cookie-file line (7 tab-separated
// fields, a name) or a Set-Cookie header line naming its domain. Anything else it either reads
// as a command ("ALL", "SESS", "FLUSH", "RELOAD" empty or write the jar) or drops silently, or
// (a Set-Cookie line without a domain) stores for no particular host.
bool acceptable_cookie_line(std::string_view line) noexcept {
  if (line.empty() || line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
  constexpr std::string_view set_cookie = "set-cookie:";
  if (line.size() > set_cookie.size() && boost::beast::iequals(line.substr(0, set_cookie.size()), set_cookie)) {
    // An attribute "; Domain=value" (after the first ';', whitespace allowed).
    for (std::size_t semi = line.find(';'); semi != std::string_view::npos; semi = line.find(';', semi + 1)) {
      std::size_t i = semi + 1;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i + 7 < line.size() && boost::beast::iequals(line.substr(i, 7), "domain=") && line[i + 7] != ';' &&
          line[i + 7] != ' ')
        return true;
    }
    return false;
  }
  std::size_t tabs = 0, last_tab = 0;
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == '\t') ++tabs, last_tab = i;
  if (tabs != 6) return false;
  const std::size_t name_start = line.rfind('\t', last_tab - 1) + 1;
  return last_tab > name_start && line.front() != '\t';
}

error_code session_state::add_cookie(std::string_view line) {
  if (!options_.cookies || !acceptable_cookie_line(line)) return error::invalid_request;
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
