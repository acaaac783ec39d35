#include <bcurl/heap_tuning.hpp>

#include <cstdlib>  // defines __GLIBC__ on glibc, which the check below needs

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bcurl {

bool keep_freed_memory_for_reuse() noexcept {
#if defined(__GLIBC__)
  // 32 MiB is the most M_MMAP_THRESHOLD takes on 64-bit glibc. Setting either turns glibc's
  // own adjustment of both off, so both are set.
  const bool mmap_set = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
  return mmap_set && trim_set;
#else
  return false;
#endif
}

}  // namespace bcurl
