#include "transfer.hpp"
#include "completion.hpp"
#include "multi_driver.hpp"

#include "proxy_environment.hpp"
#include "session_state.hpp"
#include "url_parts.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace boost_curl::detail {
namespace {

// Bodies announced with Content-Length are reserved up front, but never more than this on
// the word of a server that may lie.
constexpr std::size_t max_reserve = std::size_t(64) << 20;

// A receive buffer size as libcurl takes it: it clamps sizes to 1 KiB .. 10 MiB itself
// (clamped here too, so that the value compared is libcurl's).
long receive_buffer(std::size_t wanted) noexcept {
  constexpr std::size_t smallest = 1024, largest = std::size_t(10) << 20;
  return static_cast<long>(std::clamp(wanted, smallest, largest));
}

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

}  // namespace

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
static const char* request_member(CURLoption opt) noexcept {
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
    case CURLOPT_BUFFERSIZE: return "receive_buffer_size";
    case CURLOPT_PROXY: return "proxy";
    case CURLOPT_UNIX_SOCKET_PATH: return "unix_socket_path";
    default: return "an option";
  }
}



namespace {

// Header fields kept on a redirect to another origin; every other field the request set is
// dropped with the credentials: a custom field may carry one (X-Api-Key...).
bool kept_across_origins(const http::fields::value_type& field) noexcept {
  switch (field.name()) {
    case http::field::accept:
    case http::field::accept_charset:
    case http::field::accept_encoding:
    case http::field::accept_language:
    case http::field::user_agent:
    case http::field::cache_control:
    case http::field::pragma:
    case http::field::range:
    case http::field::content_type:
    case http::field::content_encoding:
    case http::field::content_language:
      return true;
    default:
      return false;
  }
}

bool describes_body(http::field f) noexcept {
  return f == http::field::content_type || f == http::field::content_encoding ||
         f == http::field::content_language || f == http::field::content_length;
}

// A cookie name or value must fit in "name=value; ..." unchanged.
bool valid_cookie_part(std::string_view s, bool is_name) noexcept {
  if (is_name && s.empty()) return false;
  for (const char c : s)
    if (c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || (is_name && c == '=')) return false;
  return true;
}

// A method token (RFC 9110): visible characters but separators.
bool valid_method(std::string_view m) noexcept {
  if (m.empty()) return false;
  for (const char c : m)
    if (c <= ' ' || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  return true;
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
  if (!set_fixed_options()) throw std::bad_alloc();
}

// The easy handle goes first: it may point into url_memo_ (CURLOPT_CURLU).
transfer::~transfer() { easy_.reset(); }

// Options every transfer has, set once per easy handle (and again after a reset). False:
// out of memory.
bool transfer::set_fixed_options() {
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
  // Redirects are followed by the engine (follow_redirect()), hop by hop.
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // No proxy variables in the environment: say so once, instead of libcurl looking them up
  // for every request (see proxy_environment.hpp). apply() keeps PROXY in step.
  // The string options are copied by libcurl, which may run out of memory: then the handle is
  // not fit for use (a session's handle without its cookie engine would drop cookies silently).
  bool ok = true;
  auto copied = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
  const proxy_environment& env = proxy_environment_at_start();
  if (!env.proxy) copied(curl_easy_setopt(h, CURLOPT_PROXY, ""));
  if (!env.no_proxy) copied(curl_easy_setopt(h, CURLOPT_NOPROXY, ""));
  if (session_) {
    curl_easy_setopt(h, CURLOPT_SHARE, session_->share());
    // An empty file name turns the cookie engine on without reading a file: received
    // cookies go to the share's jar and matching ones are sent.
    if (session_->options().cookies) copied(curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""));
  }
  return ok;
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

// Per hop: what the previous exchange left behind.
error_code transfer::reset_for_hop() {
  response_ = response{};
  header_block_.clear();
  header_list_.reset();
  body_limit_hit_ = false;
  error_buffer_[0] = '\0';
  // libcurl keeps authentication state in the easy handle across transfers (the scheme a
  // server made it pick, a failed attempt): with other credentials, or none, start afresh.
  if (applied_.auth && applied_.auth != request_->auth) needs_reset_ = true;
  // Uncommon options are not tracked one by one: a handle that had any starts afresh.
  if (std::exchange(uncommon_used_, false)) needs_reset_ = true;
  if (needs_reset_) {
    // A fresh easy handle rather than curl_easy_reset: libcurl 7.88's reset drops (leaks) a
    // cookie file list set since the last transfer (CURLOPT_COOKIEFILE "" of a session
    // handle), and it is as cheap. Connections live in the multi handle, not here.
    if (CURL* fresh = curl_easy_init())
      easy_.reset(fresh);
    else
      curl_easy_reset(easy_.get());  // out of memory: the old handle, reset
    applied_ = applied_options{};
    if (!set_fixed_options()) {
      response_.error_message = "out of memory setting up the easy handle";
      return make_curl_error(CURLE_OUT_OF_MEMORY);  // needs_reset_ stays: tried again next time
    }
    needs_reset_ = false;
  }
  return {};
}

error_code transfer::prepare(request&& req, bool keep_hops, std::shared_ptr<body_sink> sink) {
  request_.emplace(std::move(req));  // constructed in place: cheaper than a move-assignment of every field
  sink_ = std::move(sink);
  head_sent_ = false;
  progress_.reset();
  if (request_->on_progress) progress_ = std::make_shared<progress_relay>(request_->on_progress);
  history_.clear();
  hop_requests_.clear();
  keep_hops_ = keep_hops;
  credentials_dropped_ = false;
  sent_earlier_hop_ = false;
  first_origin_.clear();
  deadline_ = request_->timeout.count() > 0 ? std::chrono::steady_clock::now() + request_->timeout
                                           : std::chrono::steady_clock::time_point{};
  max_body_ = sink_ ? 0 : request_->max_body_size;
  decompressing_ = request_->decompress;
  socket_errno = 0;
  error_code ec = reset_for_hop();
  if (!ec) ec = apply();
  if (ec && receive_buffer_held_) {
    needs_reset_ = true;  // a fresh easy handle, which holds no buffer (see apply); tried once
    ec = reset_for_hop();
    if (!ec) ec = apply();
  }
  receive_buffer_held_ = false;
  if (ec) {
    needs_reset_ = true;
    release_request();
  }
  return ec;
}

error_code transfer::refuse(const char* why) {
  response_.error_message = why;
  return error::invalid_request;
}

error_code transfer::apply() {
  CURL* h = easy_.get();
  applied_options& was = applied_;
  const request& req = *request_;
  option_setter set{h};
  auto set_string = [&set](CURLoption opt, std::string& current, const std::string& wanted, const char* when_empty) {
    if (current == wanted) return;
    set(opt, wanted.empty() ? when_empty : wanted.c_str());
    current = wanted;
  };

  if (has_crlf(req.url)) return refuse("the URL holds a CR or LF character");
  // libcurl keeps the URL set, so a load generator's repeated URL is not copied again. A URL
  // this handle had lately goes as its parsed form (parsed_url_memo.hpp): libcurl copies that
  // instead of parsing the string. Not with curl_options, which may change how libcurl parses
  // (CURLOPT_PATH_AS_IS, ...).
  url_ptr retired;  // what the memo forgot: freed on return, once libcurl points elsewhere
  const parsed_url_memo::form parsed = req.curl_options.empty() ? url_memo_.find(req.url, retired) : parsed_url_memo::form{};
  const bool leaving_parsed = was.parsed_url && !parsed.handle;
  if (parsed.handle != was.parsed_url) {
    // With its text as the string: libcurl connects with the parsed handle and reports (and
    // keeps) the string as the URL (CURLINFO_EFFECTIVE_URL, ...), making it from the handle
    // only when no string is set.
    if (parsed.handle) set(CURLOPT_URL, parsed.text);
    set(CURLOPT_CURLU, parsed.handle);  // takes precedence over CURLOPT_URL; null: the string again
    was.parsed_url = parsed.handle;
  }
  if (!parsed.handle && (leaving_parsed || was.url != req.url)) {
    set(CURLOPT_URL, req.url.c_str());  // libcurl copies it
    was.url = req.url;
  }
  if (was.protocols != req.protocols) {
    set(CURLOPT_PROTOCOLS_STR, req.protocols.c_str());
    set(CURLOPT_REDIR_PROTOCOLS_STR, req.protocols.c_str());
    was.protocols = req.protocols;
  }
  if (error_code ec = apply_body(set)) return ec;
  if (error_code ec = apply_fields(set)) return ec;
  if (error_code ec = apply_auth_and_cookies(set)) return ec;

  const long timeout_ms = static_cast<long>(req.timeout.count());
  if (was.timeout_ms != timeout_ms) set(CURLOPT_TIMEOUT_MS, was.timeout_ms = timeout_ms);
  const long connect_ms = static_cast<long>(req.connect_timeout.count());
  if (was.connect_timeout_ms != connect_ms) set(CURLOPT_CONNECTTIMEOUT_MS, was.connect_timeout_ms = connect_ms);
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
                        (v == CURL_HTTP_VERSION_NONE && is_https(req.url));
  if (pipewait != was.pipewait) set(CURLOPT_PIPEWAIT, (was.pipewait = pipewait) ? 1L : 0L);
  if (was.decompress != req.decompress) {
    set(CURLOPT_ACCEPT_ENCODING, req.decompress ? "" : static_cast<const char*>(nullptr));
    was.decompress = req.decompress;
  }
  set_string(CURLOPT_PROXY, was.proxy, req.proxy, proxy_environment_at_start().proxy ? nullptr : "");
  set_string(CURLOPT_UNIX_SOCKET_PATH, was.unix_socket_path, req.unix_socket_path, nullptr);
  if (error_code ec = apply_uncommon(set)) return ec;
  if (progress_) {
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &transfer::on_progress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(this));
    uncommon_used_ = true;
  }
  // A paused transfer's decoder still writes out all it decodes from one received buffer,
  // which libcurl then holds: 1 KiB received inflates to at most about 1 MiB (deflate's limit
  // is 1032:1), which bounds what a streamed body holds even from a gzip bomb. libcurl 7.88
  // allocates the buffer at each transfer's start, so a new size costs nothing more.
  // libcurl 7.88's rate limiter holds the rate less closely with large reads (16 MiB at
  // 4 MB/s: 3.45 s with 64 KiB reads, 4.19 s with 16 KiB): a limited transfer reads 16 KiB at most.
  long buffer_size = sink_ && req.decompress
                         ? 1024L
                         : receive_buffer(req.receive_buffer_size ? req.receive_buffer_size : automatic_receive_buffer_);
  if (req.max_recv_speed != 0) buffer_size = std::min(buffer_size, long(CURL_MAX_WRITE_SIZE));
  if (was.buffer_size != buffer_size) {
    set(CURLOPT_BUFFERSIZE, was.buffer_size = buffer_size);
    // libcurl 7.88 refuses a new size (CURLE_BAD_FUNCTION_ARGUMENT) while it still holds the
    // receive buffer of the handle's previous transfer, which it keeps after one that ended
    // while others were multiplexed on its connection: prepare() then takes a fresh handle.
    if (set.first_refused == CURLOPT_BUFFERSIZE && set.first_error == CURLE_BAD_FUNCTION_ARGUMENT)
      receive_buffer_held_ = true;
  }

  if (set.first_error != CURLE_OK) {
    response_.error_message = std::string("libcurl refused request::") + request_member(set.first_refused) + ": " +
                              curl_easy_strerror(set.first_error);
    return make_curl_error(set.first_error);
  }
  return {};
}

// Method and body: a string body libcurl reads in place from request_, or a MIME body.
error_code transfer::apply_body(option_setter& set) {
  applied_options& was = applied_;
  const request& req = *request_;
  if (req.method == http::verb::unknown && req.custom_method.empty())
    return refuse("the request method is http::verb::unknown");
  if (!req.custom_method.empty() && !valid_method(req.custom_method))
    return refuse("request::custom_method is not a method token");
  mime_.reset();
  const bool mime = req.multipart.has_value();
  if (mime) {
    mime_.reset(curl_mime_init(easy_.get()));
    if (!mime_) {
      response_.error_message = "out of memory building the multipart body";
      return error::setup_failed;
    }
    for (const multipart_form::part& p : req.multipart->parts()) {
      curl_mimepart* part = curl_mime_addpart(mime_.get());
      if (!part) {
        response_.error_message = "out of memory building the multipart body";
        return error::setup_failed;
      }
      CURLcode rc = curl_mime_name(part, p.name.c_str());
      if (rc == CURLE_OK) {
        switch (p.what) {
          case multipart_form::part::kind::field:
            rc = curl_mime_data(part, p.value.data(), p.value.size());
            break;
          case multipart_form::part::kind::data:
            rc = curl_mime_data(part, p.value.data(), p.value.size());
            if (rc == CURLE_OK) rc = curl_mime_filename(part, p.filename.c_str());
            break;
          case multipart_form::part::kind::file:
            // Read while sending; a file that cannot be read fails here, before anything is sent.
            rc = curl_mime_filedata(part, p.path.c_str());
            if (rc != CURLE_OK) {
              response_.error_message = "multipart file " + p.path.string() + " cannot be read";
              return make_curl_error(rc);
            }
            break;
        }
      }
      if (rc == CURLE_OK && !p.content_type.empty()) rc = curl_mime_type(part, p.content_type.c_str());
      if (rc != CURLE_OK) {
        response_.error_message = std::string("multipart part \"") + p.name + "\": " + curl_easy_strerror(rc);
        return make_curl_error(rc);
      }
    }
  }
  body_file_.reset();
  const bool from_writes = !mime && req.streamed_body;
  if (from_writes && !sink_) return refuse("request::streamed_body is written on a stream: use stream::async_open");
  const bool from_file = !mime && !from_writes && !req.body_file.empty();
  curl_off_t file_size = 0;
  if (from_file) {
    body_file_.reset(std::fopen(req.body_file.c_str(), "rb"));
    struct stat info {};
    if (!body_file_ || ::fstat(::fileno(body_file_.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
      const int why = body_file_ ? (errno ? errno : EINVAL) : errno;
      body_file_.reset();
      response_.error_message = "request::body_file " + req.body_file.string() + " cannot be read";
      return error_code(why, boost::system::system_category());
    }
    file_size = static_cast<curl_off_t>(info.st_size);
  }
  const bool sends_body = mime || from_file || from_writes || !req.body.empty() || req.method == http::verb::post ||
                          req.method == http::verb::put || req.method == http::verb::patch;
  if (was.method != req.method || was.custom_method != req.custom_method || was.sends_body != sends_body ||
      was.mime != mime) {
    // MIMEPOST first: setting it (even to none) makes the method POST.
    if (was.mime && !mime) set(CURLOPT_MIMEPOST, static_cast<curl_mime*>(nullptr));
    set(CURLOPT_HTTPGET, 1L);  // back to a plain GET: clears NOBODY and POST
    set(CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
    const std::string_view name =
        req.custom_method.empty() ? std::string_view(http::to_string(req.method)) : std::string_view(req.custom_method);
    if (req.method == http::verb::head && req.custom_method.empty()) {
      set(CURLOPT_NOBODY, 1L);
    } else if (name != (sends_body ? "POST" : "GET")) {
      set(CURLOPT_CUSTOMREQUEST, std::string(name).c_str());  // libcurl copies it
    }
    was.method = req.method;
    was.custom_method = req.custom_method;
    was.sends_body = sends_body;
    was.mime = mime;
  }
  if (mime) {
    set(CURLOPT_MIMEPOST, mime_.get());  // keeps a CUSTOMREQUEST set above (a PUT of a form)
  } else if (from_writes) {
    // Length unknown: libcurl sends it chunked (HTTP/1.1), pulling from the stream (on_read).
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(-1));
    set(CURLOPT_POSTFIELDS, static_cast<char*>(nullptr));
    set(CURLOPT_READFUNCTION, &transfer::on_read);
    set(CURLOPT_READDATA, static_cast<void*>(this));
    uncommon_used_ = true;
  } else if (from_file) {
    // Sent as a POST body (the method set above is kept) read by on_read; on_seek rewinds it
    // when libcurl sends it again (an authentication round).
    set(CURLOPT_POSTFIELDSIZE_LARGE, file_size);
    set(CURLOPT_POSTFIELDS, static_cast<char*>(nullptr));
    set(CURLOPT_READFUNCTION, &transfer::on_read);
    set(CURLOPT_READDATA, static_cast<void*>(this));
    set(CURLOPT_SEEKFUNCTION, &transfer::on_seek);
    set(CURLOPT_SEEKDATA, static_cast<void*>(this));
    uncommon_used_ = true;
  } else if (sends_body) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    set(CURLOPT_POSTFIELDS, req.body.data());
  }
  return {};
}

std::size_t transfer::on_read(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  if (t->sink_ && t->request_->streamed_body) {
    const std::size_t n = t->sink_->read(data, size * count);
    t->notify_driver(t->sink_);
    return n;
  }
  if (!t->body_file_) return CURL_READFUNC_ABORT;
  const std::size_t n = std::fread(data, 1, size * count, t->body_file_.get());
  if (n == 0 && std::ferror(t->body_file_.get())) return CURL_READFUNC_ABORT;
  return n;
}

int transfer::on_seek(void* self, curl_off_t offset, int origin) noexcept {
  auto* t = static_cast<transfer*>(self);
  if (!t->body_file_ || std::fseek(t->body_file_.get(), static_cast<long>(offset), origin) != 0) return CURL_SEEKFUNC_FAIL;
  return CURL_SEEKFUNC_OK;
}

int transfer::on_progress(void* self, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) noexcept {
  auto* t = static_cast<transfer*>(self);
  auto figure = [](curl_off_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : std::uint64_t(0); };
  if (t->progress_ && t->progress_->update({figure(dlnow), figure(dltotal), figure(ulnow), figure(ultotal)}))
    static_cast<multi_driver*>(t->hooks_.owner)->notice(t->progress_);
  return 0;
}

// Header fields, sent as given, but for Cookie fields (merged into one, see below). libcurl's
// own additions the user did not ask for are suppressed: "Expect: 100-continue" (a round
// trip) and a form Content-Type on string bodies.
error_code transfer::apply_fields(option_setter& set) {
  applied_options& was = applied_;
  const request& req = *request_;
  const bool sends_body = was.sends_body;
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
    if (field.name() == http::field::cookie) continue;  // see apply_auth_and_cookies
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
  if (sends_body && !was.mime && req.headers.find(http::field::content_type) == req.headers.end())
    append("Content-Type:");
  header_list_.reset(list);
  if (!ok) {
    response_.error_message = "out of memory building the header field list";
    return error::setup_failed;
  }
  if (list || was.header_list) set(CURLOPT_HTTPHEADER, list);
  was.header_list = list != nullptr;
  return {};
}

// Credentials, and cookies: one Cookie field in all. Cookie fields set in `headers` and the
// request's `cookies` go to CURLOPT_COOKIE, which libcurl sends in the same field as its
// cookie engine's (a session's jar); a session stores the request's cookies in its jar for
// the URL's host instead, so they go out once.
error_code transfer::apply_auth_and_cookies(option_setter& set) {
  applied_options& was = applied_;
  const request& req = *request_;
  if (was.auth != req.auth) {
    if (!req.auth) {
      set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));  // libcurl's default
      set(CURLOPT_USERNAME, static_cast<char*>(nullptr));
      set(CURLOPT_PASSWORD, static_cast<char*>(nullptr));
      set(CURLOPT_XOAUTH2_BEARER, static_cast<char*>(nullptr));
    } else {
      const authentication& a = *req.auth;
      if (has_crlf(a.user()) || has_crlf(a.secret())) return refuse("credentials hold a CR or LF character");
      long scheme = CURLAUTH_BASIC;
      switch (a.kind()) {
        case authentication::scheme::basic: scheme = CURLAUTH_BASIC; break;
        case authentication::scheme::digest: scheme = CURLAUTH_DIGEST; break;
        case authentication::scheme::bearer: scheme = CURLAUTH_BEARER; break;
        // Not bearer: a handle that last sent a bearer token would keep "bearer" picked.
        case authentication::scheme::any: scheme = static_cast<long>(CURLAUTH_ANY & ~CURLAUTH_BEARER); break;
      }
      set(CURLOPT_HTTPAUTH, scheme);
      const bool bearer = a.kind() == authentication::scheme::bearer;
      set(CURLOPT_USERNAME, bearer ? static_cast<const char*>(nullptr) : a.user().c_str());
      set(CURLOPT_PASSWORD, bearer ? static_cast<const char*>(nullptr) : a.secret().c_str());
      set(CURLOPT_XOAUTH2_BEARER, bearer ? a.secret().c_str() : static_cast<const char*>(nullptr));
    }
    was.auth = req.auth;
  }

