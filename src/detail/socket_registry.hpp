#ifndef BOOST_CURL_SRC_DETAIL_SOCKET_REGISTRY_HPP
#define BOOST_CURL_SRC_DETAIL_SOCKET_REGISTRY_HPP

// The descriptors one libcurl multi handle watches, and the epoll set that watches them.
//
// libcurl's descriptors are never registered with the io_context's reactor. They go into an
// epoll instance of our own, and only that instance's descriptor is registered with the
// reactor (by the multi_driver, which waits on it and asks poll() what is ready). Why: libcurl
// 7.88 closes some sockets without calling CLOSESOCKETFUNCTION (a connect that timed out, a
// transfer removed while connecting, the loser of a happy-eyeballs race). Their numbers are
// free at once and may belong to any file of the process a moment later. A reactor
// registration under such a number cannot be removed without an epoll_ctl(DEL) or a close()
// on that number, which would hit the new file. In our own set the kernel removes a closed
// file by itself, and every epoll_ctl we make names a number libcurl has just reported (or
// fails harmlessly with ENOENT): nothing we do can touch another file.
//
// What is kept per number: whether we opened the socket (OPENSOCKETFUNCTION) and so count it
// as an open connection, the file's identity (device, inode) to tell a silently closed and
// reused number apart, what libcurl wants, and what the epoll set holds. Sockets libcurl told
// us nothing more about stay in the set while idle in libcurl's connection cache (a keep-alive
// request then costs no epoll_ctl); one that turns ready while unwanted (the server closed it)
// leaves the set.
//
// Not synchronised: the multi_driver calls it with its mutex held.

#include "engine_executor.hpp"

#include <boost/asio/posix/basic_stream_descriptor.hpp>
#include <boost/container/small_vector.hpp>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace boost_curl::detail {

// The sockets one transfer opened (a connect may try several addresses, two at once).
using opened_sockets = boost::container::small_vector<int, 2>;

class socket_registry {
 public:
  using descriptor = boost::asio::posix::basic_stream_descriptor<engine_executor>;

  // Creates the epoll set (with a wake-up descriptor in it) and registers it with
  // `executor`'s reactor. Throws boost::system::system_error if the kernel refuses.
  explicit socket_registry(const engine_executor& executor);
  ~socket_registry();
  socket_registry(const socket_registry&) = delete;
  socket_registry& operator=(const socket_registry&) = delete;

  // The epoll set as an Asio descriptor: wait_read completes when poll() has something.
  descriptor& ready_signal() noexcept { return *epoll_; }

  // Makes the set ready (poll() then says `woken`): the engine's way of being called back
  // soon, on whichever thread runs the context, without posting through any executor.
  void wake() noexcept;
  // Closes the epoll set (at shutdown: before the reactor goes). Nothing else may be called
  // after it but the destructor.
  void close_set() noexcept;

  // OPENSOCKETFUNCTION: creates a socket we own, for the operation `operation_id`. Returns
  // the descriptor, or -1 with errno set.
  int open(int family, int type, int protocol, std::uint64_t operation_id) noexcept;
  // CLOSESOCKETFUNCTION: closes it.
  int close(int fd) noexcept;

  // CURLMOPT_SOCKETFUNCTION with CURL_POLL_IN / OUT / INOUT. False if the descriptor cannot be
  // watched (not pollable, or not open): it is then reported by take_unwatchable().
  bool want(int fd, int what) noexcept;
  // CURLMOPT_SOCKETFUNCTION with CURL_POLL_REMOVE.
  void unwant(int fd) noexcept;

  // After the operation `operation_id` left the multi handle: the sockets it opened that
  // libcurl closed without telling us are forgotten (and the others are known good).
  void settle(const opened_sockets& fds, std::uint64_t operation_id) noexcept;

  // Ready descriptors, with the CURL_CSELECT_* mask to give curl_multi_socket_action. Asks
  // the kernel once (epoll_wait, no timeout); `woken` says whether wake() was called since.
  struct ready {
    int fd;
    int mask;
    std::uint32_t generation;  // still_current() tells whether the entry is still this one
  };
  std::size_t poll(ready* out, std::size_t capacity, bool& woken);
  bool still_current(const ready& r) const noexcept;

  // Descriptors libcurl wants that epoll cannot watch: reported as ready every time (as
  // poll(2) does for a regular file), or as in error if they are not open.
  std::size_t take_unwatchable(ready* out, std::size_t capacity) noexcept;
  bool has_unwatchable() const noexcept { return !unwatchable_.empty(); }

  // After curl_multi_cleanup: closes the sockets we opened that are still the files we opened
  // (libcurl should have closed them all), forgets everything else without touching it.
  void clear() noexcept;

  std::size_t owned() const noexcept { return owned_; }
  std::size_t opened_total() const noexcept { return opened_total_; }
  std::size_t foreign_total() const noexcept { return foreign_total_; }

 private:
  using identity = std::pair<dev_t, ino_t>;
  struct entry {
    bool used = false;
    bool owned = false;      // opened through open(): ours to count (and to close at the end)
    bool confirmed = false;  // owned and known to be libcurl's still after its opener left
    bool reported = false;   // libcurl has reported it at least once
    int wanted = 0;          // CURL_POLL_IN / CURL_POLL_OUT bits
    std::uint32_t registered = 0;  // events the epoll set holds for it (0: not in the set)
    std::uint32_t generation = 0;
    std::uint64_t opened_for = 0;
    identity file{};
  };

  static identity identity_of(int fd) noexcept;
  entry* slot(int fd) noexcept;  // grows the table; null if out of memory
  void reset(entry& e) noexcept;  // forgets e (the file behind its number is gone or not ours)
  void adopt(entry& e) noexcept;  // e's number now holds a file we did not open
  // Makes the set hold `events` for fd (none: not in the set). False if epoll refuses.
  bool watch(entry& e, int fd, std::uint32_t events) noexcept;
  void rebuild() noexcept;

  int set() noexcept { return epoll_->native_handle(); }
  bool add_wake_descriptor(int set) noexcept;

  engine_executor executor_;
  std::optional<descriptor> epoll_;
  int wake_fd_ = -1;  // an eventfd, member of the set under generation 0 (no entry has it)
  bool wake_pending_ = false;
  std::vector<entry> entries_;  // indexed by descriptor number
  std::vector<int> unwatchable_;
  std::uint32_t next_generation_ = 0;
  std::size_t owned_ = 0;
  std::size_t opened_total_ = 0;
  std::size_t foreign_total_ = 0;
};

}  // namespace boost_curl::detail

#endif
