#include <boost_curl/request.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace boost_curl {
namespace {

// Every byte but A-Z a-z 0-9 - . _ ~ percent-encoded: '+' becomes %2B and a space %20, so no
// server reads a '+' as a space or a space as a separator.
std::string encode_component(std::string_view s) {
  return boost::urls::encode(boost::urls::string_view(s.data(), s.size()), boost::urls::unreserved_chars);
}

void set_content_type_unless_set(http::fields& headers, std::string_view type) {
  if (headers.find(http::field::content_type) == headers.end())
    headers.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
}

}  // namespace

void request::set_json(const boost::json::value& v) {
  body = boost::json::serialize(v);
  multipart.reset();
  set_content_type_unless_set(headers, "application/json");
}

void request::set_form(std::vector<std::pair<std::string, std::string>> fields) {
  std::string encoded;
  for (const auto& [name, value] : fields) {
    if (!encoded.empty()) encoded += '&';
    encoded += encode_component(name);
    encoded += '=';
    encoded += encode_component(value);
  }
  body = std::move(encoded);
  multipart.reset();
  set_content_type_unless_set(headers, "application/x-www-form-urlencoded");
}

void request::set_multipart(multipart_form form) {
  multipart = std::move(form);
  body.clear();
}

void request::set_body_file(std::filesystem::path file) {
  body_file = std::move(file);
  body.clear();
  multipart.reset();
  if (method == http::verb::get) method = http::verb::post;
}

request& request::add_query(std::string_view name, std::string_view value) {
  const std::size_t hash = url.find('#');
  const std::size_t end = hash == std::string::npos ? url.size() : hash;
  const std::size_t question = url.find('?');
  std::string pair;
  if (question == std::string::npos || question > end)
    pair += '?';
  else if (end != question + 1 && url[end - 1] != '&')
    pair += '&';
  pair += encode_component(name);
  pair += '=';
  pair += encode_component(value);
  url.insert(end, pair);
  return *this;
}

}  // namespace boost_curl
