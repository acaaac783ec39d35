// A small JSON API client: POST a JSON document, read the JSON answer, with the session's
// default fields on every request and errors for 4xx/5xx statuses.
// usage: example_json_client [BASE_URL]   (default: the embedded loopback origin, whose
// /echo-body route answers with the request's own body and Content-Type)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace http = boost_curl::http;
namespace json = boost::json;

// One call of the API: the document goes up as JSON, the answer comes back parsed.
asio::awaitable<json::value> call(boost_curl::session& api, std::string path, json::value document) {
  boost_curl::request req = api.make_request(http::verb::post, std::move(path));
  req.set_json(document);
  req.fail_on_error_status = true;  // a 4xx/5xx is an exception here, with the status as the code
  boost_curl::response r = co_await api.async_fetch(std::move(req), asio::use_awaitable);
  co_return r.json();
}

asio::awaitable<int> run(std::string base) {
  boost_curl::session api(co_await asio::this_coro::executor);
  api.defaults().headers.set(http::field::accept, "application/json");
  api.defaults().headers.set(http::field::user_agent, "example-json-client/1");

  const json::value order = {{"item", "book"}, {"quantity", 2}, {"gift", true}};
  json::value answer = co_await call(api, base + "/echo-body", order);
  std::cout << "answer: " << json::serialize(answer) << '\n';

  try {
    co_await call(api, base + "/status/404", json::object{});
  } catch (const boost::system::system_error& e) {
    std::cout << "as expected: " << e.code().message() << '\n';  // HTTP status 404 Not Found
    if (e.code() != boost_curl::condition::http_error_status) co_return 1;
  }
  co_return answer == order ? 0 : 1;
}

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  std::string base = argc > 1 ? argv[1] : origin.url("");
  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, run(base), [&](std::exception_ptr e, int s) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "failed: " << x.what() << '\n';
      }
    } else {
      status = s;
    }
  });
  ctx.run();
  return status;
}
