#ifndef BOOST_CURL_SRC_DETAIL_PROXY_ENVIRONMENT_HPP
#define BOOST_CURL_SRC_DETAIL_PROXY_ENVIRONMENT_HPP

// Whether the process environment names proxies, read once.
//
// With no CURLOPT_PROXY and CURLOPT_NOPROXY set, libcurl 7.88 looks the proxy variables up
// for every request (no_proxy, NO_PROXY, <scheme>_proxy, all_proxy, ALL_PROXY: five getenv
// calls, each a scan of the whole environment, plus copies): ~3 000 instructions, a twentieth
// of a keep-alive exchange. When the environment names no proxy, transfers say so explicitly
// ("" = no proxy, "" = no exceptions), which is what libcurl would conclude; when it names
// one, libcurl keeps reading it per request as usual.

namespace boost_curl::detail {

struct proxy_environment {
  bool proxy = false;     // some <scheme>_proxy / all_proxy variable is set (any case)
  bool no_proxy = false;  // no_proxy or NO_PROXY is set
};

// The environment as it was on the first call.
const proxy_environment& proxy_environment_at_start() noexcept;

}  // namespace boost_curl::detail

#endif
