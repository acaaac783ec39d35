#include <boost_curl/curl_service.hpp>

#include "detail/multi_pool.hpp"
#include "detail/session_state.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>

namespace boost_curl {
namespace asio = boost::asio;

asio::execution_context::id curl_service::id;

curl_service::curl_service(asio::execution_context& ctx)
    : asio::execution_context::service(ctx), pool_(std::make_unique<detail::multi_pool>()) {}

curl_service::~curl_service() = default;

void curl_service::shutdown() { pool_->shutdown(); }

std::size_t curl_service::active_transfers() const { return pool_->active_transfers(); }

std::size_t curl_service::open_sockets() const { return pool_->open_sockets(); }

service_statistics curl_service::statistics() const { return pool_->statistics(); }

void curl_service::set_transfers_per_multi(std::size_t n) noexcept { pool_->set_transfers_per_driver(n); }

std::size_t curl_service::transfers_per_multi() const noexcept { return pool_->transfers_per_driver(); }

void curl_service::start(const asio::any_io_executor& io_executor, const asio::any_io_executor& context_executor,
                         asio::any_completion_executor handler_work, request&& req, detail::fetch_handler&& handler,
                         std::shared_ptr<detail::session_state> session) {
  pool_->pick().start(io_executor, context_executor, std::move(handler_work), std::move(req), std::move(handler),
                      std::move(session));
}

namespace detail {
void initiate_fetch(const asio::any_io_executor& io_executor, const asio::any_io_executor& context_executor,
                    asio::any_completion_executor handler_work, request&& req, fetch_handler&& handler,
                    const std::shared_ptr<session_state>& session) {
  if (session) session->apply_defaults(req);
  asio::execution_context& ctx = asio::query(io_executor, asio::execution::context);
  asio::use_service<curl_service>(ctx).start(io_executor, context_executor, std::move(handler_work), std::move(req),
                                             std::move(handler), session);
}
}  // namespace detail

}  // namespace boost_curl
