#include "socket_registry.hpp"

#include <curl/curl.h>

#include <boost/system/system_error.hpp>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>

namespace boost_curl::detail {
namespace {

std::uint64_t tag(int fd, std::uint32_t generation) noexcept {
  return (std::uint64_t(generation) << 32) | std::uint32_t(fd);
}

std::uint32_t epoll_events(int wanted) noexcept {
  return ((wanted & CURL_POLL_IN) ? EPOLLIN : 0u) | ((wanted & CURL_POLL_OUT) ? EPOLLOUT : 0u);
}

#if defined(__SANITIZE_THREAD__)
#define BOOST_CURL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BOOST_CURL_TSAN 1
#endif
#endif

// The registry names descriptor numbers that may have been closed and reused by another
// thread since it last saw them: that is how it notices reuse (fstat identity) and how it
// withdraws a number libcurl may already have closed (a DEL that fails with ENOENT). The
// kernel answers either question atomically. ThreadSanitizer models a descriptor as memory
// and reports such a probe as a race with the other thread's accept() or socket(); under
// TSan the probes go to the kernel directly, past its interceptors, so that it keeps
// reporting the races it is right about.
int probe_fstat(int fd, struct stat* st) noexcept {
#if defined(BOOST_CURL_TSAN) && defined(SYS_fstat)
  return static_cast<int>(::syscall(SYS_fstat, fd, st));
#else
  return ::fstat(fd, st);
#endif
}

int probe_epoll_ctl(int set, int op, int fd, epoll_event* ev) noexcept {
#if defined(BOOST_CURL_TSAN) && defined(SYS_epoll_ctl)
  return static_cast<int>(::syscall(SYS_epoll_ctl, set, op, fd, ev));
#else
  return ::epoll_ctl(set, op, fd, ev);
#endif
}

int new_epoll_set() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "epoll_create1");
  return fd;
}

}  // namespace

socket_registry::socket_registry(const engine_executor& executor) : executor_(executor) {
  epoll_.emplace(executor);
  const int fd = new_epoll_set();
  boost::system::error_code ec;
  epoll_->assign(fd, ec);
  if (ec) {
    ::close(fd);
    throw boost::system::system_error(ec, "registering libcurl's epoll set with the reactor");
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0 || !add_wake_descriptor(fd)) {
    const int err = errno;
    close_set();
    throw boost::system::system_error(err, boost::system::system_category(), "creating the engine's wake-up eventfd");
  }
}

socket_registry::~socket_registry() { close_set(); }

// The set and the eventfd are ours alone: closing them (the set through Asio, which
// deregisters it first) cannot touch anyone else's file.
void socket_registry::close_set() noexcept {
  epoll_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

bool socket_registry::add_wake_descriptor(int set) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(wake_fd_, 0);
  return ::epoll_ctl(set, EPOLL_CTL_ADD, wake_fd_, &ev) == 0;
}