  const bool jar = session_ && session_->options().cookies;
  std::string cookie;
  for (const auto& field : req.headers) {
    if (field.name() != http::field::cookie || field.value().empty()) continue;
    if (!cookie.empty()) cookie += "; ";
    cookie.append(field.value().data(), field.value().size());
  }
  std::string host;
  for (const auto& [name, value] : req.cookies) {
    if (!valid_cookie_part(name, true) || !valid_cookie_part(value, false))
      return refuse("a cookie name or value holds ';', ',', white space, CR or LF");
    if (jar) {
      if (host.empty()) host = host_of(req.url);
      if (host.empty()) return refuse("cookies for a URL without a host");
      // Netscape format: this host only, path /, a session cookie; given for an https URL, a
      // secure one, so that the jar never sends it over cleartext.
      const std::string entry =
          host + "\tFALSE\t/\t" + (is_https(req.url) ? "TRUE" : "FALSE") + "\t0\t" + name + "\t" + value;
      set(CURLOPT_COOKIELIST, entry.c_str());
    } else {
      if (!cookie.empty()) cookie += "; ";
      cookie += name;
      cookie += '=';
      cookie += value;
    }
  }
  if (was.cookie != cookie) {
    set(CURLOPT_COOKIE, cookie.empty() ? static_cast<const char*>(nullptr) : cookie.c_str());
    was.cookie = std::move(cookie);
  }
  return {};
}

