#ifndef BOOST_CURL_CONFIG_HPP
#define BOOST_CURL_CONFIG_HPP

// Symbol visibility for the compiled library (Boost.URL style): static builds need nothing,
// shared builds define BOOST_CURL_DYN_LINK (and BOOST_CURL_SOURCE while building the library).
#include <boost/config.hpp>

#if defined(BOOST_CURL_DYN_LINK)
#if defined(BOOST_CURL_SOURCE)
#define BOOST_CURL_DECL BOOST_SYMBOL_EXPORT
#else
#define BOOST_CURL_DECL BOOST_SYMBOL_IMPORT
#endif
#else
#define BOOST_CURL_DECL
#endif

#if __cplusplus < 201703L && !defined(_MSVC_LANG)
#error "boost_curl needs C++17 or later"
#endif

#endif
