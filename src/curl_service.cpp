#include <boost_curl/curl_service.hpp>

#include "detail/multi_driver.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>


namespace boost_curl {
namespace asio = boost::asio;

asio::execution_context::id curl_service::id;


curl_service::curl_service(asio::execution_context& ctx)
    : asio::execution_context::service(ctx), driver_(std::make_unique<detail::multi_driver>()) {}

curl_service::~curl_service() = default;

void curl_service::shutdown() { driver_->shutdown(); }

std::size_t curl_service::active_transfers() const { return driver_->active_transfers(); }

std::size_t curl_service::open_sockets() const { return driver_->open_sockets(); }

service_statistics curl_service::statistics() const { return driver_->statistics(); }

void curl_service::start(const asio::any_io_executor& io_executor, const asio::any_io_executor& context_executor,
                         asio::any_completion_executor handler_work, request&& req, detail::fetch_handler&& handler) {
  driver_->start(io_executor, context_executor, std::move(handler_work), std::move(req), std::move(handler));
}

namespace detail {
void initiate_fetch(const asio::any_io_executor& io_executor, const asio::any_io_executor& context_executor,
                    asio::any_completion_executor handler_work, request&& req, fetch_handler&& handler) {
  asio::execution_context& ctx = asio::query(io_executor, asio::execution::context);
  asio::use_service<curl_service>(ctx).start(io_executor, context_executor, std::move(handler_work), std::move(req),
                                             std::move(handler));
}
}  // namespace detail

}  // namespace boost_curl