namespace {

// CURLOPT_PROTOCOLS and CURLOPT_REDIR_PROTOCOLS, deprecated since 7.85 (naming them warns):
// libcurl still honours them, and they would widen the scheme allow-list.
constexpr int deprecated_protocols = CURLOPTTYPE_LONG + 181;
constexpr int deprecated_redir_protocols = CURLOPTTYPE_LONG + 182;

// Options the engine sets itself, or that would take the transfer out of its hands.
bool owned_by_the_engine(int option) noexcept {
  if (option == deprecated_protocols || option == deprecated_redir_protocols) return true;
  switch (option) {
    case CURLOPT_URL: case CURLOPT_CURLU: case CURLOPT_NOSIGNAL: case CURLOPT_FOLLOWLOCATION: case CURLOPT_COOKIEFILE:
    case CURLOPT_COOKIEJAR: case CURLOPT_COOKIELIST: case CURLOPT_COOKIESESSION: case CURLOPT_CUSTOMREQUEST:
    case CURLOPT_COPYPOSTFIELDS: case CURLOPT_POSTFIELDSIZE: case CURLOPT_POSTFIELDSIZE_LARGE:
    case CURLOPT_HTTPGET: case CURLOPT_NOBODY: case CURLOPT_POST: case CURLOPT_UPLOAD: case CURLOPT_CONNECT_ONLY:
    case CURLOPT_PROTOCOLS_STR: case CURLOPT_REDIR_PROTOCOLS_STR: case CURLOPT_COOKIE:
      return true;
    default:
      return false;
  }
}

// "HOST:PORT:ADDRESS[,ADDRESS...]" as a CONNECT_TO entry "HOST:PORT:ADDRESS:PORT" (a
// bracketed IPv6 host or address allowed); empty when it does not parse.
std::string resolve_as_connect_to(std::string_view entry) {
  std::size_t host_end = 0;
  if (!entry.empty() && entry.front() == '[') {
    host_end = entry.find(']');
    if (host_end == std::string_view::npos) return {};
    ++host_end;
  } else {
    host_end = entry.find(':');
  }
  if (host_end == std::string_view::npos || host_end >= entry.size() || entry[host_end] != ':') return {};
  const std::size_t port_end = entry.find(':', host_end + 1);
  if (port_end == std::string_view::npos) return {};
  const std::string_view host = entry.substr(0, host_end);
  const std::string_view port = entry.substr(host_end + 1, port_end - host_end - 1);
  std::string_view address = entry.substr(port_end + 1);
  address = address.substr(0, address.find(','));
  if (host.empty() || port.empty() || address.empty()) return {};
  std::string out;
  out.append(host).append(":").append(port).append(":");
  if (address.find(':') != std::string_view::npos && address.front() != '[')
    out.append("[").append(address).append("]");
  else
    out.append(address);
  return out.append(":").append(port);
}

}  // namespace

