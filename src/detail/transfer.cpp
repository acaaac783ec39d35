#include "transfer.hpp"

#include "proxy_environment.hpp"
#include "session_state.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace boost_curl::detail {
namespace {

// Bodies announced with Content-Length are reserved up front, but never more than this on
// the word of a server that may lie.
constexpr std::size_t max_reserve = std::size_t(64) << 20;

// Two memchr scans: find_first_of("\r\n") would search the set once per character.
bool has_crlf(std::string_view s) noexcept {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

bool is_https(std::string_view url) noexcept {
  constexpr std::string_view scheme = "https://";
  if (url.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if ((url[i] | 0x20) != scheme[i]) return false;  // ASCII lower case; ':' and '/' unchanged
  return true;
}

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

bool h2c_reuse_works() noexcept {
  static const bool works = curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
  return works;
}

// Every setopt below takes a value libcurl accepts unless it is out of memory or the
// option is compiled out; collect the first failure instead of checking each call.
struct option_setter {
  CURL* easy;
  CURLcode first_error = CURLE_OK;
  CURLoption first_refused{};
  template <class T>
  void operator()(CURLoption opt, T value) noexcept {
    CURLcode rc = curl_easy_setopt(easy, opt, value);
    if (rc != CURLE_OK && first_error == CURLE_OK) {
      first_error = rc;
      first_refused = opt;
    }
  }
};

// The request member behind a libcurl option, for error messages (values are not repeated:
// they may hold credentials).
const char* request_member(CURLoption opt) noexcept {
  switch (opt) {
    case CURLOPT_URL: return "url";
    case CURLOPT_PROTOCOLS_STR:
    case CURLOPT_REDIR_PROTOCOLS_STR: return "protocols";
    case CURLOPT_POSTFIELDS:
    case CURLOPT_POSTFIELDSIZE_LARGE: return "body";
    case CURLOPT_HTTPHEADER: return "headers";
    case CURLOPT_TIMEOUT_MS: return "timeout";
    case CURLOPT_CONNECTTIMEOUT_MS: return "connect_timeout";
    case CURLOPT_FOLLOWLOCATION:
    case CURLOPT_MAXREDIRS: return "follow_redirects / max_redirects";
    case CURLOPT_SSL_VERIFYPEER: return "verify_peer";
    case CURLOPT_SSL_VERIFYHOST: return "verify_host";
    case CURLOPT_CAINFO: return "ca_file";
    case CURLOPT_HTTP_VERSION: return "version";
    case CURLOPT_ACCEPT_ENCODING: return "decompress";
    case CURLOPT_PROXY: return "proxy";
    case CURLOPT_UNIX_SOCKET_PATH: return "unix_socket_path";
    default: return "an option";
  }
}

}  // namespace

transfer::transfer(const socket_hooks& hooks, session_state* session)
    : hooks_(hooks), session_(session), easy_(curl_easy_init()) {
  if (!easy_) throw std::bad_alloc();
  error_buffer_[0] = '\0';
#if LIBCURL_VERSION_NUM >= 0x075400  // CURLINFO_CAINFO: 7.84
  char* ca = nullptr;
  if (curl_easy_getinfo(easy_.get(), CURLINFO_CAINFO, &ca) == CURLE_OK && ca) default_ca_file_ = ca;
#endif
  set_fixed_options();
}

// Options every transfer has, set once per easy handle (and again after a reset).
void transfer::set_fixed_options() {
  CURL* h = easy_.get();
  curl_easy_setopt(h, CURLOPT_PRIVATE, static_cast<void*>(this));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM-based DNS timeouts in a threaded program
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer_);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &transfer::on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, static_cast<void*>(this));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &transfer::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, static_cast<void*>(this));
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, hooks_.open);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, hooks_.close);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, hooks_.owner);
  // No proxy variables in the environment: say so once, instead of libcurl looking them up
  // for every request (see proxy_environment.hpp). apply() keeps PROXY in step.
  const proxy_environment& env = proxy_environment_at_start();
  if (!env.proxy) curl_easy_setopt(h, CURLOPT_PROXY, "");
  if (!env.no_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "");
  if (session_) {
    curl_easy_setopt(h, CURLOPT_SHARE, session_->share());
    // An empty file name turns the cookie engine on without reading a file: received
    // cookies go to the share's jar and matching ones are sent.
    if (session_->options().cookies) curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
  }
}

// Only the close callback's pointer names the driver; the open callback finds it in hooks_.
void transfer::use_hooks(const socket_hooks& hooks) noexcept {
  if (hooks.owner == hooks_.owner) return;
  hooks_ = hooks;
  CURL* h = easy_.get();
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, hooks_.open);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, hooks_.close);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, hooks_.owner);
}

transfer* transfer::from(CURL* easy) noexcept {
  char* p = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
  return reinterpret_cast<transfer*>(p);
}

