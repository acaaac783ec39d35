#include "transfer.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <charconv>
#include <new>
#include <string_view>

namespace boost_curl::detail {
namespace {

// Bodies announced with Content-Length are reserved up front, but never more than this on
// the word of a server that may lie.
constexpr std::size_t max_reserve = std::size_t(64) << 20;

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

long curl_http_version(http_version v) noexcept {
  switch (v) {
    case http_version::http1_0: return CURL_HTTP_VERSION_1_0;
    case http_version::http1_1: return CURL_HTTP_VERSION_1_1;
    case http_version::http2: return CURL_HTTP_VERSION_2_0;
    case http_version::http2_tls: return CURL_HTTP_VERSION_2TLS;
    case http_version::http2_prior_knowledge: return CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    case http_version::default_version: break;
  }
  return CURL_HTTP_VERSION_NONE;
}

unsigned beast_version(long curl_version) noexcept {
  switch (curl_version) {
    case CURL_HTTP_VERSION_1_0: return 10;
    case CURL_HTTP_VERSION_1_1: return 11;
    case CURL_HTTP_VERSION_2_0: return 20;
    case CURL_HTTP_VERSION_3: return 30;
    default: return 0;
  }
}

std::chrono::microseconds time_info(CURL* easy, CURLINFO what) noexcept {
  curl_off_t us = 0;
  curl_easy_getinfo(easy, what, &us);
  return std::chrono::microseconds(us);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Every setopt below takes a value libcurl accepts unless it is out of memory or the
// option is compiled out; collect the first failure instead of checking each call.
struct option_setter {
  CURL* easy;
  CURLcode first_error = CURLE_OK;
  template <class T>
  void operator()(CURLoption opt, T value) noexcept {
    CURLcode rc = curl_easy_setopt(easy, opt, value);
    if (rc != CURLE_OK && first_error == CURLE_OK) first_error = rc;
  }
};

}  // namespace

transfer::transfer() : easy_(curl_easy_init()) {
  if (!easy_) throw std::bad_alloc();
  error_buffer_[0] = '\0';
}

transfer* transfer::from(CURL* easy) noexcept {
  char* p = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
  return reinterpret_cast<transfer*>(p);
}

error_code transfer::prepare(request&& req, const socket_hooks& hooks) {
  CURL* h = easy_.get();
  if (used_) curl_easy_reset(h);
  used_ = true;
  response_ = response{};
  header_list_.reset();
  body_limit_hit_ = false;
  error_buffer_[0] = '\0';
  max_body_ = req.max_body_size;

  option_setter set{h};
  set(CURLOPT_PRIVATE, static_cast<void*>(this));
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM-based DNS timeouts in a multi-threaded program
  set(CURLOPT_ERRORBUFFER, error_buffer_);
  set(CURLOPT_WRITEFUNCTION, &transfer::on_write);
  set(CURLOPT_WRITEDATA, static_cast<void*>(this));
  set(CURLOPT_HEADERFUNCTION, &transfer::on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(this));
  set(CURLOPT_OPENSOCKETFUNCTION, hooks.open);
  set(CURLOPT_OPENSOCKETDATA, hooks.owner);
  set(CURLOPT_CLOSESOCKETFUNCTION, hooks.close);
  set(CURLOPT_CLOSESOCKETDATA, hooks.owner);

  if (has_crlf(req.url)) return error::invalid_request;
  set(CURLOPT_URL, req.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, req.protocols.c_str());
  set(CURLOPT_REDIR_PROTOCOLS_STR, req.protocols.c_str());

  // Method and body. libcurl reads the body in place, so the transfer keeps it.
  body_ = std::move(req.body);
  const bool sends_body = !body_.empty() || req.method == http::verb::post || req.method == http::verb::put ||
                          req.method == http::verb::patch;
  switch (req.method) {
    case http::verb::unknown: return error::invalid_request;
    case http::verb::get: break;
    case http::verb::head: set(CURLOPT_NOBODY, 1L); break;
    case http::verb::post: break;
    default: set(CURLOPT_CUSTOMREQUEST, http::to_string(req.method).data()); break;
  }
  if (sends_body) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    set(CURLOPT_POSTFIELDS, body_.data());
    if (req.method == http::verb::get) set(CURLOPT_CUSTOMREQUEST, "GET");
  }