// Options few requests use: TLS client certificates and pins, network tweaks, the escape
// hatch. Not tracked one by one: a handle that had any is reset before its next request
// (reset_for_hop), so here they are only set when asked for, on a handle in libcurl's defaults.
error_code transfer::apply_uncommon(option_setter& set) {
  const request& req = *request_;
  bool used = false;
  auto string = [&](CURLoption opt, const std::string& v) {
    if (v.empty()) return;
    set(opt, v.c_str());
    used = true;
  };
  auto blob = [&](CURLoption opt, const std::string& v) {
    if (v.empty()) return;
    curl_blob b{const_cast<char*>(v.data()), v.size(), CURL_BLOB_COPY};
    set(opt, &b);
    used = true;
  };
  auto number = [&](CURLoption opt, auto v) {
    set(opt, v);
    used = true;
  };
  string(CURLOPT_CAPATH, req.ca_path);
  blob(CURLOPT_CAINFO_BLOB, req.ca_pem);
  string(CURLOPT_SSLCERT, req.client_cert);
  string(CURLOPT_SSLKEY, req.client_key);
  blob(CURLOPT_SSLCERT_BLOB, req.client_cert_pem);
  blob(CURLOPT_SSLKEY_BLOB, req.client_key_pem);
  string(CURLOPT_KEYPASSWD, req.key_password);
  string(CURLOPT_PINNEDPUBLICKEY, req.pinned_public_key);
  if (req.min_tls_version == tls_version::tls1_2) number(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (req.min_tls_version == tls_version::tls1_3) number(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_3));

  connect_to_list_.reset();
  if (!req.connect_to.empty() || !req.resolve.empty()) {
    curl_slist* list = nullptr;
    bool ok = true;
    auto append = [&](const std::string& entry) {
      if (curl_slist* next = ok ? curl_slist_append(list, entry.c_str()) : nullptr)
        list = next;
      else
        ok = false;
    };
    for (const std::string& e : req.connect_to) {
      if (has_crlf(e)) ok = false;
      append(e);
    }
    for (const std::string& e : req.resolve) {
      const std::string entry = resolve_as_connect_to(e);
      if (entry.empty()) {
        curl_slist_free_all(list);
        return refuse("a request::resolve entry is not HOST:PORT:ADDRESS");
      }
      append(entry);
    }
    connect_to_list_.reset(list);
    if (!ok) return refuse("a request::connect_to entry holds CR or LF, or memory ran out");
    number(CURLOPT_CONNECT_TO, list);
  }
  string(CURLOPT_INTERFACE, req.local_address);
  if (req.ip_resolve != ip_version::any)
    number(CURLOPT_IPRESOLVE, req.ip_resolve == ip_version::v4 ? static_cast<long>(CURL_IPRESOLVE_V4)
                                                               : static_cast<long>(CURL_IPRESOLVE_V6));
  if (req.tcp_keepalive.count() > 0) {
    number(CURLOPT_TCP_KEEPALIVE, 1L);
    number(CURLOPT_TCP_KEEPIDLE, static_cast<long>(req.tcp_keepalive.count()));
    number(CURLOPT_TCP_KEEPINTVL, static_cast<long>(req.tcp_keepalive.count()));
  }
  if (req.low_speed_time.count() > 0) {
    number(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(req.low_speed_limit));
    number(CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.low_speed_time.count()));
  }
  if (req.max_send_speed) number(CURLOPT_MAX_SEND_SPEED_LARGE, static_cast<curl_off_t>(req.max_send_speed));
  if (req.max_recv_speed) number(CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(req.max_recv_speed));

  for (const curl_option& o : req.curl_options) {
    used = true;
    const curl_easyoption* info = curl_easy_option_by_id(static_cast<CURLoption>(o.option));
    if (!info) return refuse("request::curl_options: an option libcurl does not know");
    if (owned_by_the_engine(o.option))
      return refuse("request::curl_options: an option boost_curl sets itself (use the request's members)");
    const auto* integer = std::get_if<long long>(&o.value);
    const auto* text = std::get_if<std::string>(&o.value);
    CURLcode rc = CURLE_BAD_FUNCTION_ARGUMENT;
    if ((info->type == CURLOT_LONG || info->type == CURLOT_VALUES) && integer)
      rc = curl_easy_setopt(easy_.get(), info->id, static_cast<long>(*integer));
    else if (info->type == CURLOT_OFF_T && integer)
      rc = curl_easy_setopt(easy_.get(), info->id, static_cast<curl_off_t>(*integer));
    else if (info->type == CURLOT_STRING && text && !has_crlf(*text))
      rc = curl_easy_setopt(easy_.get(), info->id, text->c_str());
    else
      return refuse("request::curl_options: the value does not fit the option (an integer for long and "
                    "curl_off_t options, a string for strings; others cannot be set by value)");
    if (rc != CURLE_OK) {
      response_.error_message = std::string("libcurl refused CURLOPT_") + info->name + ": " + curl_easy_strerror(rc);
      uncommon_used_ = true;
      return make_curl_error(rc);
    }
  }
  if (used) uncommon_used_ = true;
  return {};
}

