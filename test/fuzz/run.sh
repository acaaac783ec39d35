#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers) and runs each for
# SECONDS (default 30), from the seed corpus in test/fuzz/corpus/<target>; new inputs go to a
# temporary directory, never into the repository. Crashes are kept in build/fuzz-crashes/ and
# fail the run (turn them into unit tests). Targets run side by side, one per core.
#   bash test/fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(response_headers cookie encoding to_curl fetch)
build=${BOOST_CURL_FUZZ_BUILD:-$root/build/ci-fuzz}
crashes=$root/build/fuzz-crashes
mkdir -p "$crashes"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DBOOST_CURL_SANITIZER=fuzz -DBOOST_CURL_BUILD_FUZZERS=ON -DBOOST_CURL_BUILD_TESTS=OFF \
  -DBOOST_CURL_BUILD_EXAMPLES=OFF -DBOOST_CURL_BUILD_TOOLS=OFF -DBOOST_CURL_BUILD_BENCH=OFF >"$build.configure.log" 2>&1 &&
  cmake --build "$build" -j "$(nproc)" >"$build.build.log" 2>&1 || { tail -40 "$build.configure.log" "$build.build.log"; exit 1; }
# fuzz_one TARGET: runs it, then writes its result line (and the end of its log on failure) to
# $build/fuzz_TARGET.result; exits non-zero if it failed.
fuzz_one() {
  local t=$1 work log status execs corpus
  work=$(mktemp -d)
  log=$build/fuzz_$t.log
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$build/test/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$crashes/${t}-" "$work" "$root/test/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  [ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
  corpus=$(ls "$work" | wc -l)
  rm -rf "$work"
  if [ $status -eq 0 ]; then
    echo "fuzz $t: ok, $execs executions in ${seconds} s, $corpus new inputs" >"$build/fuzz_$t.result"
  else
    { echo "fuzz $t: FAILED (status $status); crash inputs in $crashes"; tail -30 "$log"; } >"$build/fuzz_$t.result"
    return 1
  fi
}

# One target per core at a time (each libFuzzer run is single-threaded); results in order.
slots=$(nproc)
running=0
for t in "${targets[@]}"; do
  if [ $running -ge "$slots" ]; then
    wait -n
    running=$((running - 1))
  fi
  rm -f "$build/fuzz_$t.result"
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
failed=0
for t in "${targets[@]}"; do
  if [ -f "$build/fuzz_$t.result" ]; then
    cat "$build/fuzz_$t.result"
    grep -q '^fuzz [a-z_]*: ok' "$build/fuzz_$t.result" || failed=$((failed + 1))
  else
    echo "fuzz $t: FAILED (no result)"
    failed=$((failed + 1))
  fi
done
[ $failed -eq 0 ]
