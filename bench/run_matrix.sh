#!/usr/bin/env bash
# Runs ../shared/bench/compare.sh over the matrix of bench/README.md and appends the tables to
# bench/results/<date>.md. Needs a Release build of bcurl-bench (BUILD=build/release by default).
#   [ROUNDS=N] [SCALE=K] [SECOND_NAME=name SECOND_ARGS="..."] bench/run_matrix.sh [quick]
#   quick: fewer requests and rounds, for a smoke check; SCALE=K divides the request counts by K;
#   the second client is bcurl-bench with SECOND_ARGS (default: boost_curl_session, --sessions 1).
#   /64k rows add the copying anchors (bench/copying_anchors.sh: libcurl copying each body byte
#   once, as keeping or reading a body must) and boost_curl_discard (--discard yes: a stream).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BOOST_CURL_SHARED:-$root/../shared}
build=${BUILD:-$root/build/release}
client="$build/bench/bcurl-bench"
[ -x "$client" ] || { echo "build bcurl-bench first: cmake --build $build --target bcurl-bench"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$root/bench/results"
out="$root/bench/results/$(date +%Y-%m-%d).md"
rounds=${ROUNDS:-3} scale=${SCALE:-1}
second_name=${SECOND_NAME:-boost_curl_session} second_args=${SECOND_ARGS:---sessions 1}
[ "${1:-}" = quick ] && rounds=1 scale=10
{ read -r epoll_copy; read -r multi_poll_copy; } < <(bash "$root/bench/copying_anchors.sh")
run() {  # scheme path conc total [extra compare args]
  local scheme=$1 path=$2 conc=$3 total=$(($4 / scale)) bodies=()
  [ "$path" = /64k ] && bodies=("epoll_copy=$epoll_copy" "multi_poll_copy=$multi_poll_copy"
    "boost_curl_discard=$client --discard yes")
  echo "### $scheme $path c=$conc n=$total" | tee -a "$out"
  echo '```' >>"$out"
  "$shared/bench/compare.sh" -r "$rounds" -n "$total" -c "$conc" -p "$path" -s "$scheme" \
    boost_curl="$client" "$second_name=$client $second_args" "${bodies[@]}" | tee -a "$out"
  echo '```' >>"$out"
}
echo "## $(date -u +%FT%TZ) $(uname -r) $(nproc) cores" >>"$out"
for scheme in http https; do
  for path in /100b /64k; do
    for conc in 1 32 1000; do
      n=100000; [ "$path" = /64k ] && n=50000; [ "$conc" = 1 ] && n=$((n / 5))
      run "$scheme" "$path" "$conc" "$n"
    done
  done
done
run http /100b 5000 50000
echo "results in $out"