// The body limit is enforced here, not with CURLOPT_MAXFILESIZE: libcurl checks that against
// the announced Content-Length even for responses that have no body (HEAD, 204, 304).
std::size_t transfer::on_write(char* data, std::size_t size, std::size_t count, void* self) noexcept {
  auto* t = static_cast<transfer*>(self);
  const std::size_t n = size * count;
  if (t->sink_) {
    // A redirect's own body is dropped: the sink sees the final response only.
    if (!t->head_sent_ && !t->send_head()) return n;
    const std::size_t taken = t->sink_->write(data, n);
    t->notify_driver(t->sink_);
    return taken;
  }
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
      // A new response begins (an interim 1xx, an authentication challenge answered in the
      // same exchange, a proxy's CONNECT reply): only the final one's fields are kept.
      if (block.capacity() < 512) block.reserve(512);
      block.assign(data, n);
    } else {
      block.append(data, n);
    }
  } catch (...) {
    return 0;  // out of memory: abort the transfer rather than lose a field silently
  }
  // The blank line ending a header block: a streamed operation's head goes now, unless this
  // response is interim, a redirect to follow, or an authentication challenge libcurl may
  // answer (its body, if any, is then skipped by libcurl; a final 401 gets its head with its
  // first body byte, or at the end).
  if (t->sink_ && !t->head_sent_ && (n == 2 || n == 1) && (data[0] == '\r' || data[0] == '\n')) {
    long code = 0;
    curl_easy_getinfo(t->easy_.get(), CURLINFO_RESPONSE_CODE, &code);
    const bool challenged = (code == 401 && t->request_->auth) || code == 407;
    if (code >= 200 && !challenged) t->send_head();
  }
  return n;
}

