#include "loopback_origin.hpp"

#include "body_inspectors.hpp"
#include "gzip_zeros.hpp"
#include "http_auth.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h> // mkstemps
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace boost_curl::tools {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<tcp::socket>;
using boost::system::error_code;

constexpr std::size_t piece_size = 64 * 1024;            // largest single body write
constexpr std::uint64_t max_body = std::uint64_t{1} << 30; // /bytes, /chunked, /slow-body
constexpr std::uint64_t huge_body = std::uint64_t{4} << 30; // where /huge gives up
constexpr std::size_t echo_limit = 64 * 1024 * 1024;
constexpr std::uint64_t max_delay_ms = 24 * 60 * 60 * 1000;
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

// `n` bytes (at most piece_size) of the body pattern starting at body offset `offset`.
// The backing array has 16 spare bytes so every offset can start at its pattern phase.
asio::const_buffer pattern(std::uint64_t offset, std::size_t n) {
  static const auto bytes = [] {
    std::array<char, piece_size + 16> a{};
    for (std::size_t i = 0; i < a.size(); ++i)
      a[i] = body_pattern[i % 16];
    return a;
  }();
  return asio::buffer(bytes.data() + offset % 16, std::min(n, piece_size));
}

std::string_view sv(beast::string_view s) noexcept { return {s.data(), s.size()}; }

std::optional<std::uint64_t>
parse_number(std::string_view s, std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || n > max)
    return std::nullopt;
  return n;
}

std::optional<std::string_view> strip_prefix(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  return s.substr(prefix.size());
}

std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    if (auto value = strip_prefix(pair, name); value && !value->empty() && value->front() == '=')
      return value->substr(1);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return std::nullopt;
}

// Splits a request target into path and query (without the '?').
// Also accepts the absolute form a client sends to a proxy ("http://host/path"), so the
// origin can stand in for a forward proxy in tests: routing uses the path.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  if (target.substr(0, 7) == "http://") {
    const auto slash = target.find('/', 7);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

http::response<http::string_body> text(unsigned code, std::string body) {
  http::response<http::string_body> res;
  res.result(code);
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

enum class after_body { next_request, close, idle };

// How a streamed response body is produced.
struct body_plan {
  std::uint64_t total = 0;           // pattern bytes to send
  std::size_t piece = piece_size;    // bytes per write (one chunk each when chunked)
  std::chrono::milliseconds gap{0};  // pause between pieces
  bool chunked = false;
  after_body after = after_body::next_request;
  std::uint64_t gzip_zero_mib = 0;   // instead of pattern bytes: gzip_zeros of this many MiB
  std::uint64_t offset = 0;          // the first byte's position in the pattern (a Range)
  bool events = false;               // instead of pattern bytes: `total` events "data: event K"
};

// Owning pointers for OpenSSL objects.
template <auto free_fn>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    free_fn(p);
  }
};
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free>>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;

// Throws the oldest queued OpenSSL error unless `ok`.
void check(bool ok, const char* what) {
  if (!ok)
    throw boost::system::system_error(
        error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category()), what);
}

