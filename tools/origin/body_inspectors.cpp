#include "body_inspectors.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace boost_curl::tools::detail {

struct sha256_digest::impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  impl() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw std::runtime_error("EVP sha256");
  }
  ~impl() { EVP_MD_CTX_free(ctx); }
};

sha256_digest::sha256_digest() : impl_(std::make_unique<impl>()) {}
sha256_digest::~sha256_digest() = default;
sha256_digest::sha256_digest(sha256_digest&&) noexcept = default;
sha256_digest& sha256_digest::operator=(sha256_digest&&) noexcept = default;

void sha256_digest::update(std::string_view bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
  size_ += bytes.size();
}

std::string sha256_digest::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  size_ = 0;
  return to_hex(md, n);
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of parameter `name` in "type; a=1; name="x"" (quoted or not), or empty.
std::string parameter(std::string_view header, std::string_view name) {
  const std::string low = lower(header);
  std::size_t at = 0;
  for (;;) {
    at = low.find(name, at);
    if (at == std::string::npos) return {};
    const bool starts = at == 0 || low[at - 1] == ';' || low[at - 1] == ' ';
    std::size_t eq = at + name.size();
    while (eq < low.size() && low[eq] == ' ') ++eq;
    if (starts && eq < low.size() && low[eq] == '=') {
      std::size_t v = eq + 1;
      while (v < header.size() && header[v] == ' ') ++v;
      if (v < header.size() && header[v] == '"') {
        std::string value;
        for (++v; v < header.size() && header[v] != '"'; ++v) {
          if (header[v] == '\\' && v + 1 < header.size()) ++v;
          value += header[v];
        }
        return value;
      }
      const std::size_t end = std::min(header.find(';', v), header.size());
      std::string_view value = header.substr(v, end - v);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
    at += name.size();
  }
}

}  // namespace

multipart_inspector::multipart_inspector(std::string_view content_type) {
  if (lower(content_type).rfind("multipart/form-data", 0) != 0) return;
  const std::string boundary = parameter(content_type, "boundary");
  if (!boundary.empty()) delimiter_ = "--" + boundary;
}

void multipart_inspector::update(std::string_view bytes) {
  if (!valid() || state_ == state::done) return;
  pending_.append(bytes.data(), bytes.size());
  run();
}

void multipart_inspector::start_part() {
  parts_.emplace_back();
  state_ = state::headers;
}

void multipart_inspector::header_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string name = lower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  part& p = parts_.back();
  if (name == "content-disposition") {
    p.name = parameter(value, "name");
    p.filename = parameter(value, "filename");
  } else if (name == "content-type") {
    p.content_type = std::string(value);
  }
}

void multipart_inspector::run() {
  for (;;) {
    switch (state_) {
      case state::preamble: {
        const std::size_t at = pending_.find(delimiter_);
        if (at == std::string::npos) {
          if (pending_.size() > delimiter_.size()) pending_.erase(0, pending_.size() - delimiter_.size());
          return;
        }
        pending_.erase(0, at + delimiter_.size());
        delimiter_ = "\r\n" + delimiter_;  // later delimiters follow a part's last CRLF
        state_ = state::after_delimiter;
        break;
      }
      case state::after_delimiter:
        if (pending_.size() < 2) return;
        if (pending_.compare(0, 2, "--") == 0) {
          state_ = state::done;
          pending_.clear();
          return;
        }
        if (pending_.compare(0, 2, "\r\n") != 0) {  // garbage: give up
          state_ = state::done;
          return;
        }
        pending_.erase(0, 2);
        start_part();
        break;
      case state::headers: {
        const std::size_t eol = pending_.find("\r\n");
        if (eol == std::string::npos) return;
        if (eol == 0) {
          pending_.erase(0, 2);
          state_ = state::body;
          break;
        }
        header_line(std::string_view(pending_).substr(0, eol));
        pending_.erase(0, eol + 2);
        break;
      }
      case state::body: {
        const std::size_t at = pending_.find(delimiter_);
        if (at == std::string::npos) {
          // All but what could be the start of a delimiter is body.
          if (pending_.size() > delimiter_.size()) {
            const std::size_t take = pending_.size() - delimiter_.size();
            digest_.update(std::string_view(pending_).substr(0, take));
            pending_.erase(0, take);
          }
          return;
        }
        digest_.update(std::string_view(pending_).substr(0, at));
        parts_.back().size = digest_.size();
        parts_.back().sha256 = digest_.hex();
        pending_.erase(0, at + delimiter_.size());
        state_ = state::after_delimiter;
        break;
      }
      case state::done:
        return;
    }
  }
}

std::string multipart_inspector::report() {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::string out;
  for (const part& p : parts_) {
    if (p.sha256.empty()) continue;  // unfinished
    out += "name=" + or_dash(p.name) + " filename=" + or_dash(p.filename) + " type=" + or_dash(p.content_type) +
           " size=" + std::to_string(p.size) + " sha256=" + p.sha256 + "\n";
  }
  out += state_ == state::done ? "complete\n" : "incomplete\n";
  return out;
}

}  // namespace boost_curl::tools::detail
