#!/usr/bin/env bash
# Instructions per request (valgrind --tool=callgrind: repeatable on a noisy machine) for
# bcurl-bench and the two libcurl anchors (curl_epoll_socket, curl_multi_poll), against the
# shared loopback nginx.
#   bench/callgrind.sh [PATH] [TOTAL] [CONCURRENCY...]     defaults: /100b 5000 1 32
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BOOST_CURL_SHARED:-$root/../shared}
client=${BUILD:-$root/build/release}/bench/bcurl-bench
path=${1:-/100b} total=${2:-5000}; shift 2 2>/dev/null || true
concs=("${@:-1 32}"); [ $# -eq 0 ] && concs=(1 32)
anchors=${ANCHOR_BUILD:-/tmp/bc-anchors}; mkdir -p "$anchors"
for a in curl_epoll_socket curl_multi_poll; do
  [ -x "$anchors/$a" ] || gcc -O2 -o "$anchors/$a" "$shared/bench/$a.c" -lcurl
done
origin=${ORIGIN_DIR:-/tmp/bc-nginx}
[ -f "$origin/nginx.pid" ] && kill -0 "$(cat "$origin/nginx.pid")" 2>/dev/null || "$shared/bench/origin.sh" start "$origin"
url="http://127.0.0.1:18080$path"
printf '%-20s %6s %14s\n' client conc instr/request
for conc in "${concs[@]}"; do
  for c in "$anchors/curl_epoll_socket" "$anchors/curl_multi_poll" "$client"; do
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$c" "$url" "$total" "$conc" 2>&1)
    ir=$(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    printf '%-20s %6s %14d\n' "$(basename "$c")" "$conc" $((ir / total))
  done
done