// Decided from the header block: libcurl works out CURLINFO_REDIRECT_URL only once the hop is
// done, and the sink must know at the hop's first body byte.
bool transfer::hop_is_followed_redirect() {
  const request& req = *request_;
  if (!req.follow_redirects) return false;
  long code = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) return false;
  if (req.max_redirects >= 0 && history_.size() >= static_cast<std::size_t>(req.max_redirects)) return false;
  const std::string_view block = header_block_;
  for (std::size_t at = block.find('\n'); at != std::string_view::npos; at = block.find('\n', at + 1)) {
    const std::string_view line = block.substr(at + 1);
    if (line.size() > 9 && boost::beast::iequals(line.substr(0, 9), "location:")) {
      const std::size_t value = line.find_first_not_of(" \t", 9);
      return value != std::string_view::npos && line[value] != '\r' && line[value] != '\n';
    }
  }
  return false;
}

bool transfer::send_head() noexcept {
  if (hop_is_followed_redirect()) return false;
  head_sent_ = true;
  response head;
  try {
    read_info(head);
    if (head.effective_url.empty()) head.effective_url = request_->url;
    head.headers = response_headers(std::string(header_block_));
  } catch (...) {
    // Out of memory (in a libcurl callback): the head goes with what it has, not never.
  }
  head.redirect_count = static_cast<long>(history_.size());
  sink_->head(head);
  notify_driver(sink_);
  return true;
}

