#include <boost_curl/response.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>

namespace boost_curl {

boost::json::value response::json(error_code& ec) const {
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

boost::json::value response::json() const {
  error_code ec;
  boost::json::value v = json(ec);
  if (ec) throw boost::system::system_error(ec, "response body is not JSON");
  return v;
}

}  // namespace boost_curl
