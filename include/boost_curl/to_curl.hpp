#ifndef BOOST_CURL_TO_CURL_HPP
#define BOOST_CURL_TO_CURL_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/request.hpp>

#include <string>

namespace boost_curl {

/** One shell command line (POSIX sh) that replays `r` with the curl tool: the same method, URL,
    header fields (curl's own defaults suppressed where async_fetch sends none), body, form or
    multipart parts, credentials, cookies, HTTP version, TLS verification and CA file, redirect
    settings, timeouts, proxy and Unix socket. Every value is single-quoted, so any byte but NUL
    survives the shell; bodies are passed literally (never as curl's `@file`), and a body
    holding NUL bytes is piped in from `printf` (`--data-binary @-`).

    Throws std::invalid_argument for what one curl command cannot express: a user name holding
    ':', more than one in-memory multipart file part (only one can come from standard input), a
    multipart content type holding ';', ',' or '"' (curl's -F syntax ends it there), or a typed
    multipart field (--form-string takes no type). Cookies of a session's jar are not included (they are not
    part of the request).
*/
BOOST_CURL_DECL std::string to_curl(const request& r);

}  // namespace boost_curl

#endif
