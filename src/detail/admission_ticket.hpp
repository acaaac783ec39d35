#ifndef BOOST_CURL_SRC_DETAIL_ADMISSION_TICKET_HPP
#define BOOST_CURL_SRC_DETAIL_ADMISSION_TICKET_HPP

#include <string>

namespace boost_curl::detail {

// Held by a running transfer that counts against the service's caps (admission.hpp); given
// back when it finishes.
struct admission_ticket {
  std::string host;  // scheme://host:port
};

}  // namespace boost_curl::detail

#endif
