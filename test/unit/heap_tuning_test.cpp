// bcurl's heap settings (tools/bcurl/heap_tuning.hpp): a large body comes from the heap once
// they are set, not from a mapping of its own (glibc's default above 128 KiB; its own
// adjustment raises that only after freeing a mapped block at least as large, which nothing in
// this program allocates: 16 MiB).
#include <bcurl/heap_tuning.hpp>

#include "test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

BOOST_AUTO_TEST_SUITE(bcurl_heap_tuning)

BOOST_AUTO_TEST_CASE(a_large_body_comes_from_the_heap) {
#if defined(__GLIBC__)
  if (boost_curl::test::sanitized) return;  // the sanitizers' allocators are not glibc's
  BOOST_TEST_REQUIRE(bcurl::keep_freed_memory_for_reuse());
  const std::size_t mapped_before = mallinfo2().hblks;
  const std::unique_ptr<char[]> body(new char[std::size_t(16) << 20]);
  body[0] = 1;
  BOOST_TEST(mallinfo2().hblks == mapped_before);
#endif
}

BOOST_AUTO_TEST_SUITE_END()
