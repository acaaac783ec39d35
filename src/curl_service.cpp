#include <boost_curl/curl_service.hpp>

#include "detail/engine_executor.hpp"
#include "detail/multi_pool.hpp"
#include "detail/session_state.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

namespace boost_curl {
namespace asio = boost::asio;

asio::execution_context::id curl_service::id;

// The engine's own I/O runs on an executor made from the context, whatever executor the
// operations arrive with (see engine_executor.hpp).
curl_service::curl_service(asio::execution_context& ctx) : asio::execution_context::service(ctx) {
  if (detail::has_reactor(ctx)) pool_ = std::make_unique<detail::multi_pool>(detail::engine_executor(ctx));
}

curl_service::~curl_service() = default;

void curl_service::shutdown() {
  if (pool_) pool_->shutdown();
}

std::size_t curl_service::active_transfers() const { return pool_ ? pool_->active_transfers() : 0; }

std::size_t curl_service::open_sockets() const { return pool_ ? pool_->open_sockets() : 0; }

service_statistics curl_service::statistics() const { return pool_ ? pool_->statistics() : service_statistics{}; }

void curl_service::set_transfers_per_multi(std::size_t n) noexcept {
  if (pool_) pool_->set_transfers_per_driver(n);
}

std::size_t curl_service::transfers_per_multi() const noexcept { return pool_ ? pool_->transfers_per_driver() : 0; }

void curl_service::set_multi_idle_timeout(std::chrono::milliseconds d) noexcept {
  if (pool_) pool_->set_idle_timeout(d);
}

std::chrono::milliseconds curl_service::multi_idle_timeout() const noexcept {
  return pool_ ? pool_->idle_timeout() : std::chrono::milliseconds(0);
}

void curl_service::set_max_transfers(std::size_t total, std::size_t per_host) {
  if (pool_) pool_->set_limits(total, per_host);
}

std::size_t curl_service::max_transfers() const noexcept { return pool_ ? pool_->max_transfers() : 0; }

std::size_t curl_service::max_transfers_per_host() const noexcept { return pool_ ? pool_->max_transfers_per_host() : 0; }

std::size_t curl_service::waiting_transfers() const { return pool_ ? pool_->waiting() : 0; }

void curl_service::start(const asio::any_io_executor& io_executor, asio::any_completion_executor handler_work,
                         request&& req, detail::fetch_handler&& handler,
                         std::shared_ptr<detail::session_state> session, std::shared_ptr<detail::body_sink> sink) {
  if (!pool_) {
    response r;
    r.error_message = "boost_curl runs on an io_context, a thread_pool or the system_context";
    asio::post(io_executor, asio::append(std::move(handler), make_error_code(error::unsupported_context), std::move(r)));
    return;
  }
  // After shutdown the handler is dropped, like Asio's own objects do.
  pool_->start(io_executor, std::move(handler_work), std::move(req), std::move(handler), std::move(session),
               std::move(sink));
}

namespace detail {
void initiate_fetch(const asio::any_io_executor& io_executor, asio::any_completion_executor handler_work,
                    request&& req, fetch_handler&& handler, const std::shared_ptr<session_state>& session,
                    std::shared_ptr<body_sink> sink) {
  if (session) session->apply_defaults(req);
  asio::execution_context& ctx = asio::query(io_executor, asio::execution::context);
  asio::use_service<curl_service>(ctx).start(io_executor, std::move(handler_work), std::move(req), std::move(handler),
                                             session, std::move(sink));
}
}  // namespace detail

}  // namespace boost_curl
