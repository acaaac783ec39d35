// What this process holds, read from /proc: for the tests and programs that check nothing
// leaks (descriptors, resident memory). Linux only.
#ifndef BOOST_CURL_TOOLS_ORIGIN_PROCESS_STATS_HPP
#define BOOST_CURL_TOOLS_ORIGIN_PROCESS_STATS_HPP

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>

#include <malloc.h>

namespace boost_curl::tools {

// A "Name:   N kB" line of /proc/self/status, in KiB (0 when absent).
inline std::size_t process_status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoul(line.substr(field.size() + 1));
  return 0;
}

inline std::size_t resident_kb() { return process_status_kb("VmRSS"); }
inline std::size_t peak_resident_kb() { return process_status_kb("VmHWM"); }

// Bytes the program holds from the allocator (glibc: in use in every arena, plus blocks
// mapped on their own), in KiB. Unlike resident memory it does not move when the allocator
// keeps freed pages or grows an arena, so a leak shows in it and fragmentation does not.
// Under a sanitizer runtime this is the runtime's allocator, not glibc's: meaningless there.
inline std::size_t heap_in_use_kb() {
  const struct mallinfo2 info = ::mallinfo2();
  return (info.uordblks + info.hblkhd) / 1024;
}

// Descriptors open in this process.
inline std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n - 1;  // the directory iterator's own
}

// Each open descriptor and what it is ("7 socket:[123]"), one per line: for failure messages.
inline std::string describe_descriptors() {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    out += entry.path().filename().string() + " " + (ec ? std::string("?") : target.string()) + "\n";
  }
  return out;
}

}  // namespace boost_curl::tools

#endif
