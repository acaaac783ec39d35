#include "curl_handles.hpp"

#include <mutex>
#include <stdexcept>

namespace boost_curl::detail {

void ensure_curl_global_init() {
  // The only process-wide state boost_curl keeps. Never cleaned up: other libraries in the
  // process may use libcurl too, and curl_global_cleanup is not thread-safe either.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

}  // namespace boost_curl::detail
