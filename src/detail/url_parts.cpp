#include "url_parts.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace boost_curl::detail {
namespace {

struct url_deleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct part_deleter {
  void operator()(char* p) const noexcept { curl_free(p); }
};
using part_ptr = std::unique_ptr<char, part_deleter>;

part_ptr part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  char* p = nullptr;
  if (curl_url_get(u, which, &p, flags) != CURLUE_OK) return nullptr;
  return part_ptr(p);
}

std::unique_ptr<CURLU, url_deleter> parse(const std::string& url) {
  std::unique_ptr<CURLU, url_deleter> u(curl_url());
  if (u && curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) u.reset();
  return u;
}

}  // namespace

std::string origin_of(const std::string& url) {
  const auto u = parse(url);
  if (!u) return {};
  const part_ptr scheme = part(u.get(), CURLUPART_SCHEME), host = part(u.get(), CURLUPART_HOST),
                 port = part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) return {};
  std::string origin = std::string(scheme.get()) + "://" + host.get() + ":" + port.get();
  for (char& c : origin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return origin;
}

std::string host_of(const std::string& url) {
  const auto u = parse(url);
  if (!u) return {};
  const part_ptr host = part(u.get(), CURLUPART_HOST);
  return host ? std::string(host.get()) : std::string();
}

}  // namespace boost_curl::detail
