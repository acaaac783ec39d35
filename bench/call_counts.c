/* Counts, in any client, the libcurl calls and system calls that say how it drives libcurl:
 * an LD_PRELOAD library (bench/call_counts.sh builds it and runs a client with it). Unlike
 * `strace -c` it barely slows the client, so the rounds of the event loop stay as they are
 * when nobody watches. Prints one line on stderr at exit, divided by CALL_COUNTS_REQUESTS
 * when set. Counted where the client or libcurl calls them through the PLT: libcurl's own
 * recv/send/poll, the client's and Asio's epoll calls, eventfd reads and writes. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

enum {
  TIMEOUT_ACTIONS, SOCKET_ACTIONS, ADD_HANDLE, INFO_READ, RECV, RECV_EAGAIN, SEND, POLL,
  EPOLL_WAIT, EPOLL_EVENTS, EPOLL_CTL, TIMERFD_SETTIME, READ, WRITE, COUNTERS
};
static const char *const names[COUNTERS] = {
  "socket_action(TIMEOUT)", "socket_action(fd)", "multi_add_handle", "multi_info_read", "recv",
  "recv_eagain", "send", "poll", "epoll_wait", "epoll_events", "epoll_ctl", "timerfd_settime",
  "read", "write"};
static atomic_long counts[COUNTERS];

#define REAL(name) \
  static __typeof__(name) *real; \
  if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running) {
  REAL(curl_multi_socket_action);
  counts[s == CURL_SOCKET_TIMEOUT ? TIMEOUT_ACTIONS : SOCKET_ACTIONS]++;
  return real(m, s, ev, running);
}
CURLMcode curl_multi_add_handle(CURLM *m, CURL *e) {
  REAL(curl_multi_add_handle);
  counts[ADD_HANDLE]++;
  return real(m, e);
}
CURLMsg *curl_multi_info_read(CURLM *m, int *queued) {
  REAL(curl_multi_info_read);
  counts[INFO_READ]++;
  return real(m, queued);
}
ssize_t recv(int fd, void *buf, size_t n, int flags) {
  REAL(recv);
  counts[RECV]++;
  ssize_t r = real(fd, buf, n, flags);
  if (r < 0 && errno == EAGAIN) counts[RECV_EAGAIN]++;
  return r;
}
ssize_t send(int fd, const void *buf, size_t n, int flags) {
  REAL(send);
  counts[SEND]++;
  return real(fd, buf, n, flags);
}
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  REAL(poll);
  counts[POLL]++;
  return real(fds, n, timeout);
}
int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout) {
  REAL(epoll_wait);
  counts[EPOLL_WAIT]++;
  int r = real(ep, ev, max, timeout);
  if (r > 0) counts[EPOLL_EVENTS] += r;
  return r;
}
int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev) {
  REAL(epoll_ctl);
  counts[EPOLL_CTL]++;
  return real(ep, op, fd, ev);
}
int timerfd_settime(int fd, int flags, const struct itimerspec *v, struct itimerspec *old) {
  REAL(timerfd_settime);
  counts[TIMERFD_SETTIME]++;
  return real(fd, flags, v, old);
}
ssize_t read(int fd, void *buf, size_t n) {
  REAL(read);
  counts[READ]++;
  return real(fd, buf, n);
}
ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  counts[WRITE]++;
  return real(fd, buf, n);
}

__attribute__((destructor)) static void report(void) {
  const char *per = getenv("CALL_COUNTS_REQUESTS");
  const double requests = per ? atof(per) : 0;
  fprintf(stderr, "call_counts%s:", requests > 0 ? " per request" : "");
  for (int i = 0; i < COUNTERS; ++i) {
    if (requests > 0)
      fprintf(stderr, " %s=%.3f", names[i], (double)counts[i] / requests);
    else
      fprintf(stderr, " %s=%ld", names[i], (long)counts[i]);
  }
  fprintf(stderr, "\n");
}
