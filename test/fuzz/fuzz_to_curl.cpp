// libFuzzer target: to_curl quoting. Splitting the line as a POSIX shell would (single quotes,
// the '\'' idiom, blanks between words) gives back every value byte for byte; values holding
// what no curl command can say are refused with std::invalid_argument, nothing else is thrown.
#include <boost_curl/to_curl.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The words of a command line written with single quotes only (what to_curl writes).
std::vector<std::string> shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\'') quoted = false;
      else word += c;
    } else if (c == '\'') {
      quoted = in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quoted) std::abort();  // an unterminated quote
  if (in_word) words.push_back(word);
  return words;
}

// A field value as sent: without the blanks around it (they are not part of the value).
std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool has(const std::vector<std::string>& words, const std::string& w) {
  for (const auto& x : words)
    if (x == w) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  // NUL has no place in an argument; CR/LF in fields async_fetch refuses anyway.
  for (char& c : in)
    if (c == '\0' || c == '\r' || c == '\n') c = 'x';
  const std::size_t third = in.size() / 3;
  boost_curl::request r(boost_curl::http::verb::post, "http://h/" + in.substr(0, third));
  r.headers.set("X-Fuzz", in.substr(third, third));
  r.body = in.substr(2 * third);
  r.auth = boost_curl::authentication::bearer(in.substr(third, third));
  std::string line;
  try {
    line = boost_curl::to_curl(r);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const auto words = shell_words(line);
  if (words.empty() || words[0] != "curl") std::abort();
  if (!has(words, "http://h/" + in.substr(0, third))) std::abort();
  const std::string value = trimmed(in.substr(third, third));
  if (!has(words, value.empty() ? std::string("X-Fuzz;") : "X-Fuzz: " + value)) std::abort();
  if (!has(words, r.body)) std::abort();
  if (!has(words, in.substr(third, third))) std::abort();  // the bearer token
  return 0;
}