// A self-signed CA certificate for `key` naming localhost and the loopback addresses (or
// only wrong.example), valid from an hour ago (tolerating clock skew) for one day.
x509_ptr make_certificate(EVP_PKEY* key, bool wrong_name) {
  x509_ptr cert{X509_new()};
  check(cert != nullptr, "X509_new");
  std::uint64_t serial = 0;
  check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) == 1,
        "RAND_bytes");
  serial = (serial >> 1) | 1; // RFC 5280: positive, at most 20 octets
  auto* cn = reinterpret_cast<const unsigned char*>(wrong_name ? "wrong.example" : "localhost");
  auto* name = X509_get_subject_name(cert.get());
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 23 * 60 * 60) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1,
        "filling in the certificate");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // CA:TRUE lets the certificate be its own trust anchor (CURLOPT_CAINFO). The subject key
  // identifier comes before the authority key identifier, which copies it.
  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
      {NID_subject_alt_name,
       wrong_name ? "DNS:wrong.example" : "DNS:localhost,IP:127.0.0.1,IP:::1"},
  };
  for (auto [nid, value] : extensions) {
    extension_ptr extension{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
    check(extension && X509_add_ext(cert.get(), extension.get(), -1) == 1, "X509_add_ext");
  }
  check(X509_sign(cert.get(), key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string to_pem(X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Writes `content` to a new private file in the temp directory and returns its path.
std::string write_temp_file(std::string_view content) {
  auto path = (std::filesystem::temp_directory_path() / "boost_curl_origin_XXXXXX.pem").string();
  int fd = ::mkstemps(path.data(), 4);
  if (fd < 0)
    throw boost::system::system_error(error_code(errno, boost::system::system_category()),
                                      "creating " + path);
  auto n = ::write(fd, content.data(), content.size());
  // A short write to a regular file only happens when the disk or the quota is full.
  int err = n < 0 ? errno : static_cast<std::size_t>(n) < content.size() ? ENOSPC : 0;
  if (::close(fd) != 0 && err == 0)
    err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    throw boost::system::system_error(error_code(err, boost::system::system_category()),
                                      "writing " + path);
  }
  return path;
}

// The server's TLS context with a fresh key and certificate, and that certificate as a PEM
// file for clients to trust, removed again on destruction.
class tls_identity {
public:
  explicit tls_identity(bool wrong_name) {
    key_ptr key{EVP_EC_gen("P-256")};
    check(key != nullptr, "EVP_EC_gen");
    auto cert = make_certificate(key.get(), wrong_name);
    auto* native = context.native_handle();
    check(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) == 1 &&
              SSL_CTX_use_certificate(native, cert.get()) == 1 &&
              SSL_CTX_use_PrivateKey(native, key.get()) == 1,
          "configuring the TLS context");
    // Last: the destructor only runs if construction completes, so nothing may throw after.
    ca_file = write_temp_file(to_pem(cert.get()));
  }
  ~tls_identity() { ::unlink(ca_file.c_str()); }

  tls_identity(const tls_identity&) = delete;
  tls_identity& operator=(const tls_identity&) = delete;

  asio::ssl::context context{asio::ssl::context::tls_server};
  std::string ca_file;
};

} // namespace

namespace detail {

// What stop() needs from a session, whatever its stream type.
class session_base {
public:
  virtual void close() = 0;

protected:
  ~session_base() = default;
};

// Owns the io_context, the acceptor, the worker threads and the registry of live sessions.
class origin_server {
public:
  explicit origin_server(const loopback_origin::options& opts);

  void stop();
  void attach(session_base& s);
  void detach(session_base& s) noexcept;

  const asio::ip::address address;
  unsigned short port = 0;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> served{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> max_open{0};
  std::atomic<std::uint64_t> body_bytes{0};
  std::optional<tls_identity> tls; // set when serving HTTPS; outlives the sessions using it
  const std::chrono::milliseconds idle_timeout;

private:
  void accept();

  // Declared before the acceptor and sessions so it outlives the I/O objects bound to it.
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  std::mutex sessions_mutex_;
  std::unordered_set<session_base*> sessions_;
};

// One accepted connection; Stream is tcp::socket or tls_stream. Every pending operation holds
// a shared_ptr to it, so it lives exactly as long as it has work; all its handlers run on the
// socket's strand.
template <class Stream>
class origin_session final : public session_base,
                             public std::enable_shared_from_this<origin_session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

public:
  template <class... StreamArgs>
  explicit origin_session(origin_server& server, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...), timer_(stream_.get_executor()),
        server_(server) {
    server_.attach(*this);
  }
  ~origin_session() {
    // Closed before the count drops, so that a caller who waits for open_connections() == 0
    // and then counts the process's descriptors does not count this one.
    error_code ec;
    beast::get_lowest_layer(stream_).close(ec);
    server_.detach(*this);
  }

  origin_session(const origin_session&) = delete;
  origin_session& operator=(const origin_session&) = delete;

  void start() {
    error_code ec;
    // Header and body go out in separate writes; Nagle would stall the second one.
    beast::get_lowest_layer(stream_).set_option(tcp::no_delay(true), ec);
    if constexpr (is_tls)
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (!ec)
                                  self->read_request();
                              });
    else
      read_request();
  }

  void close() override {
    auto& socket = beast::get_lowest_layer(stream_);
    error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    timer_.cancel();
  }

private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(boost::none); // bodies are streamed through scratch_, never stored whole
    if (server_.idle_timeout.count() > 0) {
      timer_.expires_after(server_.idle_timeout);
      timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (!ec)
          self->close();
      });
    }
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (!ec)
                                self->on_header();
                            });
  }

  void on_header() {
    ++server_.served;
    timer_.cancel(); // the idle timeout, if any
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;
    const auto path = split_target(sv(req.target())).first;
    collect_body_ = path == "/echo" || path == "/echo-body";
    body_.clear();
    body_overflow_ = false;
    digest_.reset();
    multipart_.reset();
    if (path == "/hash")
      digest_.emplace();
    else if (path == "/multipart")
      multipart_.emplace(sv(req[http::field::content_type]));
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue"))
      return asio::async_write(stream_, asio::buffer(continue_line),
                               [self = this->shared_from_this()](error_code ec, std::size_t) {
                                 if (!ec)
                                   self->read_body();
                               });
    read_body();
  }

  void read_body() {
    if (parser_->is_done())
      return route();
    auto& body = parser_->get().body();
    body.data = scratch_.data();
    body.size = scratch_.size();
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) {
                       // need_buffer only means scratch_ is full.
                       if (!ec || ec == http::error::need_buffer)
                         self->on_body();
                     });
  }

  void on_body() {
    auto n = scratch_.size() - parser_->get().body().size;
    if (digest_)
      digest_->update(std::string_view(scratch_.data(), n));
    if (multipart_)
      multipart_->update(std::string_view(scratch_.data(), n));
    if (collect_body_) {
      if (body_.size() + n > echo_limit)
        body_overflow_ = true;
      else
        body_.append(scratch_.data(), n);
    }
    read_body();
  }

  void route() {
    auto& req = parser_->get();
    auto [path, query] = split_target(sv(req.target()));

    if (path == "/echo") {
      if (body_overflow_)
        return send(text(413, "payload too large"));
      std::string dump{sv(req.method_string())};
      dump += ' ';
      dump += sv(req.target());
      dump += '\n';
      for (const auto& field : req) {
        dump += sv(field.name_string());
        dump += ": ";
        dump += sv(field.value());
        dump += '\n';
      }
      dump += '\n';
      dump += body_;
      return send(text(200, std::move(dump)));
    }
    if (path == "/echo-body") {
      if (body_overflow_)
        return send(text(413, "payload too large"));
      auto res = text(200, body_);
      const auto type = sv(req[http::field::content_type]);
      if (!type.empty())
        res.set(http::field::content_type, type);
      return send(std::move(res));
    }
    if (path == "/hash") {
      const auto size = digest_->size();
      return send(text(200, "size=" + std::to_string(size) + " sha256=" + digest_->hex()));
    }
    if (path == "/multipart") {
      if (!multipart_->valid())
        return send(text(400, "not multipart/form-data"));
      return send(text(200, multipart_->report()));
    }
    if (auto rest = strip_prefix(path, "/auth/"))
      return authenticate(*rest, sv(req[http::field::authorization]), sv(req.method_string()));
    if (path == "/hang")
      return hold_open();
    if (path == "/close-immediately")
      return hang_up();
    if (path == "/close-mid-body") {
      body_plan plan;
      plan.total = 1000;
      plan.after = after_body::close;
      return stream(plan, 100000);
    }
    if (path == "/lie-length") {
      body_plan plan;
      plan.total = 10;
      plan.after = after_body::idle;
      return stream(plan, 100);
    }
    if (path == "/huge") {
      body_plan plan;
      plan.total = huge_body;
      plan.chunked = true;
      return stream(plan);
    }
    if (auto rest = strip_prefix(path, "/gzip-bomb/")) {
      auto mib = parse_number(*rest, std::uint64_t{1} << 20);
      if (!mib)
        return bad_request();
      http::response<http::empty_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/octet-stream");
      res.set(http::field::content_encoding, "gzip");
      res.chunked(true);
      res.keep_alive(keep_alive_);
      body_plan plan;
      plan.gzip_zero_mib = *mib;
      plan.total = *mib + 2; // pieces: the header, one per MiB, the trailer
      plan.chunked = true;
      return write_header(std::move(res.base()), plan);
    }
    if (auto rest = strip_prefix(path, "/bytes/")) {
      auto n = parse_number(*rest, max_body);
      if (!n)
        return bad_request();
      body_plan plan;
      plan.total = *n;
      // "Range: bytes=K-" (the only form a resumed download sends): 206 from byte K.
      const auto range = sv(req[http::field::range]);
      if (auto from = strip_prefix(range, "bytes=")) {
        const auto dash = from->find('-');
        auto first = dash == std::string_view::npos ? std::nullopt : parse_number(from->substr(0, dash), max_body);
        if (first && dash + 1 == from->size()) {
          if (*first >= *n) {
            http::response<http::string_body> res{http::status::range_not_satisfiable, 11};
            res.set(http::field::content_range, "bytes */" + std::to_string(*n));
            return send(std::move(res));
          }
          plan.offset = *first;
          plan.total = *n - *first;
          http::response<http::empty_body> res{http::status::partial_content, 11};
          res.set(http::field::content_type, "application/octet-stream");
          res.set(http::field::content_range,
                  "bytes " + std::to_string(*first) + "-" + std::to_string(*n - 1) + "/" + std::to_string(*n));
          res.content_length(plan.total);
          res.keep_alive(keep_alive_);
          return write_header(std::move(res.base()), plan);
        }
      }
      return stream(plan);
    }
    if (auto rest = strip_prefix(path, "/events/")) {
      auto slash = rest->find('/');
      auto n = parse_number(rest->substr(0, slash), 1000000);
      auto ms = slash == std::string_view::npos ? std::nullopt : parse_number(rest->substr(slash + 1), max_delay_ms);
      if (!n || !ms)
        return bad_request();
      http::response<http::empty_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "text/event-stream");
      res.set(http::field::cache_control, "no-cache");
      res.chunked(true);
      res.keep_alive(keep_alive_);
      body_plan plan;
      plan.total = *n;  // counted in events
      plan.events = true;
      plan.chunked = true;
      plan.gap = std::chrono::milliseconds(*ms);
      return write_header(std::move(res.base()), plan);
    }
    if (auto rest = strip_prefix(path, "/chunked/")) {
      auto n = parse_number(*rest, max_body);
      if (!n)
        return bad_request();
      body_plan plan;
      plan.total = *n;
      plan.piece = 1000;
      plan.chunked = true;
      return stream(plan);
    }
    if (auto rest = strip_prefix(path, "/slow-body/")) {
      auto slash = rest->find('/');
      auto n = parse_number(rest->substr(0, slash), max_body / 1000);
      auto ms = slash == std::string_view::npos
                    ? std::nullopt
                    : parse_number(rest->substr(slash + 1), max_delay_ms);
      if (!n || !ms)
        return bad_request();
      body_plan plan;
      plan.total = *n * 1000;
      plan.piece = 1000;
      plan.gap = std::chrono::milliseconds(*ms);
      return stream(plan);
    }
    if (auto rest = strip_prefix(path, "/status/")) {
      auto code = parse_number(*rest, 999);
      if (!code || *code < 200) // 1xx would need interim-response handling
        return bad_request();
      auto res = text(static_cast<unsigned>(*code), "status " + std::to_string(*code));
      if (*code == 204 || *code == 304) // these must not carry a body
        res.body().clear();
      return send(std::move(res));
    }
    if (auto rest = strip_prefix(path, "/delay/")) {
      auto ms = parse_number(*rest, max_delay_ms);
      if (!ms)
        return bad_request();
      timer_.expires_after(std::chrono::milliseconds(*ms));
      return timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (!ec)
          self->send(text(200, "delayed"));
      });
    }
    if (auto rest = strip_prefix(path, "/redirect/")) {
      auto n = parse_number(*rest);
      if (!n)
        return bad_request();
      if (*n == 0)
        return send(text(200, "done"));
      return redirect("/redirect/" + std::to_string(*n - 1));
    }
    if (path == "/redirect-loop")
      return redirect("/redirect-loop");
    if (path == "/redirect-to") {
      auto encoded = query_param(query, "url");
      auto location = encoded ? percent_decode(*encoded) : std::nullopt;
      if (!location || location->empty())
        return bad_request();
      auto status = query_param(query, "status");
      auto code = status ? parse_number(*status, 399) : std::optional<std::uint64_t>(302);
      if (!code || *code < 300)
        return bad_request();
      return redirect(std::move(*location), static_cast<unsigned>(*code));
    }
    if (path == "/headers") {
      auto res = text(200, "headers");
      res.insert("X-Multi", "one");
      res.insert("X-Multi", "two");
      res.insert(http::field::set_cookie, "a=1");
      res.insert(http::field::set_cookie, "b=2");
      res.insert("X-Empty", "");
      return send(std::move(res));
    }
    if (path == "/cookie/set") {
      if (query.empty())
        return bad_request();
      auto res = text(200, "cookie set");
      res.set(http::field::set_cookie, query);
      return send(std::move(res));
    }
    if (path == "/cookie/get")
      return send(text(200, std::string{sv(req[http::field::cookie])}));
    if (auto rest = strip_prefix(path, "/no-body/")) {
      auto slash = rest->find('/');
      auto code = parse_number(rest->substr(0, slash), 999);
      auto length = slash == std::string_view::npos ? std::nullopt
                                                     : parse_number(rest->substr(slash + 1));
      if (!code || (*code != 204 && *code != 304) || !length)
        return bad_request();
      http::response<http::empty_body> res{static_cast<http::status>(*code), 11};
      res.set(http::field::content_length, std::to_string(*length));
      res.keep_alive(keep_alive_);
      return write_header(std::move(res.base()), body_plan{});
    }
    send(text(404, "not found"));
  }

  void bad_request() { send(text(400, "bad request")); }

  // /auth/basic/USER/PASS, /auth/digest/USER/PASS, /auth/any/USER/PASS (Digest or Basic),
  // /auth/bearer/TOKEN: 200 "authenticated" with the right credentials, else 401 and a
  // challenge.
  void authenticate(std::string_view rest, std::string_view authorization, std::string_view method) {
    const auto slash = rest.find('/');
    const auto scheme = rest.substr(0, slash);
    const auto args = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    const auto slash2 = args.find('/');
    const auto user = args.substr(0, slash2);
    const auto pass = slash2 == std::string_view::npos ? std::string_view{} : args.substr(slash2 + 1);
    bool ok = false;
    std::vector<std::string> challenges;
    if (scheme == "basic") {
      ok = detail::basic_matches(authorization, user, pass);
      challenges.push_back("Basic realm=\"loopback\"");
    } else if (scheme == "bearer") {
      ok = detail::bearer_matches(authorization, args);
      challenges.push_back("Bearer realm=\"loopback\"");
    } else if (scheme == "digest") {
      ok = detail::digest_matches(authorization, method, user, pass);
      challenges.push_back(detail::digest_challenge());
    } else if (scheme == "any") {
      ok = detail::digest_matches(authorization, method, user, pass) ||
           detail::basic_matches(authorization, user, pass);
      challenges.push_back(detail::digest_challenge());
      challenges.push_back("Basic realm=\"loopback\"");
    } else {
      return send(text(404, "not found"));
    }
    if (ok)
      return send(text(200, "authenticated " + std::string(authorization.substr(0, authorization.find(' ')))));
    auto res = text(401, "unauthorized");
    for (auto& c : challenges)
      res.insert(http::field::www_authenticate, c);
    send(std::move(res));
  }

  void redirect(std::string location, unsigned status = 302) {
    auto res = text(status, "redirect");
    res.set(http::field::location, location);
    send(std::move(res));
  }

  void send(http::response<http::string_body> res) {
    res.version(11);
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    if (head_)
      return write_header(std::move(res.base()), body_plan{});
    plan_ = body_plan{};
    res_ = std::move(res);
    http::async_write(stream_, res_,
                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                        if (!ec)
                          self->finish();
                      });
  }

  // Sends pattern bytes per `plan`; `claimed_length` is the Content-Length to announce when
  // it should differ from what is actually sent.
  void stream(body_plan plan, std::optional<std::uint64_t> claimed_length = std::nullopt) {
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/octet-stream");
    if (plan.chunked)
      res.chunked(true);
    else
      res.content_length(claimed_length.value_or(plan.total));
    res.keep_alive(keep_alive_ && plan.after == after_body::next_request);
    write_header(std::move(res.base()), plan);
  }

  void write_header(http::response_header<> header, body_plan plan) {
    plan_ = plan;
    sent_ = 0;
    header_sr_.reset(); // it refers to the previous header_
    header_.emplace(std::move(header));
    header_sr_.emplace(*header_);
    http::async_write_header(stream_, *header_sr_,
                             [self = this->shared_from_this()](error_code ec, std::size_t) {
                               if (!ec)
                                 self->write_body();
                             });
  }

  void write_body() {
    auto self = this->shared_from_this();
    if (head_ || sent_ == plan_.total) {
      if (head_ || !plan_.chunked)
        return finish();
      return asio::async_write(stream_, http::make_chunk_last(),
                               [self](error_code ec, std::size_t) {
                                 if (!ec)
                                   self->finish();
                               });
    }
    if (plan_.gzip_zero_mib != 0) // counted in pieces, not bytes
      return write_gzip_piece();
    if (plan_.events) { // counted in events, not bytes
      gzip_piece_ = "data: event " + std::to_string(sent_) + "\n\n";
      server_.body_bytes += gzip_piece_.size();
      return asio::async_write(stream_, http::make_chunk(asio::buffer(gzip_piece_)),
                               [self](error_code ec, std::size_t) {
                                 if (!ec)
                                   self->on_piece_written(1);
                               });
    }
    auto piece = pattern(plan_.offset + sent_, static_cast<std::size_t>(
                                    std::min<std::uint64_t>(plan_.piece, plan_.total - sent_)));
    server_.body_bytes += piece.size();
    auto on_written = [self, size = piece.size()](error_code ec, std::size_t) {
      if (!ec)
        self->on_piece_written(size);
    };
    if (plan_.chunked)
      asio::async_write(stream_, http::make_chunk(piece), std::move(on_written));
    else
      asio::async_write(stream_, piece, std::move(on_written));
  }

  void write_gzip_piece() {
    if (sent_ == 0)
      gzip_piece_ = detail::gzip_zeros::header();
    else if (sent_ <= plan_.gzip_zero_mib)
      gzip_piece_ = detail::gzip_zeros::mebibyte();
    else
      gzip_piece_ = detail::gzip_zeros::trailer(plan_.gzip_zero_mib);
    server_.body_bytes += gzip_piece_.size();
    asio::async_write(stream_, http::make_chunk(asio::buffer(gzip_piece_)),
                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                        if (!ec)
                          self->on_piece_written(1);
                      });
  }

  void on_piece_written(std::size_t size) {
    sent_ += size;
    if (plan_.gap.count() == 0 || sent_ == plan_.total)
      return write_body();
    timer_.expires_after(plan_.gap);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec)
        self->write_body();
    });
  }

  void finish() {
    switch (plan_.after) {
    case after_body::next_request:
      if (keep_alive_)
        return read_request();
      break;
    case after_body::close:
      break;
    case after_body::idle:
      return hold_open();
    }
    hang_up(); // after_body::close, or "Connection: close"
  }

  // Ends the stream cleanly; the socket closes when the session is released. Over TLS that
  // takes a close_notify first: a bare TCP close is a truncation, which strict clients (e.g.
  // OpenSSL 3 without SSL_OP_IGNORE_UNEXPECTED_EOF) report as an error.
  void hang_up() {
    if constexpr (is_tls) {
      // Completes once the client closes too (or on stop()); the handler only keeps the
      // session alive until then.
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {});
    } else {
      error_code ec;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  // Keeps the connection open without answering until the peer closes it (or stop()).
  void hold_open() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (!ec)
                                self->hold_open();
                            });
  }

  Stream stream_;
  asio::steady_timer timer_;
  origin_server& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  std::array<char, piece_size> scratch_{}; // request body pieces, discarded reads
  std::string body_;                       // request body kept for /echo
  std::optional<detail::sha256_digest> digest_;          // /hash
  std::optional<detail::multipart_inspector> multipart_; // /multipart
  bool collect_body_ = false;
  bool body_overflow_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  http::response<http::string_body> res_;
  std::optional<http::response<http::empty_body>> header_;
  std::optional<http::response_serializer<http::empty_body>> header_sr_;
  body_plan plan_;
  std::uint64_t sent_ = 0;
  std::string gzip_piece_; // the piece being written, for /gzip-bomb and /events
};

