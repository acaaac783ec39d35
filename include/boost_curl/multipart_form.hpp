#ifndef BOOST_CURL_MULTIPART_FORM_HPP
#define BOOST_CURL_MULTIPART_FORM_HPP

#include <boost_curl/config.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace boost_curl {

/** A `multipart/form-data` body (`request::set_multipart`), sent through libcurl's MIME API.

    Files are read while the request is sent, never loaded whole; a file that is missing or
    unreadable makes the fetch complete with an error (never a throw from async_fetch).
    Content types default to libcurl's: `text/plain` for fields, guessed from the file name
    for files (`application/octet-stream` otherwise).
*/
class multipart_form {
 public:
  struct part {
    enum class kind { field, file, data };
    kind what;
    std::string name;
    std::string value;          ///< field: the value; data: the content
    std::filesystem::path path; ///< file: where to read it from
    std::string filename;       ///< data: the file name announced; file: empty = the path's name
    std::string content_type;   ///< empty = libcurl's default
  };

  /// A plain form field.
  multipart_form& add_field(std::string name, std::string value) {
    parts_.push_back({part::kind::field, std::move(name), std::move(value), {}, {}, {}});
    return *this;
  }
  /// A file read from disk while sending.
  multipart_form& add_file(std::string name, std::filesystem::path path, std::string content_type = {}) {
    parts_.push_back({part::kind::file, std::move(name), {}, std::move(path), {}, std::move(content_type)});
    return *this;
  }
  /// A file part whose content is in memory.
  multipart_form& add_data(std::string name, std::string filename, std::string data, std::string content_type = {}) {
    parts_.push_back({part::kind::data, std::move(name), std::move(data), {}, std::move(filename), std::move(content_type)});
    return *this;
  }

  const std::vector<part>& parts() const noexcept { return parts_; }
  bool empty() const noexcept { return parts_.empty(); }

 private:
  std::vector<part> parts_;
};

}  // namespace boost_curl

#endif
