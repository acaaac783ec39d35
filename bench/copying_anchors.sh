#!/usr/bin/env bash
# Builds the two libcurl anchors of ../shared/bench with a write callback that copies every body
# byte once (into a static 8 MiB area, no allocation) instead of discarding it:
# curl_epoll_socket_copy and curl_multi_poll_copy, beside the anchors in $ANCHOR_BUILD
# (/tmp/bc-anchors). A client that keeps bodies (response::body) or reads them into the reader's
# buffer (boost_curl::stream) must copy each byte at least once; these anchors price that copy,
# so a body row can be read as "the engine" against "libcurl doing the same copy".
#   bench/copying_anchors.sh            prints the two paths it built
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BOOST_CURL_SHARED:-$root/../shared}
out=${ANCHOR_BUILD:-/tmp/bc-anchors}; mkdir -p "$out"
discard='(void)p; \*(size_t \*)u += s \* n; return s \* n;'
copy='static char copy_to[8 << 20]; size_t at = *(size_t *)u % ((8 << 20) - (1 << 20)); memcpy(copy_to + at, p, s * n); *(size_t *)u += s * n; return s * n;'
for anchor in curl_epoll_socket curl_multi_poll; do
  src="$shared/bench/$anchor.c" bin="$out/${anchor}_copy"
  [ "$bin" -nt "$src" ] && [ "$bin" -nt "$0" ] && { echo "$bin"; continue; }
  # The substitution must hit the anchor's one-line sink, or the "copy" anchor would copy nothing.
  grep -q "$discard" "$src" || { echo "$src: write callback not found; update $0" >&2; exit 1; }
  { echo '#include <string.h>'; sed -e "s|$discard|$copy|" "$src"; } | gcc -O2 -x c -o "$bin" - -lcurl
  echo "$bin"
done