origin_server::origin_server(const loopback_origin::options& opts)
    : address(asio::ip::make_address(opts.address)), idle_timeout(opts.idle_timeout),
      ioc_(std::make_unique<asio::io_context>(static_cast<int>(std::max(1u, opts.threads)))) {
  if (opts.tls)
    tls.emplace(opts.tls_wrong_name);
  tcp::endpoint endpoint{address, opts.port};
  acceptor_.emplace(*ioc_);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  port = acceptor_->local_endpoint().port();
  accept();
  try {
    for (unsigned i = 0; i < std::max(1u, opts.threads); ++i)
      threads_.emplace_back([this] { ioc_->run(); });
  } catch (...) {
    stop();
    throw;
  }
}

void origin_server::accept() {
  // Each connection gets its own strand so sessions can run on several threads at once.
  acceptor_->async_accept(asio::make_strand(*ioc_), [this](error_code ec, tcp::socket socket) {
    if (!ec) {
      ++accepted;
      if (tls)
        std::make_shared<origin_session<tls_stream>>(*this, std::move(socket), tls->context)
            ->start();
      else
        std::make_shared<origin_session<tcp::socket>>(*this, std::move(socket))->start();
    }
    accept();
  });
}

void origin_server::stop() {
  std::lock_guard<std::mutex> lock{stop_mutex_};
  if (!ioc_)
    return;
  // Halting the io_context first means no handler runs concurrently with the closes below,
  // and nothing waits on a client's cooperation.
  ioc_->stop();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
  acceptor_.reset();
  {
    std::lock_guard<std::mutex> sessions_lock{sessions_mutex_};
    for (auto* s : sessions_)
      s->close();
  }
  // The aborted handlers still own the sessions; destroying the io_context releases them.
  ioc_.reset();
}

