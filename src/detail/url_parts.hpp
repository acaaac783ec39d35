#ifndef BOOST_CURL_SRC_DETAIL_URL_PARTS_HPP
#define BOOST_CURL_SRC_DETAIL_URL_PARTS_HPP

// Parts of a URL, read with libcurl's own parser (as libcurl will read the URL).

#include "curl_handles.hpp"

#include <string>

namespace boost_curl::detail {

// The URL parsed as libcurl parses a CURLOPT_URL string (same flags), for CURLOPT_CURLU, and in
// `text` the URL as libcurl then writes it (its effective URL); null when it does not parse or
// memory runs out.
url_ptr parse_as_libcurl_does(const std::string& url, std::string& text);

// "scheme://host:port", lower case, the port explicit; empty when the URL does not parse.
std::string origin_of(const std::string& url);
// The host name or address; empty when the URL does not parse.
std::string host_of(const std::string& url);

}  // namespace boost_curl::detail

#endif
