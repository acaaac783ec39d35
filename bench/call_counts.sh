#!/usr/bin/env bash
# libcurl calls and system calls per request of any client (call_counts.c, preloaded).
#   bench/call_counts.sh CLIENT URL TOTAL CONCURRENCY [client options...]
# e.g. bench/call_counts.sh build/release/bench/bcurl-bench http://127.0.0.1:18080/100b 20000 32
#      bench/call_counts.sh /tmp/bc-anchors/curl_epoll_socket http://127.0.0.1:18080/100b 20000 32
# Over HTTPS the anchors want BENCH_CAINFO=/tmp/bc-nginx/cert.pem and https://localhost:18443.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${CALL_COUNTS_BUILD:-/tmp/bc-anchors}/call_counts.so
mkdir -p "$(dirname "$lib")"
[ "$lib" -nt "$here/call_counts.c" ] || gcc -O2 -shared -fPIC -o "$lib" "$here/call_counts.c" -ldl
[ $# -ge 4 ] || { sed -n '2,5p' "$0"; exit 2; }
CALL_COUNTS_REQUESTS=$3 LD_PRELOAD=$lib "$@"
