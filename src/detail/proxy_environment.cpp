#include "proxy_environment.hpp"

#include <boost/beast/core/string.hpp>

#include <string_view>

extern char** environ;

namespace boost_curl::detail {
namespace {

proxy_environment read_proxy_environment() noexcept {
  proxy_environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view var(*entry);
    const std::string_view name = var.substr(0, var.find('='));
    constexpr std::string_view suffix = "_proxy";
    if (name.size() < suffix.size() ||
        !boost::beast::iequals(name.substr(name.size() - suffix.size()), suffix))
      continue;
    if (boost::beast::iequals(name, "no_proxy"))
      env.no_proxy = true;
    else
      env.proxy = true;
  }
  return env;
}

}  // namespace

const proxy_environment& proxy_environment_at_start() noexcept {
  static const proxy_environment env = read_proxy_environment();
  return env;
}

}  // namespace boost_curl::detail