void socket_registry::wake() noexcept {
  if (wake_pending_) return;
  wake_pending_ = true;
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

socket_registry::identity socket_registry::identity_of(int fd) noexcept {
  struct stat st {};
  if (probe_fstat(fd, &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

socket_registry::entry* socket_registry::slot(int fd) noexcept {
  if (fd < 0) return nullptr;
  const auto index = static_cast<std::size_t>(fd);
  if (index >= entries_.size()) {
    try {
      entries_.resize(std::max<std::size_t>(index + 1, entries_.size() * 2));
    } catch (...) {
      return nullptr;
    }
  }
  return &entries_[index];
}

void socket_registry::reset(entry& e) noexcept {
  if (e.owned) --owned_;
  e = entry{};
}

void socket_registry::adopt(entry& e) noexcept {
  const int wanted = e.wanted;
  const bool reported = e.reported;
  reset(e);
  e.used = true;
  e.wanted = wanted;
  e.reported = reported;
  e.generation = ++next_generation_;
  ++foreign_total_;
}

int socket_registry::open(int family, int type, int protocol, std::uint64_t operation_id) noexcept {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  entry* e = slot(fd);
  if (!e) {
    ::close(fd);
    errno = ENOMEM;
    return -1;
  }
  // An entry still here belonged to a file closed without the close callback: this number
  // was free, so that file is gone (and with it its place in the epoll set).
  reset(*e);
  e->used = true;
  e->owned = true;
  e->opened_for = operation_id;
  e->generation = ++next_generation_;
  e->file = identity_of(fd);
  ++owned_;
  ++opened_total_;
  return fd;
}

int socket_registry::close(int fd) noexcept {
  if (fd >= 0 && static_cast<std::size_t>(fd) < entries_.size()) reset(entries_[static_cast<std::size_t>(fd)]);
  // Closing removes it from the epoll set.
  return ::close(fd);
}

bool socket_registry::watch(entry& e, int fd, std::uint32_t events) noexcept {
  if (e.registered == events) return true;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(fd, e.generation);
    if (e.registered != 0) {
    if (events == 0) {
      // ENOENT: the file we added is not the one under this number any more (closed, and
      // gone from the set with it, or kept open elsewhere: see poll()).
      const bool removed = probe_epoll_ctl(set(), EPOLL_CTL_DEL, fd, &ev) == 0;
      e.registered = 0;
      return removed;
    }
    if (probe_epoll_ctl(set(), EPOLL_CTL_MOD, fd, &ev) == 0) {
      e.registered = events;
      return true;
    }
    if (errno != ENOENT) return false;
    // Not in the set under this number: the file we added was closed behind our back and the
    // number now holds another one.
    if (e.owned && identity_of(fd) != e.file) adopt(e);
    e.registered = 0;
    ev.data.u64 = tag(fd, e.generation);
  }
  if (events == 0) return true;
  if (probe_epoll_ctl(set(), EPOLL_CTL_ADD, fd, &ev) == 0 ||
      (errno == EEXIST && probe_epoll_ctl(set(), EPOLL_CTL_MOD, fd, &ev) == 0)) {
    e.registered = events;
    return true;
  }
  return false;
}

bool socket_registry::want(int fd, int what) noexcept {
  entry* e = slot(fd);
  if (!e) return false;
  if (!e->used) {
    adopt(*e);  // a descriptor libcurl did not open through us (resolver, wake-up...)
  } else if (e->owned && !e->confirmed && identity_of(fd) != e->file) {
    // Ours, closed without the close callback while its opener still runs (perhaps before
    // libcurl ever reported it), and the number reused by a descriptor libcurl opened
    // itself. One fstat per report, only while a connection is being set up: once its
    // opener has left, a socket libcurl kept belongs to a connection, and libcurl closes
    // those through the callback.
    adopt(*e);
  }
  e->reported = true;
  e->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
  if (watch(*e, fd, epoll_events(e->wanted))) return true;
  e->registered = 0;
  if (std::find(unwatchable_.begin(), unwatchable_.end(), fd) == unwatchable_.end()) {
    try {
      unwatchable_.push_back(fd);
    } catch (...) {
      return false;
    }
  }
  return false;
}

void socket_registry::unwant(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) return;
  entry& e = entries_[static_cast<std::size_t>(fd)];
  if (!e.used) return;
  e.wanted = 0;
  unwatchable_.erase(std::remove(unwatchable_.begin(), unwatchable_.end(), fd), unwatchable_.end());
  if (!e.owned) {
    // Not ours: libcurl closes it itself, maybe already has. A DEL naming a number that now
    // holds another file fails with ENOENT and changes nothing.
    watch(e, fd, 0);
    reset(e);
  }
  // Ours: back in libcurl's connection cache, and left in the set until it is wanted again
  // (or turns ready while unwanted: see poll()).
}

void socket_registry::settle(const opened_sockets& fds, std::uint64_t operation_id) noexcept {
  for (const int fd : fds) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) continue;
    entry& e = entries_[static_cast<std::size_t>(fd)];
    if (!e.used || !e.owned || e.confirmed || e.opened_for != operation_id) continue;
    if (identity_of(fd) == e.file) {
      e.confirmed = true;  // libcurl kept it: a cached connection
    } else if (e.wanted != 0) {
      // Closed without the close callback, and the number already reused by a descriptor
      // libcurl watches (reported before we could tell): no longer ours, still wanted. The
      // file we added left the set when it was closed; the one libcurl wants goes in.
      adopt(e);
      watch(e, fd, epoll_events(e.wanted));
    } else {
      reset(e);  // closed without the close callback; the number may be anyone's now
    }
  }
}

std::size_t socket_registry::poll(ready* out, std::size_t capacity, bool& woken) {
  epoll_event events[64];
  const int n = ::epoll_wait(set(), events,
                             static_cast<int>(std::min<std::size_t>(capacity, std::size(events))), 0);
  std::size_t count = 0;
  bool stale = false;
  woken = false;
  for (int i = 0; i < n; ++i) {
    const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
    const auto generation = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
    if (generation == 0 && fd == wake_fd_) {
      std::uint64_t count_read = 0;
      (void)::read(wake_fd_, &count_read, sizeof count_read);
      wake_pending_ = false;
      woken = true;
      continue;
    }
    if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) {
      stale = true;
      continue;
    }
    entry& e = entries_[static_cast<std::size_t>(fd)];
    if (!e.used || e.generation != generation) {
      // A file we no longer know is still in the set: it was closed under this number while
      // another descriptor (a fork's copy, a dup) kept it open. No epoll_ctl can name it now.
      stale = true;
      continue;
    }
    const std::uint32_t got = events[i].events;
    if (e.wanted == 0) {
      // An idle connection turned ready (closed by the server): stop watching it. Should the
      // DEL miss, the member is a file closed under this number but alive elsewhere.
      if (!watch(e, fd, 0)) stale = true;
      continue;
    }
    int mask = 0;
    if ((e.wanted & CURL_POLL_IN) && (got & (EPOLLIN | EPOLLHUP | EPOLLERR))) mask |= CURL_CSELECT_IN;
    if ((e.wanted & CURL_POLL_OUT) && (got & (EPOLLOUT | EPOLLHUP | EPOLLERR))) mask |= CURL_CSELECT_OUT;
    if (got & EPOLLERR) mask |= CURL_CSELECT_ERR;
    if (mask == 0) continue;
    out[count++] = ready{fd, mask, generation};
  }
  if (stale) rebuild();
  return count;
}

