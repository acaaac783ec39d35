#ifndef BOOST_CURL_SRC_DETAIL_ENGINE_NOTICE_HPP
#define BOOST_CURL_SRC_DETAIL_ENGINE_NOTICE_HPP

// Something libcurl's callbacks found for a user (a stream's bytes or head, progress figures)
// while the driver's mutex was held: the driver hands it over with deliver() once it has
// released the mutex, from the same entry point (multi_driver::notice). `post`: that entry
// point is an initiating function or a cancellation, where nothing may run inline; otherwise
// it is one of the engine's own handlers, where handlers may be dispatched.

#include <memory>

namespace boost_curl::detail {

class engine_notice {
 public:
  virtual void deliver(bool post) = 0;
  // The driver shut down with this notice queued: what it was for will never be delivered.
  // Pending user handlers it holds are destroyed (Asio's rule at shutdown), outside the mutex.
  virtual void drop() noexcept {}

 protected:
  ~engine_notice() = default;

 private:
  // The driver's queue is a list through the notices themselves, so that queueing one inside
  // a libcurl callback never allocates (nor fails). A notice is queued at most once at a time:
  // it asks again only after its deliver() has begun.
  friend class multi_driver;
  engine_notice* next_notice_ = nullptr;
  std::shared_ptr<engine_notice> queued_;  // keeps it alive while queued
};

}  // namespace boost_curl::detail

#endif
