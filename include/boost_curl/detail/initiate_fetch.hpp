#ifndef BOOST_CURL_DETAIL_INITIATE_FETCH_HPP
#define BOOST_CURL_DETAIL_INITIATE_FETCH_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace boost_curl::detail {

using fetch_signature = void(error_code, response);
using fetch_handler = boost::asio::any_completion_handler<fetch_signature>;

class session_state;  // src/detail/session_state.hpp
class body_sink;      // src/detail/body_sink.hpp

// The compiled half of async_fetch (src/curl_service.cpp): hands the type-erased handler
// to the curl_service of io_executor's execution context.
//  - io_executor: the executor given to async_fetch, the default executor of the handler
//    (only ever used for the handler: the service runs its own I/O on its context's plain
//    executor, whatever this one is);
//  - handler_work: the handler's associated executor with outstanding work tracked, held
//    until completion so run() does not return under a pending fetch;
//  - session: the session the request belongs to, or null;
//  - sink: where the final response's head and body go instead of response::body (stream,
//    async_download), or null.
BOOST_CURL_DECL void initiate_fetch(const boost::asio::any_io_executor& io_executor,
                                    boost::asio::any_completion_executor handler_work, request&& req,
                                    fetch_handler&& handler, const std::shared_ptr<session_state>& session,
                                    std::shared_ptr<body_sink> sink = nullptr);

}  // namespace boost_curl::detail

#endif
