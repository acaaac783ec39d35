#ifndef BOOST_CURL_HPP
#define BOOST_CURL_HPP

// Everything public in boost_curl.
#include <boost_curl/async_download.hpp>
#include <boost_curl/async_fetch.hpp>
#include <boost_curl/authentication.hpp>
#include <boost_curl/config.hpp>
#include <boost_curl/cookie.hpp>
#include <boost_curl/curl_service.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/multipart_form.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>
#include <boost_curl/response_headers.hpp>
#include <boost_curl/session.hpp>
#include <boost_curl/stream.hpp>
#include <boost_curl/to_curl.hpp>
#include <boost_curl/version.hpp>

#endif