error_code transfer::prepare(request&& req) {
  if (needs_reset_) {
    curl_easy_reset(easy_.get());
    applied_ = applied_options{};
    set_fixed_options();
    needs_reset_ = false;
  }
  response_ = response{};
  header_block_.clear();
  header_list_.reset();
  body_limit_hit_ = false;
  error_buffer_[0] = '\0';
  max_body_ = req.max_body_size;
  decompressing_ = req.decompress;
  error_code ec = apply(req);
  if (ec) needs_reset_ = true;
  return ec;
}

error_code transfer::refuse(const char* why) {
  response_.error_message = why;
  return error::invalid_request;
}

error_code transfer::apply(request& req) {
  CURL* h = easy_.get();
  applied_options& was = applied_;
  option_setter set{h};
  auto set_string = [&set](CURLoption opt, std::string& current, const std::string& wanted, const char* when_empty) {
    if (current == wanted) return;
    set(opt, wanted.empty() ? when_empty : wanted.c_str());
    current = wanted;
  };

  if (has_crlf(req.url)) return refuse("the URL holds a CR or LF character");
  // libcurl keeps the URL set (a redirect followed changes only its transfer state), so a
  // load generator's repeated URL is not copied again.
  if (was.url != req.url) {
    set(CURLOPT_URL, req.url.c_str());  // libcurl copies it
    was.url = req.url;
  }
  response_.effective_url = std::move(req.url);  // most often the effective URL too: see finish()
  if (was.protocols != req.protocols) {
    set(CURLOPT_PROTOCOLS_STR, req.protocols.c_str());
    set(CURLOPT_REDIR_PROTOCOLS_STR, req.protocols.c_str());
    was.protocols = req.protocols;
  }

  // Method and body. libcurl reads the body in place, so the transfer keeps it.
  if (req.method == http::verb::unknown) return refuse("the request method is http::verb::unknown");
  body_ = std::move(req.body);
  const bool sends_body = !body_.empty() || req.method == http::verb::post || req.method == http::verb::put ||
                          req.method == http::verb::patch;
  if (was.method != req.method || was.sends_body != sends_body) {
    set(CURLOPT_HTTPGET, 1L);  // back to a plain GET: clears NOBODY and POST
    set(CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
    if (req.method == http::verb::head) {
      set(CURLOPT_NOBODY, 1L);
    } else if (req.method != http::verb::get && req.method != http::verb::post) {
      set(CURLOPT_CUSTOMREQUEST, http::to_string(req.method).data());
    } else if (req.method == http::verb::get && sends_body) {
      set(CURLOPT_CUSTOMREQUEST, "GET");
    }
    was.method = req.method;
    was.sends_body = sends_body;
  }
  if (sends_body) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    set(CURLOPT_POSTFIELDS, body_.data());
  }

  // Header fields, sent as given. libcurl's own additions that the user did not ask for are
  // suppressed: "Expect: 100-continue" (a round trip) and a form Content-Type on bodies.
  curl_slist* list = nullptr;
  bool ok = true;
  auto append = [&list, &ok](const std::string& line) {
    if (!ok) return;
    if (curl_slist* next = curl_slist_append(list, line.c_str()))
      list = next;
    else
      ok = false;
  };
  std::string line;
  for (const auto& field : req.headers) {
    std::string_view name = field.name_string(), value = field.value();
    if (name.empty() || has_crlf(name) || has_crlf(value)) {
      curl_slist_free_all(list);
      return refuse(name.empty() ? "a header field has an empty name"
                                 : "a header field's name or value holds a CR or LF character");
    }
    line.assign(name.data(), name.size());
    if (value.empty()) {
      line += ';';  // libcurl's syntax for "send this field with an empty value"
    } else {
      line += ": ";
      line.append(value.data(), value.size());
    }
    append(line);
  }
  if (sends_body && req.headers.find(http::field::expect) == req.headers.end()) append("Expect:");
  if (sends_body && req.headers.find(http::field::content_type) == req.headers.end()) append("Content-Type:");
  header_list_.reset(list);
  if (!ok) {
    response_.error_message = "out of memory building the header field list";
    return error::setup_failed;
  }
  if (list || was.header_list) set(CURLOPT_HTTPHEADER, list);
  was.header_list = list != nullptr;

  const long timeout_ms = static_cast<long>(req.timeout.count());
  if (was.timeout_ms != timeout_ms) set(CURLOPT_TIMEOUT_MS, was.timeout_ms = timeout_ms);
  const long connect_ms = static_cast<long>(req.connect_timeout.count());
  if (was.connect_timeout_ms != connect_ms) set(CURLOPT_CONNECTTIMEOUT_MS, was.connect_timeout_ms = connect_ms);
  if (was.follow != req.follow_redirects || was.max_redirects != req.max_redirects) {
    set(CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    set(CURLOPT_MAXREDIRS, req.max_redirects);
    was.follow = req.follow_redirects;
    was.max_redirects = req.max_redirects;
  }
  if (was.verify_peer != req.verify_peer) set(CURLOPT_SSL_VERIFYPEER, (was.verify_peer = req.verify_peer) ? 1L : 0L);
  if (was.verify_host != req.verify_host) set(CURLOPT_SSL_VERIFYHOST, (was.verify_host = req.verify_host) ? 2L : 0L);
  set_string(CURLOPT_CAINFO, was.ca_file, req.ca_file, default_ca_file_.empty() ? nullptr : default_ca_file_.c_str());
  const long v = curl_http_version(req.version);
  if (was.http_version != v) {
    set(CURLOPT_HTTP_VERSION, was.http_version = v);
    // libcurl before 8.0 fails any request on a reused or shared h2c prior-knowledge
    // connection ("Error in the HTTP2 framing layer", curl#10634, fixed by curl#10643): give
    // each such request a connection of its own, used once.
    const bool forbid = v == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && !h2c_reuse_works();
    if (forbid != was.forbid_reuse) {
      set(CURLOPT_FORBID_REUSE, forbid ? 1L : 0L);
      set(CURLOPT_FRESH_CONNECT, forbid ? 1L : 0L);
      was.forbid_reuse = forbid;
    }
  }
  // Where HTTP/2 may be negotiated, wait for a connection being set up to say whether it
  // multiplexes rather than open one connection per concurrent request (what `curl -Z`
  // does). Asked for explicitly, always; by default, over TLS, where ALPN decides at the
  // handshake. Not for cleartext by default: HTTP/1.1 there, and libcurl would hold every
  // concurrent request until the first response to learn that.
  const bool pipewait = v == CURL_HTTP_VERSION_2_0 || v == CURL_HTTP_VERSION_2TLS ||
                        v == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE ||
                        (v == CURL_HTTP_VERSION_NONE && is_https(was.url));
  if (pipewait != was.pipewait) set(CURLOPT_PIPEWAIT, (was.pipewait = pipewait) ? 1L : 0L);
  if (was.decompress != req.decompress) {
    set(CURLOPT_ACCEPT_ENCODING, req.decompress ? "" : static_cast<const char*>(nullptr));
    was.decompress = req.decompress;
  }
  set_string(CURLOPT_PROXY, was.proxy, req.proxy, proxy_environment_at_start().proxy ? nullptr : "");
  set_string(CURLOPT_UNIX_SOCKET_PATH, was.unix_socket_path, req.unix_socket_path, nullptr);

  if (set.first_error != CURLE_OK) {
    response_.error_message = std::string("libcurl refused request::") + request_member(set.first_refused) + ": " +
                              curl_easy_strerror(set.first_error);
    return make_curl_error(set.first_error);
  }
  return {};
}

// The body limit is enforced here, not with CURLOPT_MAXFILESIZE: libcurl checks that against
// the announced Content-Length even for responses that have no body (HEAD, 204, 304).
std::size_t transfer::on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  const std::size_t n = size * count;
  std::string& body = t->response_.body;
  if (body.capacity() <= std::string().capacity()) {
    // First bytes: reserve the announced length, but never more than this on the word of a
    // server that may lie; refuse at once a body announced over the limit.
    curl_off_t length = -1;
    curl_easy_getinfo(t->easy_.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length > 0) {
      if (t->max_body_ != 0 && !t->decompressing_ && static_cast<std::uint64_t>(length) > t->max_body_) {
        t->body_limit_hit_ = true;
        return 0;
      }
      const std::size_t cap = t->max_body_ ? std::min(t->max_body_, max_reserve) : max_reserve;
      try {
        body.reserve(std::min(static_cast<std::size_t>(length), cap));
      } catch (...) {
        return 0;
      }
    }
  }
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

// Header lines are only collected here; response_headers parses them if and when the
// user looks (see response_headers.hpp).
std::size_t transfer::on_header(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  const std::size_t n = size * count;
  std::string& block = t->header_block_;
  try {
    if (n >= 5 && std::memcmp(data, "HTTP/", 5) == 0) {
      // A new response begins (after a redirect, an interim 1xx, a proxy's CONNECT reply):
      // only the final one's fields are kept.
      if (block.capacity() < 512) block.reserve(512);
      block.assign(data, n);
    } else {
      block.append(data, n);
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
  // effective_url holds the request's URL already (apply()); copied only when they differ.
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url && r.effective_url != url)
    r.effective_url = url;
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

  r.headers = response_headers(std::move(header_block_));  // prepare() clears it for the next one

  // The request's fields and body are no longer needed; free them now, not at reuse.
  header_list_.reset();
  std::string().swap(body_);

  if (result == CURLE_OK) return {};
  r.error_message = error_buffer_[0] ? error_buffer_ : curl_easy_strerror(result);
  if (result == CURLE_WRITE_ERROR && body_limit_hit_) {
    r.error_message = "response body exceeds max_body_size";
    return error::body_too_large;
  }
  return make_curl_error(result);
}

}  // namespace boost_curl::detail
