#include <boost_curl/session.hpp>

#include "detail/session_state.hpp"

#include <boost/assert.hpp>

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

std::vector<std::string> session::cookies() const {
  BOOST_ASSERT(state_);
  return state_->cookies();
}

error_code session::add_cookie(std::string_view line) {
  BOOST_ASSERT(state_);
  return state_->add_cookie(line);
}

void session::clear_cookies() {
  BOOST_ASSERT(state_);
  state_->clear_cookies();
}

}  // namespace boost_curl