  // Header fields, sent as given. libcurl's own additions that the user did not ask for are
  // suppressed: "Expect: 100-continue" (a round trip) and a form Content-Type on bodies.
  curl_slist* list = nullptr;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) return false;
    list = next;
    return true;
  };
  bool ok = true;
  std::string line;
  for (const auto& field : req.headers) {
    std::string_view name = field.name_string(), value = field.value();
    if (name.empty() || has_crlf(name) || has_crlf(value)) {
      curl_slist_free_all(list);
      return error::invalid_request;
    }
    line.assign(name.data(), name.size());
    if (value.empty()) {
      line += ';';  // libcurl's syntax for "send this field with an empty value"
    } else {
      line += ": ";
      line.append(value.data(), value.size());
    }
    ok = ok && append(line);
  }
  if (sends_body && req.headers.find(http::field::expect) == req.headers.end()) ok = ok && append("Expect:");
  if (sends_body && req.headers.find(http::field::content_type) == req.headers.end())
    ok = ok && append("Content-Type:");
  header_list_.reset(list);
  if (!ok) return error::setup_failed;
  if (list) set(CURLOPT_HTTPHEADER, list);

  if (req.timeout.count() > 0) set(CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  if (req.connect_timeout.count() > 0) set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  if (max_body_ > 0) set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_));
  if (req.follow_redirects) {
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, req.max_redirects);
  }
  if (!req.verify_peer) set(CURLOPT_SSL_VERIFYPEER, 0L);
  if (!req.verify_host) set(CURLOPT_SSL_VERIFYHOST, 0L);
  if (!req.ca_file.empty()) set(CURLOPT_CAINFO, req.ca_file.c_str());
  if (long v = curl_http_version(req.version); v != CURL_HTTP_VERSION_NONE) set(CURLOPT_HTTP_VERSION, v);
  if (req.decompress) set(CURLOPT_ACCEPT_ENCODING, "");
  if (!req.proxy.empty()) set(CURLOPT_PROXY, req.proxy.c_str());
  if (!req.unix_socket_path.empty()) set(CURLOPT_UNIX_SOCKET_PATH, req.unix_socket_path.c_str());

  if (set.first_error != CURLE_OK) return make_curl_error(set.first_error);
  return {};
}

std::size_t transfer::on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  const std::size_t n = size * count;
  std::string& body = t->response_.body;
  if (t->max_body_ != 0 && n > t->max_body_ - std::min(t->max_body_, body.size())) {
    t->body_limit_hit_ = true;
    return 0;  // makes libcurl abort this transfer with CURLE_WRITE_ERROR
  }
  try {
    body.append(data, n);
  } catch (...) {
    return 0;
  }
  return n;
}

std::size_t transfer::on_header(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  try {
    if (line.substr(0, 5) == "HTTP/") {
      // A new response begins (after a redirect, an interim 1xx, a proxy's CONNECT reply):
      // only the final one's fields are kept.
      t->response_.headers.clear();
      return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;  // blank line ending the block, or junk
    std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    t->response_.headers.insert(name, value);
    if (boost::beast::iequals(name, "content-length")) {
      std::size_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec == std::errc{} && end == value.data() + value.size()) {
        std::size_t cap = t->max_body_ ? std::min(t->max_body_, max_reserve) : max_reserve;
        t->response_.body.reserve(std::min(length, cap));
      }
    }
  } catch (...) {
    return 0;  // out of memory: abort the transfer rather than lose a field silently
  }
  return n;
}

bool transfer::request_started() const noexcept {
  curl_off_t pretransfer = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  return pretransfer != 0;
}

error_code transfer::finish(CURLcode result) {
  CURL* h = easy_.get();
  response& r = response_;
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  r.status = static_cast<http::status>(code);
  char* url = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) r.effective_url = url;
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  r.version = beast_version(version);
  curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &r.redirect_count);
  char* ip = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) r.primary_ip = ip;
  long port = 0;
  curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
  r.primary_port = static_cast<std::uint16_t>(port);
  r.time.name_lookup = time_info(h, CURLINFO_NAMELOOKUP_TIME_T);
  r.time.connect = time_info(h, CURLINFO_CONNECT_TIME_T);
  r.time.tls_handshake = time_info(h, CURLINFO_APPCONNECT_TIME_T);
  r.time.pretransfer = time_info(h, CURLINFO_PRETRANSFER_TIME_T);
  r.time.first_byte = time_info(h, CURLINFO_STARTTRANSFER_TIME_T);
  r.time.total = time_info(h, CURLINFO_TOTAL_TIME_T);
  r.time.redirect = time_info(h, CURLINFO_REDIRECT_TIME_T);

  // The request's fields and body are no longer needed; free them now, not at reuse.
  header_list_.reset();
  std::string().swap(body_);

  if (result == CURLE_OK) return {};
  r.error_message = error_buffer_[0] ? error_buffer_ : curl_easy_strerror(result);
  if ((result == CURLE_WRITE_ERROR && body_limit_hit_) || result == CURLE_FILESIZE_EXCEEDED) {
    r.error_message = "response body exceeds max_body_size";
    return error::body_too_large;
  }
  return make_curl_error(result);
}

}  // namespace boost_curl::detail