void transfer::notify_driver(const std::shared_ptr<body_sink>& sink) noexcept {
  if (sink->take_notice()) static_cast<multi_driver*>(hooks_.owner)->notice(sink);
}

bool transfer::request_started() const noexcept {
  if (sent_earlier_hop_) return true;
  curl_off_t pretransfer = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  return pretransfer != 0;
}

error_code transfer::finish(CURLcode result) {
  response& r = response_;
  read_info(r);
  if (progress_) {
    curl_off_t down = 0, down_total = -1, up = 0, up_total = -1;
    curl_easy_getinfo(easy_.get(), CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(easy_.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &down_total);
    curl_easy_getinfo(easy_.get(), CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(easy_.get(), CURLINFO_CONTENT_LENGTH_UPLOAD_T, &up_total);
    auto figure = [](curl_off_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : std::uint64_t(0); };
    progress_->update({figure(down), figure(down_total), figure(up), figure(up_total)}, true);
  }
  r.headers = response_headers(std::move(header_block_));  // reset_for_hop() clears it for the next one

  if (result == CURLE_OK) return {};
  r.error_message = error_buffer_[0] ? error_buffer_ : curl_easy_strerror(result);
  if (result == CURLE_WRITE_ERROR && sink_) {
    if (const error_code why = sink_->failure()) {
      r.error_message = why.message();
      return why;
    }
  }
  if (result == CURLE_WRITE_ERROR && body_limit_hit_) {
    r.error_message = "response body exceeds max_body_size";
    return error::body_too_large;
  }
  // libcurl reports a socket it could not create as "Couldn't connect to server", which reads
  // as a refused or unreachable server: say what it was (EMFILE compares equal to
  // errc::too_many_files_open).
  if (result == CURLE_COULDNT_CONNECT && socket_errno != 0) {
    const error_code why(socket_errno, boost::system::system_category());
    r.error_message = "could not create a socket: " + why.message() + " (" + r.error_message + ")";
    return why;
  }
  return make_curl_error(result);
}

void transfer::read_info(response& r) {
  CURL* h = easy_.get();
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  r.status = static_cast<http::status>(code);
  char* url = nullptr;
  // Left empty when it is the request's URL (most often): complete() moves that in.
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url && request_->url != url)
    r.effective_url = url;
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  r.version = beast_version(version);
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
}

bool transfer::follow_redirect(error_code& ec) {
  request& req = *request_;
  if (!req.follow_redirects) return false;
  const unsigned code = response_.status_code();
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) return false;
  char* location = nullptr;
  if (curl_easy_getinfo(easy_.get(), CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location) return false;
  if (req.max_redirects >= 0 && history_.size() >= static_cast<std::size_t>(req.max_redirects)) {
    ec = make_curl_error(CURLE_TOO_MANY_REDIRECTS);
    response_.error_message = "more than request::max_redirects (" + std::to_string(req.max_redirects) + ") redirects";
    return false;
  }
  std::chrono::milliseconds left{0};
  if (deadline_ != std::chrono::steady_clock::time_point{}) {
    left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ec = make_curl_error(CURLE_OPERATION_TIMEDOUT);
      response_.error_message = "request::timeout expired while following redirects";
      return false;
    }
  }
  std::string next(location);

  // This hop becomes history.
  if (first_origin_.empty()) first_origin_ = origin_of(req.url);
  if (keep_hops_) hop_requests_.push_back(req);
  if (response_.effective_url.empty()) response_.effective_url = req.url;
  history_.push_back(std::move(response_));
  sent_earlier_hop_ = true;

  // 303 turns any method but HEAD into GET; 301 and 302 turn POST into GET (what browsers,
  // libcurl and RFC 9110 allow); the body and the fields describing it go with it. 307 and 308
  // keep method and body.
  const bool post = req.method == http::verb::post && req.custom_method.empty();
  if ((code == 303 && req.method != http::verb::head) || ((code == 301 || code == 302) && post)) {
    req.method = http::verb::get;
    req.custom_method.clear();
    req.body.clear();
    req.multipart.reset();
    for (auto it = req.headers.begin(); it != req.headers.end();)
      it = describes_body(it->name()) ? req.headers.erase(it) : std::next(it);
  }
  // Credentials and cookies given for the first origin never go to another one, nor does any
  // field that may carry one: only content negotiation and caching fields are kept.
  if (!credentials_dropped_ && origin_of(next) != first_origin_) {
    req.auth.reset();
    req.cookies.clear();
    for (auto it = req.headers.begin(); it != req.headers.end();)
      it = kept_across_origins(*it) ? std::next(it) : req.headers.erase(it);
    credentials_dropped_ = true;
  }
  req.url = std::move(next);
  if (left.count() > 0) req.timeout = std::max(left, std::chrono::milliseconds(1));

  ec = reset_for_hop();
  if (!ec) ec = apply();
  if (ec) {
    needs_reset_ = true;
    return false;
  }
  return true;
}

void transfer::complete(error_code& ec) {
  response& r = response_;
  if (r.effective_url.empty()) r.effective_url = keep_hops_ ? request_->url : std::move(request_->url);
  if (!ec && request_->fail_on_error_status && r.status_code() >= 400 && r.status_code() <= 599) {
    ec = make_http_status_error(r.status_code());
    r.error_message = ec.message();
  }
  r.redirect_count = static_cast<long>(history_.size());
  if (!history_.empty()) {
    for (const response& hop : history_) r.time.redirect += hop.time.total;
    r.history = std::move(history_);
    history_.clear();
  }
  if (keep_hops_) hop_requests_.push_back(std::move(*request_));
  release_request();
}

// The request's fields, body and MIME parts are no longer needed: freed now, not at reuse.
// (libcurl is told of new ones, or none, before its next exchange.)
void transfer::release_request() noexcept {
  sink_.reset();
  body_file_.reset();
  progress_.reset();
  header_list_.reset();
  connect_to_list_.reset();
  mime_.reset();
  request_.reset();
}

}  // namespace boost_curl::detail
