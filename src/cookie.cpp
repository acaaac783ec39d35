#include <boost_curl/cookie.hpp>

#include <charconv>
#include <chrono>
#include <system_error>
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
  if (f.size() != 7 || f[0].empty() || !parse_flag(f[1], c.include_subdomains) || !parse_flag(f[3], c.secure) ||
      f[5].empty()) {
    ec = error::invalid_request;
    return {};
  }
  // Whole seconds, clamped to what a system_clock::time_point holds (about year 2262 with
  // libstdc++'s nanoseconds): libcurl keeps far-future expiries as far-future, so do we.
  const long long limit = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::duration::max()).count();
  long long expires = 0;
  const auto [end, why] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), expires);
  if (end != f[4].data() + f[4].size() || f[4].empty()) {
    ec = error::invalid_request;
    return {};
  }
  const bool negative = f[4].front() == '-';
  if (why == std::errc::result_out_of_range || expires > limit || expires < -limit) expires = negative ? -limit : limit;
  std::string_view domain = f[0];
  // The bare host: no dot starts one ("..x" is read as "x", so that it writes back the same),
  // and no '#' (a comment line in a cookie file, or one more #HttpOnly_ prefix).
  while (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  if (domain.empty() || domain.front() == '#') {
    ec = error::invalid_request;
    return {};
  }
  c.domain.assign(domain.data(), domain.size());
  if (!f[2].empty()) c.path.assign(f[2].data(), f[2].size());  // libcurl reads a blank path as "/"
  c.expires = std::chrono::system_clock::time_point(std::chrono::seconds(expires));
  c.name.assign(f[5].data(), f[5].size());
  c.value.assign(f[6].data(), f[6].size());
  return c;
}

}  // namespace boost_curl
