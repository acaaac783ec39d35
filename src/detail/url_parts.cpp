#include "url_parts.hpp"

#include "curl_handles.hpp"

#include <cctype>
#include <memory>

namespace boost_curl::detail {
namespace {

struct part_deleter {
  void operator()(char* p) const noexcept { curl_free(p); }
};
using part_ptr = std::unique_ptr<char, part_deleter>;

part_ptr part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  char* p = nullptr;
  if (curl_url_get(u, which, &p, flags) != CURLUE_OK) return nullptr;
  return part_ptr(p);
}

url_ptr parse(const std::string& url, unsigned flags = 0) {
  url_ptr u(curl_url());
  if (u && curl_url_set(u.get(), CURLUPART_URL, url.c_str(), flags) != CURLUE_OK) u.reset();
  return u;
}

}  // namespace

url_ptr parse_as_libcurl_does(const std::string& url, std::string& text) {
  // What libcurl's parseurlandfillconn() does with a URL string (lib/url.c, 7.85 to 8.x): parse
  // with these flags, then take the whole URL back as its text. CURLOPT_PATH_AS_IS and
  // CURLOPT_DISALLOW_USERNAME_IN_URL would add flags, which is why a request with curl_options
  // never uses a parsed URL (transfer::apply).
  url_ptr u = parse(url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
  if (!u) return nullptr;
  const part_ptr whole = part(u.get(), CURLUPART_URL);
  if (!whole) return nullptr;
  text = whole.get();
  return u;
}

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
