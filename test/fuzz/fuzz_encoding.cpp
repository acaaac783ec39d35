// libFuzzer target: query and form encoding. Decoding what add_query appended gives the name
// and value back byte for byte, and the result holds only unreserved bytes and '%XX'.
#include <boost_curl/request.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) std::abort();
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

bool encoded_only(std::string_view s) {
  for (const char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (!unreserved && c != '%' && !(c >= 'A' && c <= 'F')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = in.empty() ? 0 : static_cast<unsigned char>(in[0]) % (in.size() + 1);
  const std::string_view name = in.substr(0, cut), value = in.substr(cut);

  boost_curl::request r("http://h/p?x=1#frag");
  r.add_query(name, value);
  const std::string& url = r.url;
  if (url.compare(0, 14, "http://h/p?x=1") != 0 || url.size() < 20 || url.compare(url.size() - 5, 5, "#frag") != 0)
    std::abort();
  const std::string_view pair = std::string_view(url).substr(15, url.size() - 20);  // after "&", before "#frag"
  if (url[14] != '&') std::abort();
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos) std::abort();
  if (!encoded_only(pair.substr(0, eq)) || !encoded_only(pair.substr(eq + 1))) std::abort();
  if (decode(pair.substr(0, eq)) != name || decode(pair.substr(eq + 1)) != value) std::abort();

  boost_curl::request f;
  f.set_form({{std::string(name), std::string(value)}, {"b", std::string(name)}});
  const std::size_t amp = f.body.find('&');
  if (amp == std::string::npos || f.body.find('&', amp + 1) != std::string::npos) std::abort();
  const std::string_view first = std::string_view(f.body).substr(0, amp);
  const std::size_t feq = first.find('=');
  if (decode(first.substr(0, feq)) != name || decode(first.substr(feq + 1)) != value) std::abort();
  return 0;
}