bool socket_registry::still_current(const ready& r) const noexcept {
  if (r.fd < 0 || static_cast<std::size_t>(r.fd) >= entries_.size()) return false;
  const entry& e = entries_[static_cast<std::size_t>(r.fd)];
  return e.used && e.generation == r.generation && e.wanted != 0;
}

std::size_t socket_registry::take_unwatchable(ready* out, std::size_t capacity) noexcept {
  std::size_t count = 0, kept = 0;
  for (const int fd : unwatchable_) {
    const entry& e = entries_[static_cast<std::size_t>(fd)];
    if (!e.used || e.wanted == 0) continue;
    if (count == capacity) {
      unwatchable_[kept++] = fd;  // the next wake-up reports it
      continue;
    }
    int mask = 0;
    if (::fcntl(fd, F_GETFD) == -1) {
      mask = CURL_CSELECT_ERR;
    } else {
      if (e.wanted & CURL_POLL_IN) mask |= CURL_CSELECT_IN;
      if (e.wanted & CURL_POLL_OUT) mask |= CURL_CSELECT_OUT;
    }
    out[count++] = ready{fd, mask, e.generation};
  }
  unwatchable_.resize(kept);
  return count;
}

// A new set holding what the old one should: the only way to be rid of a stale member. Only
// entries libcurl wants now go in (their numbers were just reported); idle connections come
// back when wanted again.
void socket_registry::rebuild() noexcept {
  const int fresh = ::epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0) return;  // try again at the next stale event
  boost::system::error_code ec;
  std::optional<descriptor> replacement;
  replacement.emplace(executor_);
  replacement->assign(fresh, ec);
  if (ec || !add_wake_descriptor(fresh)) {
    if (!ec) replacement->close(ec);
    else ::close(fresh);
    return;
  }
  for (std::size_t fd = 0; fd < entries_.size(); ++fd) {
    entry& e = entries_[fd];
    if (!e.used || e.registered == 0) continue;
    if (e.wanted == 0) {
      e.registered = 0;
      continue;
    }
    epoll_event ev{};
    ev.events = e.registered;
    ev.data.u64 = tag(static_cast<int>(fd), e.generation);
    if (probe_epoll_ctl(fresh, EPOLL_CTL_ADD, static_cast<int>(fd), &ev) != 0) e.registered = 0;
  }
  epoll_.swap(replacement);  // the old set (our own descriptor) closes with `replacement`
}

void socket_registry::clear() noexcept {
  for (std::size_t fd = 0; fd < entries_.size(); ++fd) {
    entry& e = entries_[fd];
    if (e.used && e.owned && identity_of(static_cast<int>(fd)) == e.file) ::close(static_cast<int>(fd));
    reset(e);
  }
  unwatchable_.clear();
}

}  // namespace boost_curl::detail
