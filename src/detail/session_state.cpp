#include "session_state.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/system/system_error.hpp>

#include <new>

namespace boost_curl::detail {
namespace {

void share_option(CURLSH* share, CURLSHoption option, long value) {
  const CURLSHcode rc = curl_share_setopt(share, option, value);
  if (rc == CURLSHE_NOMEM) throw std::bad_alloc();
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
    if (std::unique_ptr<transfer> t = idle_.take()) {
      t->use_hooks(hooks);
      return t;
    }
  }
  return std::make_unique<transfer>(hooks, this);
}

void session_state::release(std::unique_ptr<transfer> t) {
  std::lock_guard lock(mutex_);
  idle_.give(std::move(t));
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

namespace {

std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// libcurl 7.88's limits (cookie.c): longer lines, or longer name + value, are dropped.
constexpr std::size_t max_cookie_line = 5000, max_cookie_name_value = 4096;

bool acceptable_set_cookie(std::string_view attributes) noexcept {
  const std::size_t first_end = std::min(attributes.find(';'), attributes.size());
  const std::string_view pair = attributes.substr(0, first_end);
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos || trim_blanks(pair.substr(0, eq)).empty() ||
      pair.size() > max_cookie_name_value)
    return false;
  // A Domain attribute with a value ("; Domain = example.com"): without one the cookie would
  // be stored for no host in particular.
  for (std::size_t at = first_end; at < attributes.size();) {
    const std::size_t end = std::min(attributes.find(';', at + 1), attributes.size());
    const std::string_view attribute = attributes.substr(at + 1, end - at - 1);
    const std::size_t aeq = attribute.find('=');
    if (aeq != std::string_view::npos && boost::beast::iequals(trim_blanks(attribute.substr(0, aeq)), "domain") &&
        !trim_blanks(attribute.substr(aeq + 1)).empty())
      return true;
    at = end;
  }
  return false;
}

// domain, include-subdomains, path, secure, expiry, name, value: libcurl splits with strtok,
// which merges empty fields into their neighbours, so every field but the value must be there.
bool acceptable_netscape_line(std::string_view line) noexcept {
  std::string_view fields[7];
  std::size_t count = 0;
  for (std::size_t start = 0;;) {
    const std::size_t tab = line.find('\t', start);
    if (count == 7) return false;
    fields[count++] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (count != 7) return false;
  for (std::size_t i = 0; i < 6; ++i)
    if (fields[i].empty()) return false;
  constexpr std::string_view http_only = "#HttpOnly_";
  if (fields[0].front() == '#' && (fields[0].substr(0, http_only.size()) != http_only || fields[0] == http_only))
    return false;  // a comment line, or an HttpOnly cookie without a domain
  for (const char c : fields[4])
    if (c < '0' || c > '9') return false;  // expiry: seconds since the epoch
  return fields[5].size() + fields[6].size() <= max_cookie_name_value;
}

}  // namespace

// What CURLOPT_COOKIELIST would store as a cookie: a Netscape cookie-file line or a
// Set-Cookie header line naming its domain. Anything else libcurl either reads as a command
// ("ALL", "SESS", "FLUSH", "RELOAD" empty or write the jar) or drops silently while reporting
// success, or (a Set-Cookie line without a domain) stores for no host in particular.
bool acceptable_cookie_line(std::string_view line) noexcept {
  if (line.empty() || line.size() > max_cookie_line ||
      line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return false;
  constexpr std::string_view set_cookie = "set-cookie:";
  if (line.size() > set_cookie.size() && boost::beast::iequals(line.substr(0, set_cookie.size()), set_cookie))
    return acceptable_set_cookie(trim_blanks(line.substr(set_cookie.size())));
  return acceptable_netscape_line(line);
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

void session_state::set_hook(response_hook hook) {
  auto shared = hook ? std::make_shared<const response_hook>(std::move(hook)) : nullptr;
  std::lock_guard lock(mutex_);
  has_hook_.store(shared != nullptr, std::memory_order_relaxed);
  hook_ = std::move(shared);
}

std::shared_ptr<const response_hook> session_state::hook() const {
  if (!has_hook_.load(std::memory_order_relaxed)) return nullptr;
  std::lock_guard lock(mutex_);
  return hook_;
}

}  // namespace boost_curl::detail
