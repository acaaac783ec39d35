#!/usr/bin/env bash
# Builds bcurl-soak (Release, build/soak) and runs it; arguments go to the program
# (default: 2 000 000 requests, 1 000 in flight, 2 threads). The per-second figures and the
# verdict are also kept in build/soak.log. Exit status: the program's (0 PASS, 1 FAIL).
#   bash bench/soak.sh [--requests N] [--concurrency C] [--threads T] [--max-slope BYTES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build/soak" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOOST_CURL_BUILD_TESTS=OFF \
  -DBOOST_CURL_BUILD_EXAMPLES=OFF -DBOOST_CURL_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build/soak" --target bcurl-soak -j "$(nproc)" >/dev/null
"$root/build/soak/bench/bcurl-soak" "$@" | tee "$root/build/soak.log"
exit "${PIPESTATUS[0]}"
