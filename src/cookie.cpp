#include <boost_curl/cookie.hpp>

#include <charconv>
#include <vector>

namespace boost_curl {
namespace {

constexpr std::string_view http_only_prefix = "#HttpOnly_";

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

bool parse_flag(std::string_view s, bool& out) noexcept {
  if (s == "TRUE") return out = true, true;
  if (s == "FALSE") return out = false, true;
  return false;
}

}  // namespace

// As libcurl 7.88's get_netscape_format(): a leading dot on domains that match subdomains.
std::string cookie::to_netscape() const {
  std::string line;
  if (http_only) line += http_only_prefix;
  if (include_subdomains && (domain.empty() || domain.front() != '.')) line += '.';
  line += domain;
  line += include_subdomains ? "\tTRUE\t" : "\tFALSE\t";
  line += path.empty() ? std::string("/") : path;
  line += secure ? "\tTRUE\t" : "\tFALSE\t";
  line += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count());
  line += '\t';
  line += name;
  line += '\t';
  line += value;
  return line;
}

cookie cookie::from_netscape(std::string_view line, error_code& ec) {
  ec = {};
  cookie c;
  if (line.substr(0, http_only_prefix.size()) == http_only_prefix) {
    c.http_only = true;
    line.remove_prefix(http_only_prefix.size());
  }
  const std::vector<std::string_view> f = split_tabs(line);
  long long expires = 0;
  if (f.size() != 7 || f[0].empty() || !parse_flag(f[1], c.include_subdomains) || !parse_flag(f[3], c.secure) ||
      std::from_chars(f[4].data(), f[4].data() + f[4].size(), expires).ptr != f[4].data() + f[4].size() ||
      f[5].empty()) {
    ec = error::invalid_request;
    return {};
  }
  std::string_view domain = f[0];
  if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  c.domain.assign(domain.data(), domain.size());
  c.path.assign(f[2].data(), f[2].size());
  c.expires = std::chrono::system_clock::time_point(std::chrono::seconds(expires));
  c.name.assign(f[5].data(), f[5].size());
  c.value.assign(f[6].data(), f[6].size());
  return c;
}

}  // namespace boost_curl
