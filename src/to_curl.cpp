#include <boost_curl/to_curl.hpp>

#include <cstdio>
#include <stdexcept>

namespace boost_curl {
namespace {

// 'x' with every ' written as '\'' : the shell passes every byte through (but NUL).
std::string quote(std::string_view s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  q += '\'';
  return q;
}

// printf's format for `s`, every byte octal-escaped where printf or the shell could read it.
std::string printf_format(std::string_view s) {
  std::string f;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b == '\\' || b == '%' || b == '\'' || b < 0x20 || b >= 0x7f) {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\%03o", b);
      f += esc;
    } else {
      f += c;
    }
  }
  return "printf '" + f + "'";
}

// curl -F syntax: a double-quoted word, with " and \ escaped.
std::string form_word(std::string_view s) {
  std::string w = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') w += '\\';
    w += c;
  }
  w += '"';
  return w;
}

std::string seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms.count() / 1000),
                static_cast<long long>(ms.count() % 1000));
  return buf;
}

// curl -F ";type=" ends at ';' or ',' (and takes no quotes).
std::string form_type(const std::string& type) {
  if (type.find_first_of(";,\"") != std::string::npos)
    throw std::invalid_argument("to_curl: a multipart content type holding ';', ',' or '\"' has no curl -F form");
  return ";type=" + type;
}

struct command {
  std::string line = "curl -q";  // -q: no .curlrc
  void add(std::string_view option) {
    line += ' ';
    line += option;
  }
  void add(std::string_view option, std::string_view value) {
    add(option);
    line += ' ';
    line += quote(value);
  }
};

}  // namespace

std::string to_curl(const request& r) {
  command cmd;
  std::string stdin_producer;  // a printf piped into curl, if any

  const bool multipart = r.multipart.has_value();
  const bool sends_body = multipart || !r.body.empty() || r.method == http::verb::post ||
                          r.method == http::verb::put || r.method == http::verb::patch;
  const std::string method = r.custom_method.empty() ? std::string(http::to_string(r.method)) : r.custom_method;
  if (r.method == http::verb::head && r.custom_method.empty())
    cmd.add("--head");
  else if (method != (sends_body ? "POST" : "GET"))
    cmd.add("--request", method);
  cmd.add("--url", r.url);

  // Fields as given; Cookie fields and the request's cookies in one --cookie.
  std::string cookie;
  bool user_agent = false;
  for (const auto& field : r.headers) {
    const std::string_view name = field.name_string(), value = field.value();
    if (field.name() == http::field::cookie) {
      if (value.empty()) continue;
      if (!cookie.empty()) cookie += "; ";
      cookie.append(value.data(), value.size());
      continue;
    }
    if (field.name() == http::field::user_agent) user_agent = true;
    std::string h(name.data(), name.size());
    if (value.empty())
      h += ';';
    else
      h.append(": ").append(value.data(), value.size());
    cmd.add("--header", h);
  }
  for (const auto& [name, value] : r.cookies) {
    if (!cookie.empty()) cookie += "; ";
    cookie += name + "=" + value;
  }
  if (!cookie.empty()) cmd.add("--cookie", cookie);
  // What the curl tool adds and async_fetch does not.
  if (!user_agent) cmd.add("--header", "User-Agent:");
  if (sends_body && r.headers.find(http::field::expect) == r.headers.end()) cmd.add("--header", "Expect:");
  if (sends_body && !multipart && r.headers.find(http::field::content_type) == r.headers.end())
    cmd.add("--header", "Content-Type:");

  if (multipart) {
    for (const multipart_form::part& p : r.multipart->parts()) {
      switch (p.what) {
        case multipart_form::part::kind::field:
          cmd.add("--form-string", p.name + "=" + p.value);
          if (!p.content_type.empty())
            throw std::invalid_argument("to_curl: a typed multipart field has no curl --form-string form");
          break;
        case multipart_form::part::kind::file: {
          std::string spec = p.name + "=@" + form_word(p.path.string());
          if (!p.content_type.empty()) spec += form_type(p.content_type);
          cmd.add("--form", spec);
          break;
        }
        case multipart_form::part::kind::data: {
          if (!stdin_producer.empty())
            throw std::invalid_argument("to_curl: more than one in-memory multipart file part");
          stdin_producer = printf_format(p.value);
          std::string spec = p.name + "=@-;filename=" + form_word(p.filename);
          if (!p.content_type.empty()) spec += form_type(p.content_type);
          cmd.add("--form", spec);
          break;
        }
      }
    }
  } else if (sends_body) {
    if (r.body.find('\0') == std::string::npos) {
      cmd.add("--data-binary", r.body);
    } else {
      stdin_producer = printf_format(r.body);
      cmd.add("--data-binary", "@-");
    }
  }

  if (r.auth) {
    const authentication& a = *r.auth;
    if (a.kind() == authentication::scheme::bearer) {
      cmd.add("--oauth2-bearer", a.secret());
    } else {
      if (a.user().find(':') != std::string::npos)
        throw std::invalid_argument("to_curl: a user name holding ':' has no curl --user form");
      cmd.add(a.kind() == authentication::scheme::basic    ? "--basic"
              : a.kind() == authentication::scheme::digest ? "--digest"
                                                           : "--anyauth");
      cmd.add("--user", a.user() + ":" + a.secret());
    }
  }

  switch (r.version) {
    case http_version::http1_0: cmd.add("--http1.0"); break;
    case http_version::http1_1: cmd.add("--http1.1"); break;
    case http_version::http2: cmd.add("--http2"); break;
    case http_version::http2_prior_knowledge: cmd.add("--http2-prior-knowledge"); break;
    case http_version::http2_tls:
    case http_version::default_version: break;  // the tool's default, as libcurl's
  }
  if (!r.verify_peer || !r.verify_host) cmd.add("--insecure");  // the tool has no separate switch
  if (!r.ca_file.empty()) cmd.add("--cacert", r.ca_file);
  cmd.add("--proto", "=" + r.protocols);
  if (r.follow_redirects) {
    cmd.add("--location");
    cmd.add("--proto-redir", "=" + r.protocols);
    cmd.add("--max-redirs", std::to_string(r.max_redirects));
  }
  if (r.timeout.count() > 0) cmd.add("--max-time", seconds(r.timeout));
  if (r.connect_timeout.count() > 0) cmd.add("--connect-timeout", seconds(r.connect_timeout));
  if (r.decompress) cmd.add("--compressed");
  if (!r.proxy.empty()) cmd.add("--proxy", r.proxy);
  if (!r.unix_socket_path.empty()) cmd.add("--unix-socket", r.unix_socket_path);

  return stdin_producer.empty() ? cmd.line : stdin_producer + " | " + cmd.line;
}

}  // namespace boost_curl