void origin_server::attach(session_base& s) {
  std::lock_guard<std::mutex> lock{sessions_mutex_};
  sessions_.insert(&s);
  const std::size_t now = ++open;
  if (now > max_open) max_open = now;  // under sessions_mutex_: no lost update
}

void origin_server::detach(session_base& s) noexcept {
  std::lock_guard<std::mutex> lock{sessions_mutex_};
  sessions_.erase(&s);
  --open;
}

} // namespace detail

loopback_origin::loopback_origin() : loopback_origin(options{}) {}

loopback_origin::loopback_origin(options opts)
    : impl_(std::make_unique<detail::origin_server>(opts)) {}

loopback_origin::~loopback_origin() { stop(); }

unsigned short loopback_origin::port() const noexcept { return impl_->port; }

std::string loopback_origin::base_url() const {
  auto address = impl_->address;
  // A wildcard bind is reachable through loopback; the wildcard itself is no destination.
  if (address.is_unspecified())
    address = address.is_v6() ? asio::ip::address{asio::ip::address_v6::loopback()}
                              : asio::ip::address{asio::ip::address_v4::loopback()};
  auto host = address.to_string();
  if (address.is_v6())
    host = "[" + host + "]";
  return (impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(impl_->port);
}

std::string loopback_origin::url(std::string_view path) const {
  return base_url().append(path);
}

bool loopback_origin::tls() const noexcept { return impl_->tls.has_value(); }

std::string loopback_origin::ca_file() const {
  return impl_->tls ? impl_->tls->ca_file : std::string{};
}

std::size_t loopback_origin::connections_accepted() const noexcept { return impl_->accepted; }

std::size_t loopback_origin::requests_served() const noexcept { return impl_->served; }

std::size_t loopback_origin::open_connections() const noexcept { return impl_->open; }

std::size_t loopback_origin::max_open_connections() const noexcept { return impl_->max_open; }
std::uint64_t loopback_origin::body_bytes_sent() const noexcept { return impl_->body_bytes; }

void loopback_origin::stop() { impl_->stop(); }

} // namespace boost_curl::tools
