cmake_minimum_required(VERSION 3.21)
# Turns every ```cpp block of doc/guide.md into a coroutine of one program that runs them all
# against the loopback origin (test guide_snippets): the guide's code compiles and works.
#   cmake -DGUIDE=doc/guide.md -DOUTPUT=guide_snippets.cpp -P extract_snippets.cmake
file(READ "${GUIDE}" text)
set(functions "")
set(calls "")
set(count 0)
while(TRUE)
  string(FIND "${text}" "```cpp\n" start)
  if(start EQUAL -1)
    break()
  endif()
  math(EXPR start "${start} + 7")
  string(SUBSTRING "${text}" ${start} -1 text)
  string(FIND "${text}" "```" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${GUIDE}: an unterminated ```cpp block")
  endif()
  string(SUBSTRING "${text}" 0 ${end} block)
  string(SUBSTRING "${text}" ${end} -1 text)
  math(EXPR count "${count} + 1")
  string(APPEND functions
    "asio::awaitable<void> snippet_${count}(boost_curl::session& s, asio::any_io_executor ex, std::string base) {\n"
    "  (void)s; (void)ex; (void)base;\n"
    "#line 1 \"guide.md snippet ${count}\"\n"
    "${block}"
    "  co_return;\n}\n\n")
  string(APPEND calls "  run(\"snippet ${count}\", snippet_${count});\n")
endwhile()
if(count EQUAL 0)
  message(FATAL_ERROR "${GUIDE}: no ```cpp block")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from doc/guide.md by test/guide/extract_snippets.cmake: do not edit.
#undef NDEBUG  // the snippets' asserts are their checks
#include <cassert>

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/json.hpp>

#include <array>
#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace http = boost_curl::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using namespace std::string_literals;

${functions}
int main() {
  boost_curl::tools::loopback_origin origin;
  asio::io_context ctx;
  int passed = 0, failed = 0;
  auto run = [&](const char* name, auto snippet) {
    boost_curl::session s(ctx);
    bool done = false;
    asio::co_spawn(ctx, snippet(s, ctx.get_executor(), origin.url(\"\")), [&](std::exception_ptr e) {
      done = true;
      try {
        if (e) std::rethrow_exception(e);
        ++passed;
      } catch (const std::exception& x) {
        std::cerr << name << \" FAILED: \" << x.what() << '\\n';
        ++failed;
      }
    });
    ctx.restart();
    ctx.run_for(std::chrono::seconds(20));
    if (!done) {
      std::cerr << name << \" did not finish\\n\";
      ++failed;
    }
  };
${calls}
  std::cout << \"guide snippets: \" << passed << \" passed, \" << failed << \" failed\\n\";
  return failed == 0 && passed == ${count} ? 0 : 1;
}
")
configure_file("${OUTPUT}.tmp" "${OUTPUT}" COPYONLY)  # rewritten only when it changed
