#include "http_auth.hpp"

#include "body_inspectors.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <map>

namespace boost_curl::tools::detail {
namespace {

bool starts_with_scheme(std::string_view& value, std::string_view scheme) {
  if (value.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
      return false;
  if (value[scheme.size()] != ' ') return false;
  value.remove_prefix(scheme.size() + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return true;
}

std::string base64_decode(std::string_view in) {
  std::string out(in.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return {};
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

std::string md5_hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_md5(), nullptr);
  return to_hex(md, n);
}

// key="value" or key=value pairs, separated by commas.
std::map<std::string, std::string> digest_fields(std::string_view s) {
  std::map<std::string, std::string> fields;
  while (!s.empty()) {
    while (!s.empty() && (s.front() == ' ' || s.front() == ',')) s.remove_prefix(1);
    const std::size_t eq = s.find('=');
    if (eq == std::string_view::npos) break;
    std::string key(s.substr(0, eq));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s.remove_prefix(eq + 1);
    std::string value;
    if (!s.empty() && s.front() == '"') {
      s.remove_prefix(1);
      while (!s.empty() && s.front() != '"') {
        if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
        value += s.front();
        s.remove_prefix(1);
      }
      if (!s.empty()) s.remove_prefix(1);
    } else {
      const std::size_t end = std::min(s.find(','), s.size());
      value = std::string(s.substr(0, end));
      s.remove_prefix(end);
    }
    fields[key] = value;
  }
  return fields;
}

}  // namespace

bool basic_matches(std::string_view authorization, std::string_view user, std::string_view password) {
  if (!starts_with_scheme(authorization, "Basic")) return false;
  return base64_decode(authorization) == std::string(user) + ":" + std::string(password);
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  return starts_with_scheme(authorization, "Bearer") && authorization == token;
}

std::string digest_challenge() {
  return "Digest realm=\"" + std::string(digest_realm) + "\", qop=\"auth\", algorithm=MD5, nonce=\"" +
         std::string(digest_nonce) + "\"";
}

bool digest_matches(std::string_view authorization, std::string_view method, std::string_view user,
                    std::string_view password) {
  if (!starts_with_scheme(authorization, "Digest")) return false;
  auto f = digest_fields(authorization);
  if (f["username"] != user || f["realm"] != digest_realm || f["nonce"] != digest_nonce) return false;
  const std::string ha1 = md5_hex(std::string(user) + ":" + std::string(digest_realm) + ":" + std::string(password));
  const std::string ha2 = md5_hex(std::string(method) + ":" + f["uri"]);
  const std::string expected =
      f["qop"].empty() ? md5_hex(ha1 + ":" + std::string(digest_nonce) + ":" + ha2)
                       : md5_hex(ha1 + ":" + std::string(digest_nonce) + ":" + f["nc"] + ":" + f["cnonce"] + ":" +
                                 f["qop"] + ":" + ha2);
  return f["response"] == expected;
}

}  // namespace boost_curl::tools::detail
