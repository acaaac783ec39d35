#include <boost_curl/session.hpp>

#include "detail/session_state.hpp"

#include <boost/assert.hpp>

#include <chrono>

namespace boost_curl {

session::session(const executor_type& ex, const session_options& options)
    : executor_(ex), state_(std::make_shared<detail::session_state>(options)) {}

session::session(session&&) noexcept = default;
session& session::operator=(session&&) noexcept = default;
session::~session() = default;

// Every member below needs the state a moved-from session no longer has.

const session_options& session::options() const noexcept {
  BOOST_ASSERT(state_);
  return state_->options();
}

request& session::defaults() noexcept {
  BOOST_ASSERT(state_);
  return state_->defaults();
}
const request& session::defaults() const noexcept {
  BOOST_ASSERT(state_);
  return state_->defaults();
}

request session::make_request(http::verb method, std::string url) const {
  BOOST_ASSERT(state_);
  request r = state_->defaults();
  r.method = method;
  r.url = std::move(url);
  return r;
}

// Expired cookies stay in libcurl's jar until its next request to their host: never listed.
std::vector<cookie> session::cookies() const {
  BOOST_ASSERT(state_);
  std::vector<cookie> jar;
  const auto now = std::chrono::system_clock::now();
  for (const std::string& line : state_->cookies()) {
    error_code ec;
    cookie c = cookie::from_netscape(line, ec);
    if (ec) continue;
    if (c.expires != std::chrono::system_clock::time_point{} && c.expires <= now) continue;
    jar.push_back(std::move(c));
  }
  return jar;
}

error_code session::add_cookie(std::string_view line) {
  BOOST_ASSERT(state_);
  return state_->add_cookie(line);
}

namespace {
bool cookie_token(std::string_view s, bool may_be_empty) noexcept {
  if (s.empty()) return may_be_empty;
  for (const char c : s)
    if (c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  return true;
}
}  // namespace

error_code session::add_cookie(const cookie& c) {
  BOOST_ASSERT(state_);
  if (!cookie_token(c.name, false) || c.name.find('=') != std::string::npos || !cookie_token(c.value, true) ||
      !cookie_token(c.domain, false) || c.domain.front() == '.' || c.domain.front() == '#' ||
      !cookie_token(c.path, true))
    return error::invalid_request;
  return state_->add_cookie(c.to_netscape());
}

void session::on_response(std::function<void(const request&, const response&)> hook) {
  BOOST_ASSERT(state_);
  state_->set_hook(std::move(hook));
}

void session::clear_cookies() {
  BOOST_ASSERT(state_);
  state_->clear_cookies();
}

}  // namespace boost_curl
