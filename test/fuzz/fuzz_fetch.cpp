// libFuzzer target, end to end: a loopback server answers every request with the fuzzer's
// bytes (status line, fields, chunking, body: whatever they are) and closes. async_fetch must
// complete exactly once, with a response or an error, and leave nothing behind (ASan checks
// leaks at exit; the service must have no active transfer).
#include <boost_curl.hpp>

#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

// Answers each connection with `answer` (read under the mutex), then closes it.
struct raw_server {
  int listener = -1;
  unsigned short port = 0;
  std::mutex mutex;
  std::string answer;

  raw_server() {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(listener, 64) != 0) std::abort();
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    std::thread([this] { serve(); }).detach();
  }

  void serve() {
    for (;;) {
      const int c = ::accept(listener, nullptr, nullptr);
      if (c < 0) continue;
      // The request: read until the blank line (bounded).
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      std::string out;
      {
        std::lock_guard lock(mutex);
        out = answer;
      }
      for (std::size_t at = 0; at < out.size();) {
        const ssize_t n = ::send(c, out.data() + at, out.size() - at, MSG_NOSIGNAL);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
      }
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static raw_server server;
  {
    std::lock_guard lock(server.mutex);
    server.answer.assign(reinterpret_cast<const char*>(data), size);
  }
  boost::asio::io_context ctx;
  boost_curl::request req("http://127.0.0.1:" + std::to_string(server.port) + "/");
  req.headers.set(boost::beast::http::field::connection, "close");
  req.timeout = std::chrono::seconds(2);
  req.max_body_size = 1 << 20;
  req.decompress = size > 0 && (data[0] & 1);
  int calls = 0;
  boost_curl::async_fetch(ctx, std::move(req), [&](boost_curl::error_code ec, boost_curl::response r) {
    ++calls;
    if (ec && r.error_message.empty()) std::abort();  // every error explains itself
    (void)r.headers.count("x");                      // and the fields parse
  });
  ctx.run_for(std::chrono::seconds(5));
  if (calls != 1) std::abort();
  if (boost::asio::use_service<boost_curl::curl_service>(ctx).active_transfers() != 0) std::abort();
  return 0;
}
