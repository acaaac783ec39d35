#ifndef BOOST_CURL_SRC_DETAIL_CURL_HANDLES_HPP
#define BOOST_CURL_SRC_DETAIL_CURL_HANDLES_HPP

// RAII owners for libcurl's handles.

#include <curl/curl.h>

#include <memory>

// The oldest libcurl boost_curl supports: CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR
// (request::protocols) arrived in 7.85.0. Keep in step with CMakeLists.txt (BOOST_CURL_MIN_LIBCURL).
#if LIBCURL_VERSION_NUM < 0x075500
#error "boost_curl needs libcurl 7.85.0 or later"
#endif

namespace boost_curl::detail {

struct easy_deleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct multi_deleter {
  void operator()(CURLM* h) const noexcept { curl_multi_cleanup(h); }
};
struct share_deleter {
  void operator()(CURLSH* h) const noexcept { curl_share_cleanup(h); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
struct url_deleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};

using easy_ptr = std::unique_ptr<CURL, easy_deleter>;
using multi_ptr = std::unique_ptr<CURLM, multi_deleter>;
using share_ptr = std::unique_ptr<CURLSH, share_deleter>;
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;
using url_ptr = std::unique_ptr<CURLU, url_deleter>;

// curl_global_init is not thread-safe in libcurl 7.88: run it once per process.
void ensure_curl_global_init();

}  // namespace boost_curl::detail

#endif
