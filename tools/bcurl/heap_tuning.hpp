#ifndef BCURL_HEAP_TUNING_HPP
#define BCURL_HEAP_TUNING_HPP

// glibc's heap, set for a load generator, which allocates and frees a response body at every
// request. By default glibc maps every block above 128 KiB afresh and unmaps it when freed, and
// gives the top of its heap back to the kernel at frees of 64 KiB or more while its trim
// threshold is 128 KiB: each body's pages are then faulted in again, request after request
// (bcurl-bench, 1 MiB bodies at c=32: 224 page faults and 1.0 ms of CPU per request; with
// these settings 2.5 and 0.33 ms, as much as bare libcurl discarding the body; bench/README.md,
// "The allocator"). The library leaves the process's allocator alone; bcurl is a program, and
// sets it for its load mode.

namespace bcurl {

// Blocks up to 32 MiB come from the heap and are reused; the heap keeps up to 64 MiB free at
// its top. Returns whether the allocator took both settings (false: not glibc).
bool keep_freed_memory_for_reuse() noexcept;

}  // namespace bcurl

#endif
